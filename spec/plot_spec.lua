-- ab.plot drives gnuplot: the SVG and PNG exist and carry every series;
-- gnuplot missing or failing is reported, misuse raised.
local ab = require "alignbound"
local helper = require "helper"
local raises = helper.raises

local slurp = helper.slurp

describe("plot", function()
  local path
  before_each(function() path = os.tmpname() end)
  after_each(function() for _, e in ipairs { "", ".svg", ".png" } do os.remove(path .. e) end end)

  it("writes an SVG and a PNG with every series, its title and labels", function()
    local files = assert(ab.plot { path = path, title = "gain against KL", xlabel = "KL (nats)", ylabel = "gain",
      logx = true, logy = true, series = {
        { x = { 0.1, 1, 10 }, y = { 0.44, 1.41, 4.47 }, title = "sqrt(2 KL)" },
        { x = ab.vector { 0.1, 1, 10 }, y = { 0.4, 1.2, 3 }, err = { 0.05, 0.1, 0.2 }, title = "a_b estimate" },
        { x = { 0.1, 10 }, y = { 1, 1 }, style = "lines", title = "it's flat" },
      } })
    assert.are.same({ path .. ".svg", path .. ".png" }, files)
    local svg = assert(slurp(path .. ".svg"))
    for _, t in ipairs { "sqrt(2 KL)", "a_b estimate", "it's flat", "gain against KL", "KL (nats)" } do
      assert.truthy(svg:find(">" .. t .. "<", 1, true), t)
    end
    for i = 1, 3 do assert.truthy(svg:find('id="gnuplot_plot_' .. i .. '"', 1, true), "series " .. i) end
    assert.is_nil(svg:find('id="gnuplot_plot_4"', 1, true))
    -- each series draws a path after its group opens
    for i = 1, 3 do
      local at = svg:find('id="gnuplot_plot_' .. i .. '"', 1, true)
      assert.truthy(svg:find("<path", at, true))
    end
    local png = assert(slurp(path .. ".png"))
    assert.are.equal("\137PNG\r\n\26\n", png:sub(1, 8))
    assert.is_true(#png > 1000)
  end)

  it("writes only the formats asked for, and skips missing values", function()
    local files = assert(ab.plot { path = path, formats = { "svg" },
      series = { { x = { 1, 2, 3 }, y = { 1, 0 / 0, 3 }, title = "gap" } } })
    assert.are.same({ path .. ".svg" }, files)
    assert.is_nil(slurp(path .. ".png"))
  end)

  it("says when gnuplot is missing or fails", function()
    local ok, msg = ab.plot { path = path, gnuplot = "/nonexistent/gnuplot", series = { { x = { 1 }, y = { 1 } } } }
    assert.is_nil(ok)
    assert.are.equal("plot: /nonexistent/gnuplot not found; install gnuplot-nox", msg)
    -- a missing directory is found before gnuplot runs: one plain line, as write_csv's
    ok, msg = ab.plot { path = "/nonexistent-dir/fig", series = { { x = { 1 }, y = { 1 } } } }
    assert.is_nil(ok)
    assert.are.equal("plot: cannot write /nonexistent-dir/fig.svg: No such file or directory", msg)
    -- gnuplot's own failure keeps its stderr ('false' runs and fails)
    ok, msg = ab.plot { path = path, gnuplot = "false", series = { { x = { 1 }, y = { 1 } } } }
    assert.is_nil(ok)
    assert.truthy(msg:find("plot: gnuplot failed", 1, true), msg)
  end)

  it("raises on misuse, naming plot and the field", function()
    raises(function() ab.plot { path = path, series = {} } end, "plot", "series must be a non-empty array")
    raises(function() ab.plot { series = { { x = { 1 }, y = { 1 } } } } end, "plot", "path")
    raises(function() ab.plot { path = path, series = { { x = { 1, 2 }, y = { 1 } } } } end,
      "plot", "series[1]", "differ in length")
    raises(function() ab.plot { path = path, series = { { x = { 1 }, y = { 1 }, err = { 1, 2 } } } } end,
      "plot", "series[1]", "differ in length")
    raises(function() ab.plot { path = path, series = { { x = {}, y = {} } } } end, "plot", "series[1].x is empty")
    raises(function() ab.plot { path = path, colour = 1, series = { { x = { 1 }, y = { 1 } } } } end,
      "plot", "unknown option 'colour'")
    -- a misspelt option lists the right ones, as the C functions do
    raises(function() ab.plot { path = path, xlable = "x", series = { { x = { 1 }, y = { 1 } } } } end,
      "plot", "unknown option 'xlable' (expected path, series, title, xlabel,")
    raises(function() ab.plot { path = path, series = { { x = { 1 }, y = { 1 }, colour = 1 } } } end,
      "plot", "series[1]: unknown option 'colour' (expected x, y, err, title, style)")
    raises(function() ab.plot { path = path, series = { { x = { 1 }, y = { 1 }, style = "bars" } } } end,
      "plot", "series[1].style")
    raises(function() ab.plot { path = path, series = { { x = { 1 }, y = { 1 } } }, formats = { "pdf" } } end,
      "plot", "formats")
  end)
end)

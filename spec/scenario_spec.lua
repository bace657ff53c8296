-- Scenarios: composition of a reference or joint model, a policy family,
-- divergences, error models and golden tails into rows; their table, CSV,
-- figure and peak; and clear errors for parts that do not fit.
local ab = require "alignbound"
local helper = require "helper"
local close, raises = helper.close, helper.raises

local function bon_kl(n) return math.log(n) - (n - 1) / n end

-- A joint model written here, following the ab.joint interface: proxy
-- N(0, 1); best-of-n on it gains E max of n normals (ab.bon.expected_gain);
-- the golden gain is sqrt(2 KL) - KL / 2 in d = sqrt(KL): d (sqrt 2 - d/2),
-- which peaks at d = sqrt 2, i.e. KL = 2.  Its tilt gains l with KL l^2/2.
local function mock_joint()
  local law = ab.tail.gaussian { sd = 1 }
  local calls = {}
  return {
    calls = calls,
    proxy_law = function() return law end,
    bon = function(_, n, mc)
      calls[#calls + 1] = { n = n, mc = mc }
      local kl = bon_kl(n)
      return { proxy_gain = ab.bon.expected_gain(law, n), gold_gain = math.sqrt(2 * kl) - kl / 2, exact = true }
    end,
    tilt = function(_, l)
      return { proxy_gain = l, gold_gain = 0.5 * l, kl = l * l / 2, exact = true }
    end,
  }
end

-- An error model |e| <= eps through total variation, following ab.error.
local function mock_error(eps)
  return setmetatable({ uses = { "tv", "kl" } }, { __index = {
    golden = function(_, g, div)
      assert(div.tv, "tv expected")
      return g - 2 * eps * div.tv, g + 2 * eps * div.tv, "tv"
    end,
  }, __tostring = function() return "mock_error(eps=" .. eps .. ")" end })
end

describe("scenario parts", function()
  local g = ab.tail.gaussian { sd = 1 }
  local bon = ab.policy.best_of_n { n = { 1, 2 } }

  it("names a missing or conflicting part", function()
    raises(function() ab.scenario { reference = g, joint = mock_joint(), policy = bon } end,
      "scenario", "give reference= or joint=, not both")
    raises(function() ab.scenario { policy = bon } end, "scenario", "give reference= or joint=")
    raises(function() ab.scenario { reference = g } end, "scenario", "policy= is missing")
    raises(function() ab.scenario { reference = g, policy = { n = 2 } } end, "scenario",
      "policy= must be a policy family")
    raises(function() ab.scenario { reference = 3, policy = bon } end, "scenario", "reference= must be a tail")
    raises(function() ab.scenario { joint = {}, policy = bon } end, "scenario", "joint=", "lacks :bon()")
    raises(function() ab.scenario { reference = g, policy = bon, golden = 1 } end, "scenario", "golden=")
    raises(function() ab.scenario { reference = g, policy = bon, error = {} } end, "scenario", "error=")
    raises(function() ab.scenario "x" end, "scenario", "table expected")
  end)

  it("rejects unknown fields everywhere", function()
    raises(function() ab.scenario { reference = g, policy = bon, refrence = g } end, "scenario",
      "unknown field 'refrence'")
    raises(function() ab.scenario { reference = g, policy = bon, monte_carlo = { draws = 10, seeds = 1 } } end,
      "scenario", "monte_carlo", "unknown field 'seeds'")
    raises(function() ab.scenario { reference = g, policy = bon, divergences = { { "renyi", alpha = 2, a = 1 } } } end,
      "scenario", "divergences[1]", "unknown option 'a'")
    raises(function() ab.scenario { reference = { values = { 1 }, probs = { 1 }, p = 1 }, policy = bon } end,
      "scenario", "reference", "unknown field 'p'")
    raises(function() ab.scenario { reference = { values = { 1, 2 }, probs = { 1 } }, policy = bon } end,
      "bad argument #1 to 'scenario' (reference:", "differ in length")
  end)

  it("checks divergences and Monte Carlo settings", function()
    raises(function() ab.scenario { reference = g, policy = bon, divergences = { "kll" } } end,
      "scenario", "divergences[1]", "unknown family 'kll'")
    raises(function() ab.scenario { reference = g, policy = bon, divergences = { "kl", "renyi" } } end,
      "scenario", "divergences[2]", "renyi needs alpha=")
    raises(function() ab.scenario { reference = g, policy = bon, divergences = { { "renyi", alpha = -1 } } } end,
      "scenario", "divergences[1]", "(0, inf]")
    raises(function() ab.scenario { reference = g, policy = bon, divergences = { { "chi2", alpha = 2 } } } end,
      "scenario", "divergences[1]", "chi2 takes no alpha")
    raises(function() ab.scenario { reference = g, policy = bon, monte_carlo = { draws = 1.5 } } end,
      "scenario", "monte_carlo.draws")
    raises(function() ab.scenario { reference = g, policy = bon, monte_carlo = { draws = 10, seed = 0.5 } } end,
      "scenario", "monte_carlo.seed")
    raises(function()
      ab.scenario { reference = ab.tail.subgaussian { sigma = 1 }, policy = bon, monte_carlo = { draws = 10 } }
    end, "scenario", "monte_carlo= needs an exact or finite reference law")
  end)
end)

describe("finite laws remembered for scenarios", function()
  it("still report a bad constructor call at the caller's line", function()
    for _, code in ipairs {
      "ab.tail.discrete{values={1,2}, probs={1}}", "ab.tail.empirical{}", "ab.tail.bernoulli{p=2}" } do
      local chunk = assert(load("local ab = require 'alignbound'\n" .. code, "=caller"))
      local ok, err = pcall(chunk)
      assert.is_false(ok)
      assert.truthy(err:find("^caller:2: bad argument #1 to '"), err)
    end
  end)
end)

describe("scenario rows", function()
  it("hold the parameter, the KL, each divergence and the gains", function()
    local ns = { 1, 8, 64 }
    local s = ab.scenario { reference = ab.tail.uniform { lo = 0, hi = 2 }, policy = ab.policy.best_of_n { n = ns },
      divergences = { "kl", "hellinger", { "renyi", alpha = 2, name = "d2" } },
      golden = ab.tail.subgaussian { sigma = 0.5 } }
    local r = s:run()
    assert.are.equal(3, #r)
    for i, n in ipairs(ns) do
      assert.are.equal(n, r[i].n)
      assert.are.equal("best_of_n", r[i].policy)
      close(r[i].kl + 1e-300, bon_kl(n) + 1e-300, 1e-13, "kl")
      assert.are.equal(r[i].kl, r[i].kl)
      close(r[i].hellinger + 1e-300, (math.sqrt(n) - 1) ^ 2 / (n + 1) + 1e-300, 1e-13, "hellinger")
      close(r[i].d2 + 1e-300, math.log((n - 1) ^ 2 / (2 * n - 1) + 1) + 1e-300, 1e-12, "renyi(2) = log(1 + chi2)")
      close(r[i].proxy_gain + 1e-300, 2 * (n / (n + 1) - 0.5) + 1e-300, 1e-12, "uniform on [0, 2]")
      close(r[i].gold_bound + 1e-300, 0.5 * math.sqrt(2 * bon_kl(n)) + 1e-300, 1e-13, "golden bound")
    end
    assert.are.equal(r, s.rows)
  end)

  it("pass a joint model's golden gain through and find its peak over n", function()
    local ns = {}
    for k = 0, 14 do ns[#ns + 1] = 2 ^ k end
    local j = mock_joint()
    local s = ab.scenario { joint = j, policy = ab.policy.best_of_n { n = ns } }
    local r = s:run()
    local best, bi = -math.huge, nil
    for i, n in ipairs(ns) do
      local kl = bon_kl(n)
      close(r[i].gold_gain + 1e-300, math.sqrt(2 * kl) - kl / 2 + 1e-300, 1e-13, "gold")
      assert.are.equal("exact", r[i].gold_kind)
      if r[i].gold_gain > best then best, bi = r[i].gold_gain, i end
    end
    local p = s:peak()
    assert.are.equal(bi, p.index)
    assert.are.equal(ns[bi], p.value)
    assert.are.equal("n", p.param)
    assert.is_true(p.interior)
    -- the peak sits next to KL = 2 (d* = sqrt 2): between its grid neighbours
    assert.is_true(bon_kl(ns[bi - 1]) < 2 and bon_kl(ns[bi + 1]) > 2)
  end)

  it("run on the library's joint models: Gaussian exact, logged pairs with ties, additive by Monte Carlo", function()
    local ns = { 1, 4, 64 }
    local r = ab.scenario { joint = ab.joint.gaussian { rho = 0.3, sd_proxy = 2, sd_gold = 5 },
      policy = ab.policy.best_of_n { n = ns } }:run()
    for i, n in ipairs(ns) do
      -- E max of n standard normals, by the library's exact law, times sd_proxy
      local e = ab.bon.expected_gain(ab.tail.gaussian { sd = 1 }, n)
      close(r[i].proxy_gain + 1e-300, 2 * e + 1e-300, 1e-12, "proxy")
      close(r[i].gold_gain + 1e-300, 0.3 * 5 * e + 1e-300, 1e-12, "gold = rho sd_gold / sd_proxy proxy")
    end
    -- logged pairs with a tie at the top proxy score: the KL of the exact law
    r = ab.scenario { joint = ab.joint.samples { proxy = { 0, 1, 1 }, gold = { 0, 3, 1 } },
      policy = ab.policy.best_of_n { n = { 2 } } }:run()
    local top = 1 - (1 / 3) ^ 2 -- P(best proxy = 1), shared by the two tied pairs
    close(r[1].kl, top * math.log(top / (2 / 3)) + (1 / 9) * math.log((1 / 9) / (1 / 3)), 1e-13, "kl with ties")
    assert.is_true(r[1].kl_exact)
    close(r[1].gold_gain, top * 2 - 4 / 3, 1e-13, "gold: the tie shares its golds")
    -- proxy = gold + independent N(0, 1) error, gold N(0, 1): jointly Gaussian with
    -- rho = 1/sqrt 2, so selecting on the proxy moves gold by half the proxy
    local s = ab.scenario { joint = ab.joint.additive { gold = ab.tail.gaussian { sd = 1 },
      error = ab.tail.gaussian { sd = 1 } }, policy = ab.policy.best_of_n { n = { 8 } },
      monte_carlo = { draws = 20000, seed = 11 } }
    r = s:run()
    local e8 = math.sqrt(2) * ab.bon.expected_gain(ab.tail.gaussian { sd = 1 }, 8)
    assert.are.equal("mc", r[1].gold_kind)
    assert.is_true(math.abs(r[1].proxy_gain - e8) < 5 * r[1].proxy_se)
    assert.is_true(math.abs(r[1].gold_gain - e8 / 2) < 5 * r[1].gold_se)
  end)

  it("runs kl_budget on a joint model through its own solve for the budget (joint:tilt_kl)", function()
    -- gold = 4 - proxy: every golden gain is minus the proxy gain
    local r = ab.scenario { joint = ab.joint.samples { proxy = { 1, 2, 3 }, gold = { 3, 2, 1 } },
      policy = ab.policy.kl_budget { kl = { 0.1, 0.5 } } }:run()
    for i, kl in ipairs { 0.1, 0.5 } do
      close(r[i].kl, kl, 1e-10, "kl")
      close(r[i].gold_gain, -r[i].proxy_gain, 1e-13, "gold")
      assert.is_true(r[i].lambda > 0)
    end
    -- proxy = gold + N(0, 1) error: the tilt moves the gold by half the proxy, proxy gain sqrt 2 sqrt(2 KL)
    local additive = ab.joint.additive { gold = ab.tail.gaussian { sd = 1 }, error = ab.tail.gaussian { sd = 1 } }
    r = ab.scenario { joint = additive, policy = ab.policy.kl_budget { kl = { 0.5 } },
      monte_carlo = { draws = 20000, seed = 3 } }:run()
    assert.is_true(math.abs(r[1].proxy_gain - math.sqrt(2)) < 5 * r[1].proxy_se)
    assert.is_true(math.abs(r[1].gold_gain - math.sqrt(2) / 2) < 5 * r[1].gold_se)
  end)

  it("runs a tilt family on a joint model through joint:tilt(lambda)", function()
    local r = ab.scenario { joint = mock_joint(), policy = ab.policy.kl_budget { kl = { 0.5, 2 } } }:run()
    close(r[2].lambda, 2, 1e-10, "lambda of a standard normal at KL 2")
    close(r[2].kl, 2, 1e-10, "kl")
    close(r[2].gold_gain, 1, 1e-10, "gold")
  end)

  it("give the error model's golden interval from the divergences it uses", function()
    local ns = { 1, 4, 100 }
    local r = ab.scenario { reference = ab.tail.gaussian { sd = 1 }, policy = ab.policy.best_of_n { n = ns },
      error = mock_error(0.1) }:run()
    for i, n in ipairs(ns) do
      local tv = n == 1 and 0 or (1 - 1 / n) * n ^ (-1 / (n - 1))
      close(r[i].gold_lo + 1e-300, r[i].proxy_gain - 0.2 * tv + 1e-300, 1e-12, "lo")
      close(r[i].gold_hi + 1e-300, r[i].proxy_gain + 0.2 * tv + 1e-300, 1e-12, "hi")
      assert.are.equal("tv", r[i].gold_route)
      assert.is_nil(r[i].tv) -- used, not requested: not a column
    end
    local p = ab.scenario { reference = ab.tail.gaussian { sd = 1 }, policy = ab.policy.best_of_n { n = ns },
      error = mock_error(0.1) }:peak()
    assert.are.equal("gold_lo", p.column)
    assert.are.equal(100, p.value)
  end)

  it("add the Renyi refinement with the aligned tail of each parameter, between the exact gain and the KL bound",
    function()
      local seen = {}
      local uniform = ab.tail.uniform { lo = 0, hi = 1 }
      local r = ab.scenario { reference = uniform, policy = ab.policy.best_of_n { n = { 2, 16, 256 } },
        aligned = function(n) seen[#seen + 1] = n; return ab.tail.beta { a = n, b = 1 } end }:run()
      assert.are.same({ 2, 16, 256 }, seen)
      for _, row in ipairs(r) do
        local kl_bound = math.sqrt(2 / 12 * row.kl) -- the uniform's variance proxy is 1/12
        assert.is_true(row.renyi_bound >= row.proxy_exact, "never below the exact gain")
        assert.is_true(row.renyi_bound <= kl_bound * (1 + 1e-12), "at most the KL bound")
        assert.is_true(row.renyi_alpha > 0 and row.renyi_alpha <= 1)
      end
      assert.is_true(r[3].renyi_bound < 0.8 * math.sqrt(2 / 12 * r[3].kl)) -- strictly better at n = 256
      raises(function()
        ab.scenario { reference = uniform, policy = ab.policy.best_of_n { n = { 2 } }, aligned = 3 }
      end, "scenario", "aligned=")
    end)

  it("give the library's error models what a tilt has (no tv for a continuous law) and take their route", function()
    local r = ab.scenario { reference = ab.tail.gaussian { sd = 1 }, policy = ab.policy.kl_budget { kl = { 0.5 } },
      error = ab.error.bounded { eps = 0.1 } }:run()
    -- Pinsker: 2 eps sqrt(KL/2) = 0.1 beats the chi2 route eps sqrt(e^{2 KL} - 1) = 0.131
    close(r[1].gold_lo, 1 - 0.1, 1e-12, "lo")
    close(r[1].gold_hi, 1 + 0.1, 1e-12, "hi")
    assert.are.equal("kl", r[1].gold_route)
    r = ab.scenario { reference = ab.tail.gaussian { sd = 1 }, policy = ab.policy.kl_budget { kl = { 0.5 } },
      error = ab.error.variance { var = 0.25 } }:run()
    close(r[1].gold_lo, 1 - 0.5 * math.sqrt(math.exp(1) - 1), 1e-12, "chi2 route: sqrt(var chi2)")
  end)

  it("are reproducible at a fixed seed and differ across seeds", function()
    local function run(seed)
      return ab.scenario { reference = ab.tail.gaussian { sd = 1 }, policy = ab.policy.best_of_n { n = { 4 } },
        monte_carlo = { draws = 1000, seed = seed } }:run()[1].proxy_mc
    end
    assert.are.equal(run(5), run(5))
    assert.are_not.equal(run(5), run(6))
  end)

  it("has no peak without a golden gain", function()
    raises(function()
      ab.scenario { reference = ab.tail.gaussian { sd = 1 }, policy = ab.policy.best_of_n { n = { 2 } } }:peak()
    end, "scenario:peak", "give joint= or error=")
  end)
end)

describe("scenario output", function()
  local s = ab.scenario { reference = ab.tail.gaussian { sd = 2 }, policy = ab.policy.best_of_n { n = { 1, 10, 1000 } },
    divergences = { "chi2" } }

  it("prints an aligned table with a header and one line per row", function()
    local text = tostring(s)
    local lines = {}
    for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.equal(6, #lines) -- title, header, rule, 3 rows
    assert.truthy(lines[1]:find("best_of_n", 1, true))
    assert.truthy(lines[2]:find("chi2", 1, true) and lines[2]:find("proxy_gain", 1, true))
    for i = 3, 6 do assert.are.equal(#lines[2], #lines[i]) end
    assert.truthy(lines[6]:find(string.format("%.6g", 999 ^ 2 / 1999), 1, true))
  end)

  it("writes its rows to CSV, read back to the same doubles", function()
    local path = os.tmpname()
    assert.are.equal(path, s:csv(path))
    local lines = {}
    for l in io.lines(path) do lines[#lines + 1] = l end
    os.remove(path)
    assert.are.equal(4, #lines)
    local header = {}
    for name in lines[1]:gmatch("[^,]+") do header[#header + 1] = name end
    assert.are.same({ "n", "kl", "chi2", "proxy_gain", "proxy_kind", "proxy_exact", "proxy_bound",
      "proxy_certificate", "kl_exact", "policy" }, header)
    local rows = s:run()
    for i = 1, 3 do
      local cells = {}
      for c in lines[i + 1]:gmatch("[^,]+") do cells[#cells + 1] = c end
      assert.are.equal(rows[i].kl, tonumber(cells[2]))
      assert.are.equal(rows[i].chi2, tonumber(cells[3]))
      assert.are.equal(rows[i].proxy_gain, tonumber(cells[4]))
      assert.are.equal("exact", cells[5])
      assert.are.equal("best_of_n", cells[10])
    end
  end)

  it("plots its gains", function()
    local path = os.tmpname()
    local files = assert(s:plot(path))
    local svg = assert(io.open(path .. ".svg")):read("a")
    assert.truthy(svg:find("<text>proxy gain</text>", 1, true))
    for _, f in ipairs(files) do os.remove(f) end
    os.remove(path)
    raises(function() s:plot(path, { y = "gold_gain" }) end, "scenario:plot", "no column 'gold_gain'",
      "(the columns are " .. table.concat(s:columns(), ", ") .. ")")
    raises(function() s:plot(path, { x = "kll" }) end, "scenario:plot", "x: no column 'kll' (the columns are n, kl,")
    raises(function() s:plot(path, { z = 1 }) end, "scenario:plot", "unknown option 'z' (expected x, y, title,")
    local ok, msg = s:plot("/nonexistent-dir/fig")
    assert.is_nil(ok)
    assert.are.equal("plot: cannot write /nonexistent-dir/fig.svg: No such file or directory", msg)
    ok, msg = s:csv("/nonexistent-dir/rows.csv")
    assert.is_nil(ok)
    assert.truthy(msg:find("write_csv: cannot write /nonexistent-dir/rows.csv", 1, true))
  end)
end)

describe("scenario progress", function()
  -- the child finds the module where this process found it
  local env = string.format("LUA_PATH_5_4=%q LUA_CPATH_5_4=%q ", package.path, package.cpath)
  local cmd = env .. [[lua5.4 -e 'local ab = require "alignbound"
    ab.scenario { reference = ab.tail.gaussian { sd = 1 }, policy = ab.policy.best_of_n { n = { 2, 4 } },
      monte_carlo = { draws = 100 } }:run()']]

  it("writes nothing to stderr when it is not a terminal", function()
    local err = os.tmpname()
    assert.is_true(os.execute(cmd .. " 2>" .. err))
    local text = assert(io.open(err)):read("a")
    os.remove(err)
    assert.are.equal("", text)
  end)

  it("updates a line in place on a terminal", function()
    if not os.execute("command -v script >/dev/null 2>&1") then
      pending("needs script(1) for a pseudo-terminal")
      return
    end
    local p = assert(io.popen("script -qc " .. string.format("%q", cmd) .. " /dev/null"))
    local text = p:read("a")
    p:close()
    assert.truthy(text:find("\rscenario best_of_n: n = 2 (1/2)", 1, true), text)
    assert.truthy(text:find("\rscenario best_of_n: n = 4 (2/2)", 1, true), text)
  end)
end)

describe("the Lua front in an embedding host", function()
  it("finds policy, scenario, plot and io next to init.lua when only init.lua is preloaded", function()
    -- spec/c/host.c preloads init.lua from the source tree, with no LUA_PATH
    local host = (os.getenv("BUILD") or "build") .. "/host"
    if not io.open(host) then
      pending("needs " .. host .. " (make test builds it)")
      return
    end
    local ok = os.execute("env -u LUA_PATH_5_4 -u LUA_PATH -u LUA_CPATH_5_4 " .. host .. " >/dev/null 2>&1")
    assert.is_true(ok)
  end)
end)

-- spec/helper.lua: shared tools for the specs.  Everything here is an
-- independent way to get a number (quadrature, bisection, enumeration) so
-- that the library is checked against something it did not compute itself.
local helper = {}

--- Relative difference |a - b| / max(|b|, tiny).
function helper.rel(a, b)
  if a == b then return 0 end
  return math.abs(a - b) / math.max(math.abs(b), 1e-300)
end

--- Assert a is within rtol relative of b, with a message that shows both.
function helper.close(a, b, rtol, what)
  local r = helper.rel(a, b)
  assert(r <= rtol, string.format("%s: got %.17g, expected %.17g (rel %.3g > %.3g)",
    what or "value", a, b, r, rtol))
end

--- Assert that calling fn raises an error whose message contains every
-- pattern (plain text).
function helper.raises(fn, ...)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error, got success")
  err = tostring(err)
  for _, p in ipairs({ ... }) do
    assert(err:find(p, 1, true), string.format("error %q lacks %q", err, p))
  end
  return err
end

--- log(1 + x) to full precision (Goldberg's correction; Lua has no log1p).
function helper.log1p(x)
  local u = 1 + x
  if u == 1 then return x end
  return math.log(u) * x / (u - 1)
end

--- Binary KL divergence kl(q || p) without cancellation near q = p.
function helper.kl_bin(q, p)
  local a = q == 0 and 0 or q * helper.log1p((q - p) / p)
  local b = q == 1 and 0 or (1 - q) * helper.log1p((p - q) / (1 - p))
  return a + b
end

-- Gauss-Legendre nodes and weights on [-1, 1] by Newton on P_n.
local function gauss_legendre(n)
  local x, w = {}, {}
  for i = 1, n do
    local z = math.cos(math.pi * (i - 0.25) / (n + 0.5))
    local dp
    for _ = 1, 100 do
      local p1, p2 = 1.0, 0.0
      for j = 1, n do
        local p3 = p2
        p2 = p1
        p1 = ((2 * j - 1) * z * p2 - (j - 1) * p3) / j
      end
      dp = n * (z * p1 - p2) / (z * z - 1)
      local z1 = z
      z = z1 - p1 / dp
      if math.abs(z - z1) < 1e-16 then break end
    end
    x[i], w[i] = z, 2 / ((1 - z * z) * dp * dp)
  end
  return x, w
end
local GX, GW = gauss_legendre(20)

--- Integral of f over [a, b] by composite 20-point Gauss-Legendre on
-- `panels` equal panels.
function helper.integrate(f, a, b, panels)
  panels = panels or 200
  local h, s = (b - a) / panels, 0.0
  for k = 0, panels - 1 do
    local c = a + (k + 0.5) * h
    local ps = 0.0
    for i = 1, #GX do ps = ps + GW[i] * f(c + 0.5 * h * GX[i]) end
    s = s + ps * 0.5 * h
  end
  return s
end

--- The centred cumulant log E e^{l (X - m)} of an unnormalised density on
-- [a, b], by quadrature (normalisation and mean from the same rule).
function helper.cumulant_by_quadrature(density, a, b, l, panels)
  local z = helper.integrate(density, a, b, panels)
  local m = helper.integrate(function(x) return x * density(x) end, a, b, panels) / z
  local e = helper.integrate(function(x) return math.exp(l * (x - m)) * density(x) end,
    a, b, panels) / z
  return math.log(e), m
end

--- Root of an increasing function on [lo, hi] by bisection (to the last bit).
function helper.bisect(f, lo, hi)
  for _ = 1, 2000 do
    local mid = 0.5 * (lo + hi)
    if mid == lo or mid == hi then break end
    if f(mid) < 0 then lo = mid else hi = mid end
  end
  return 0.5 * (lo + hi)
end

--- Log-spaced numbers from 10^a to 10^b (n of them).
function helper.logspace(a, b, n)
  local t = {}
  for i = 1, n do t[i] = 10 ^ (a + (b - a) * (i - 1) / (n - 1)) end
  return t
end

--- The whole content of a file, or nil if it cannot be opened.
function helper.slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

return helper

-- Exact laws and classes at the edges of their parameters (issue 9): the Beta
-- cumulant for every a, b up to 1e15, Bernoulli and finite laws with rare
-- atoms, results of a table call equal to scalar calls, and no NaN anywhere.
local ab = require "alignbound"
local H = require "helper"

describe("the Beta law", function()
  it("has psi, psi', psi'' of the 40-digit references for a, b in {1e-3 .. 1e12}, l from +-1e-3 to +-1e6", function()
    -- spec/beta_reference.lua: mpmath, see the comment there
    local worst = 0
    for _, r in ipairs(require "beta_reference") do
      local t = ab.tail.beta { a = r[1], b = r[2] }
      local what = string.format("beta(%g, %g) at l=%g", r[1], r[2], r[3])
      H.close(t:cumulant(r[3]), r[4], 1e-10, "psi of " .. what)
      H.close(t:cumulant(r[3], { derivative = 1 }), r[5], 1e-10, "psi' of " .. what)
      H.close(t:cumulant(r[3], { derivative = 2 }), r[6], 1e-10, "psi'' of " .. what)
      worst = math.max(worst, H.rel(t:cumulant(r[3]), r[4]))
    end
  end)

  -- The reproducers of issue 9.  References: mpmath at 40 digits, psi from
  -- log hyp1f1(a, a+b, l) - l a/(a+b), the frontier by bisection on
  -- kl(l) = l psi'(l) - psi(l) (or on psi'(l) for kl_needed).
  it("gives the frontier of large and skewed laws (issue 9 reproducers)", function()
    H.close(ab.tail.beta { a = 7710, b = 7711 }:kl_needed(0.1), 314.77199988028341878, 1e-10, "kl_needed")
    local t = ab.tail.beta { a = 1000, b = 1000 }
    H.close(t:gain(1), 0.01580349181062783993, 1e-10, "beta(1000, 1000) gain(1)")
    H.close(t:cumulant(50), 0.15615974000291981, 1e-10, "beta(1000, 1000) cumulant(50)")
    H.close(ab.tail.beta { a = 50, b = 0.5 }:gain(1), 0.009374086435761941, 1e-10, "beta(50, .5) gain(1)")
    H.close(ab.tail.beta { a = 50, b = 0.5 }:cumulant(1000), 8.3766886156277849, 1e-10, "beta(50, .5) cumulant(1000)")
    H.close(ab.tail.beta { a = 0.1, b = 10 }:gain(1), 0.093630998008700607993, 1e-10, "beta(.1, 10) gain(1)")
    local big = ab.tail.beta { a = 1e12, b = 1e12 }
    local t0 = os.clock()
    H.close(big:gain(1), 4.9999999999975e-7, 1e-10, "beta(1e12, 1e12) gain(1)")
    assert.is_true(os.clock() - t0 < 1, "beta(1e12, 1e12) gain(1) returns at once")
    local b5 = ab.tail.beta { a = 0.5, b = 300 }
    for k, g in pairs { [1e-6] = 3.3216954924467465585e-6, [0.3] = 0.0025250652818757382116,
      [3] = 0.013398737515168870821 } do
      H.close(b5:gain(k), g, 1e-10, "beta(.5, 300) gain at kl=" .. k)
    end
  end)

  it("has the variance as sub-Gaussian proxy when symmetric, even for a = b >= 300", function()
    -- Beta(a, a) is strictly sub-Gaussian (Marchal and Arbel 2017): the
    -- optimal proxy is the variance 1 / (4 (2a + 1))
    for _, a in ipairs { 300, 1e4, 1e12 } do
      H.close(ab.tail.beta { a = a, b = a }:variance_proxy(), 1 / (4 * (2 * a + 1)), 1e-9, "a = b = " .. a)
    end
  end)

  it("keeps psi(l) <= l * range and psi >= 0 at every l", function()
    for _, p in ipairs { { 1000, 1000 }, { 1e-3, 1e12 }, { 1e12, 1e-3 }, { 0.5, 300 }, { 1e15, 1e15 },
      { 1e-8, 1 }, { 1e15, 1e-8 }, { 1e-6, 1e12 } } do
      local t = ab.tail.beta { a = p[1], b = p[2] }
      for _, l in ipairs { 1e-300, 1e-5, 0.3, 7, 50, 1e3, 1e6, 1e12, 1e100, 1e300 } do
        for _, s in ipairs { 1, -1 } do
          local psi = t:cumulant(s * l)
          -- ess sup of X - m is b / (a + b), of m - X is a / (a + b)
          local cap = l * (s > 0 and p[2] or p[1]) / (p[1] + p[2])
          assert.is_true(psi >= 0 and psi <= cap * (1 + 1e-12),
            string.format("beta(%g, %g): psi(%g) = %g, cap %g", p[1], p[2], s * l, psi, cap))
        end
      end
    end
  end)

  -- a, b down to 1e-8, where the law is nearly a point mass at one end and
  -- psi ~ a: references from mpmath at 60 digits, log hyp1f1(a, a+b, l) -
  -- l a/(a+b) and the tilted moments from hyp1f1(a+1, a+b+1, l),
  -- hyp1f1(a+2, a+b+2, l); rows {a, b, l, psi, psi', psi''}
  local SMALL = {
  { 3e-05, 0.3, 8, 0.1388922915161563, 0.12456152528508112, 0.10444949758874884 },
  { 3e-05, 0.3, 60, 49.4521938478367, 0.9948132872114486, 8.6284196133256342e-5 },
  { 3e-05, 0.3, -8, 0.00063548826022876726, -9.5783611056630081e-5, 6.1412764638849012e-7 },
  { 3e-05, 0.3, -1000.0, 0.099677719142822428, -9.9959979964102635e-5, 3.0042107489256275e-11 },
  { 3e-05, 1, 30, 16.21877574017096, 0.96539456949041801, 0.0011991865748147207 },
  { 3e-05, 1, 1000.0, 982.64893391897971, 0.99896899791702217, 1.0020089919952531e-6 },
  { 3e-05, 1, -100, 0.0028444391673827421, -2.9699100026999191e-5, 3.0000000000000001e-9 },
  { 3e-05, 10, 20, 0.0011298004641759787, 0.00050963631027309624, 0.00025755458570472672 },
  { 3e-05, 10, 300, 245.38289472847818, 0.96654789848496385, 0.00011189919364887342 },
  { 3e-05, 10, -30, 4.7554412055379995e-5, -2.2354714976055855e-6, 1.9359516591318828e-8 },
  { 3e-05, 300, 12, 2.4573343429220561e-8, 4.1516535695339809e-9, 3.6028310448667836e-10 },
  { 3e-05, 300, 100, 2.1515636183528187e-6, 4.9629575097339345e-8, 7.4080252744303182e-10 },
  { 3e-05, 300, -12, 2.3304855317412566e-8, -3.8343329857856936e-9, 3.0731353590691586e-10 },
  { 1e-05, 0.3, 8, 0.048500882619346964, 0.045478570933037756, 0.041735066568277298 },
  { 1e-05, 0.3, 60, 48.357639630710863, 0.9948799432248663, 8.6284256749428e-5 },
  { 1e-05, 0.3, -8, 0.00021184596880280468, -3.1930093159101349e-5, 2.0470872810791635e-7 },
  { 1e-05, 0.3, -1000.0, 0.033228127082462663, -3.3322215247325709e-5, 1.0014035829329218e-11 },
  { 1e-05, 1, 30, 15.120764325501779, 0.96541436840712606, 0.0011993566342180734 },
  { 1e-05, 1, 1000.0, 981.57032085037774, 0.99898899709696775, 1.002009032236944e-6 },
  { 1e-05, 1, -100, 0.00094816622383740549, -9.8999000009999908e-6, 1.0000000000000001e-9 },
  { 1e-05, 10, 20, 0.00037674298780827869, 0.00017000724333751303, 8.5974292188203967e-5 },
  { 1e-05, 10, 300, 244.28482654029087, 0.96654989615317714, 0.00011189920949798222 },
  { 1e-05, 10, -30, 1.5851520782545145e-5, -7.4515913400721244e-7, 6.4531746616481876e-9 },
  { 1e-05, 300, 12, 8.1911161580543633e-9, 1.3838848112300734e-9, 1.2009439417799858e-10 },
  { 1e-05, 300, 100, 7.1718806514359341e-7, 1.6543196897368953e-8, 2.469342854965097e-10 },
  { 1e-05, 300, -12, 7.768286618362038e-9, -1.2781112409753223e-9, 1.0243786423398945e-10 },
  { 1e-06, 0.3, 8, 0.0049586444806399136, 0.0047516716228857922, 0.0045542065932628794 },
  { 1e-06, 0.3, 60, 46.056880845270301, 0.99490994133050756, 8.6284284026726612e-5 },
  { 1e-06, 0.3, -8, 2.1185341647024566e-5, -3.1931093518852299e-6, 2.0470850880015099e-8 },
  { 1e-06, 0.3, -1000.0, 0.0033229126494768209, -3.3323215210660335e-6, 1.0014035829138923e-12 },
  { 1e-06, 1, 30, 12.818451991528259, 0.96542100181795884, 0.0012016279833960743 },
  { 1e-06, 1, 1000.0, 979.27673566740276, 0.99899799698893256, 1.0020090503457057e-6 },
  { 1e-06, 1, -100, 9.4817514971677004e-5, -9.8999900000099995e-7, 9.9999999999999995e-11 },
  { 1e-06, 10, 20, 3.7680730964008623e-5, 1.7006511967180663e-5, 8.602962490513393e-6 },
  { 1e-06, 10, 300, 241.98248629309526, 0.966550795106483, 0.00011189921663008232 },
  { 1e-06, 10, -30, 1.585154332645686e-6, -7.4516001967223594e-8, 6.4531757706915834e-10 },
  { 1e-06, 300, 12, 8.191116914795893e-10, 1.3838849408535356e-10, 1.2009440588509869e-11 },
  { 1e-06, 300, 100, 7.1718815170531331e-8, 1.6543199236584935e-9, 2.4693433485351002e-11 },
  { 1e-06, 300, -12, 7.7682872990131961e-10, -1.2781113515463834e-10, 1.0243787275324879e-11 },
  { 1e-08, 0.3, 8, 4.9709815731477702e-5, 4.7752111925258817e-5, 4.5992457551815238e-5 },
  { 1e-08, 0.3, 60, 41.451911559758669, 0.99491324123201405, 8.6284287027231242e-5 },
  { 1e-08, 0.3, -8, 2.1185423574172663e-7, -3.1931203562087635e-8, 2.0470848467637055e-10 },
  { 1e-08, 0.3, -1000.0, 3.3229236433783447e-5, -3.3323325210290012e-8, 1.0014035829117992e-14 },
  { 1e-08, 1, 30, 8.2135798164643693, 0.96516302625713301, 0.0014512485030864754 },
  { 1e-08, 1, 1000.0, 974.67255548140675, 0.99899898698693868, 1.0020090523376695e-6 },
  { 1e-08, 1, -100, 9.4817613157335058e-7, -9.8999999000000012e-9, 1.0e-12 },
  { 1e-08, 10, 20, 3.7681438682196948e-7, 1.7007148847271535e-7, 8.6035714884867764e-8 },
  { 1e-08, 10, 300, 237.37734304016705, 0.96655089399144554, 0.00011189921741461337 },
  { 1e-08, 10, -30, 1.5851545806289932e-8, -7.4516011709548771e-10, 6.4531758926863399e-12 },
  { 1e-08, 300, 12, 8.1911169980374676e-12, 1.3838849551121175e-12, 1.200944071728798e-13 },
  { 1e-08, 300, 100, 7.1718816122710353e-10, 1.6543199493898727e-11, 2.4693434028278105e-13 },
  { 1e-08, 300, -12, 7.7682873738848289e-12, -1.278111363709201e-12, 1.0243787369036738e-13 },
  }

  it("has the 60-digit cumulant of laws with a parameter down to 1e-8", function()
    for _, r in ipairs(SMALL) do
      local t = ab.tail.beta { a = r[1], b = r[2] }
      local what = string.format("beta(%g, %g) at l=%g", r[1], r[2], r[3])
      H.close(t:cumulant(r[3]), r[4], 1e-10, "psi of " .. what)
      H.close(t:cumulant(r[3], { derivative = 1 }), r[5], 1e-10, "psi' of " .. what)
      H.close(t:cumulant(r[3], { derivative = 2 }), r[6], 1e-10, "psi'' of " .. what)
      -- the mirror law: psi_{b,a}(-l) = psi_{a,b}(l)
      local mirror = ab.tail.beta { a = r[2], b = r[1] }
      H.close(mirror:cumulant(-r[3]), r[4], 1e-10, "mirrored psi of " .. what)
    end
  end)

  it("gives the frontier of laws with a parameter down to 1e-8", function()
    -- mpmath at 40 digits: bisection on kl(l) = l psi'(l) - psi(l) from
    -- hyp1f1; rows {a, b, kl, gain, loss}
    for _, r in ipairs {
      { 1e-6, 1, 0.01, 0.0012186566626650674472, 9.9999900000098995375e-7 },
      { 1e-6, 1, 1e-6, 1.209458826756072422e-6, 7.5814854027219999217e-7 },
      { 1e-5, 10, 0.1, 0.0041712543594852798409, 9.999990000009000808e-7 },
      { 1e-8, 0.5, 1e-3, 0.00011302321122712093236, 1.9999999599999908418e-8 },
    } do
      local t = ab.tail.beta { a = r[1], b = r[2] }
      local what = string.format("beta(%g, %g) at kl=%g", r[1], r[2], r[3])
      H.close(t:gain(r[3]), r[4], 1e-10, "gain of " .. what)
      H.close(t:loss(r[3]), r[5], 1e-10, "loss of " .. what)
    end
  end)

  it("refuses parameters below 1e-8 with a clear error", function()
    H.raises(function() return ab.tail.beta { a = 1e-9, b = 1 } end, "beta")
  end)
end)

describe("a table call", function()
  it("gives each element exactly what a scalar call gives, whatever its neighbours", function()
    local laws = { ab.tail.beta { a = 0.5, b = 300 }, ab.tail.beta { a = 0.1, b = 10 },
      ab.tail.gumbel { scale = 2 }, ab.tail.gamma { shape = 0.3, scale = 2 }, ab.tail.logistic { scale = 1 },
      ab.tail.bernoulli { p = 1e-6 }, ab.tail.discrete { values = { 0, 1, 5 }, probs = { 0.7, 0.2, 0.1 } } }
    -- an order that makes a warm start from the neighbour as bad as it gets
    local kls = { 100, 1, 1e-8, 0.5, 30, 1e-3, 2, 1e-200, 1, 7, 0.05 }
    for _, t in ipairs(laws) do
      for _, side in ipairs { "gain", "loss" } do
        local v = t[side](t, kls)
        for i, k in ipairs(kls) do
          H.close(v[i], t[side](t, k), 1e-12, string.format("%s %s at kl=%g", tostring(t), side, k))
        end
      end
    end
  end)
end)

-- Bernoulli frontier references: q - p with kl_bin(q || p) = kl, from mpmath at
-- 340 digits (log1p forms, bisection in log(q - p)); rows {p, kl, side, value}
-- with side -1 the loss (the gain of Bernoulli(1 - p)); p and kl drawn at
-- random (seed 2026): p log-uniform in [1e-300, 1], 1 - 10^U(-16, -0.3), or
-- uniform; kl log-uniform in [1e-300, 1e6].
local BERNOULLI = {
    { 5.68494895306403e-150, 4.1471534828990004e-144, 1, 4.0738772741896038856e-145 },
    { 0.9999999999998003, 9.183532086873868e-224, -1, 1.915316580497459836e-118 },
    { 1.952624952141381e-33, 4.585683661316338e-131, 1, 4.2318129305803033796e-82 },
    { 0.42940952979058267, 3.786531969142072e-257, 1, 4.3075855154313305456e-129 },
    { 8.97687019913983e-256, 8.030767603602856e-31, -1, 8.9768701991398301887e-256 },
    { 0.8572057253237502, 9.637005536969116e-05, -1, 0.0048799954732490803449 },
    { 0.9563668911795052, 3.580981850911675e-96, -1, 5.4668404949558957752e-49 },
    { 0.9999999998652915, 2.832092040356577e-255, 1, 8.7350646933556216912e-133 },
    { 7.658061342604358e-145, 4.829651727440922e-168, -1, 2.7197709165337397589e-156 },
    { 2.053135136982873e-47, 2.144172656570441e-181, -1, 2.9672466095566384916e-114 },
    { 0.23133481297571823, 6.67123930897665e-09, -1, 0.000048707597227815919234 },
    { 1.2996186661231073e-221, 1.555808458935218e-08, 1, 3.2181399094449881325e-11 },
    { 0.9999999999999998, 3.263423857624266e-271, 1, 1.2038485462624453852e-143 },
    { 0.6814036963454538, 4.591966188338068e-18, -1, 1.4120073187542061449e-9 },
    { 6.390913498540173e-264, 2.627430995830942e-289, -1, 1.8325765587138349991e-276 },
    { 0.7866049866950763, 7.018961328735102e-231, 1, 4.8542473649290507721e-116 },
    { 0.9999999999999999, 0.20294193521371523, -1, 0.0066061074709326333201 },
    { 0.9999999972280605, 2.0915124498481518e-59, -1, 3.4051566383506298682e-34 },
    { 0.018352445463951983, 2.751126368711809e-234, -1, 3.1484371860192267605e-118 },
    { 3.8332337147742353e-184, 0.049235450118843095, 1, 0.00011941682147641480209 },
    { 0.06360041624305046, 4.07875865448135e-208, 1, 6.9701092762996451205e-105 },
    { 0.999999998560667, 1.2777390429590978e-121, 1, 1.9178591968916564908e-65 },
    { 0.9197410669069481, 1.5868639164775447e-68, -1, 4.8402112926673275294e-35 },
    { 0.5612999332876661, 5.1319017364270126e-263, -1, 5.0273081867819718851e-132 },
    { 0.010515416168085157, 1.071432853335291e-129, -1, 4.7218830474920348367e-66 },
    { 0.9999999999368869, 1.159066744459325e-130, 1, 1.2095640615557281734e-70 },
    { 0.9999999884974993, 6.2275734459136425e-230, -1, 3.7850407469875652251e-119 },
    { 0.9999687615332037, 1.1083534482302751e-207, 1, 2.6314323405129639469e-106 },
    { 0.9604972665871089, 3.679963804356776e-139, -1, 1.6710845037242852372e-70 },
    { 0.39200207242893337, 1.8298799889891642e-112, 1, 9.3394549753596292523e-57 },
    { 3.0779552083439104e-250, 1.1276962203596572e-88, 1, 3.0886099165293413239e-91 },
    { 6.353016954055967e-125, 4.173941890599501e-85, -1, 6.3530169540559669709e-125 },
    { 0.9999999999496382, 1.0219031272642093e-236, -1, 1.0145433189209982486e-123 },
    { 1.986647397588624e-09, 2.2232231756870142e-102, -1, 9.3986813196988198563e-56 },
    { 0.9673370397242096, 1.322258814064142e-276, -1, 2.8906127452080817387e-139 },
    { 0.9999999999999747, 2.718843284812967e-203, 1, 1.1732204487251864332e-108 },
    { 0.9999999998091882, 2.0454127966753792e-143, -1, 8.8350316296551344903e-77 },
    { 2.5401204665488616e-144, 6.254422240118466e-219, -1, 1.7825255082922821777e-181 },
    { 2.157053688278578e-285, 1.0948216172384676e-70, 1, 2.247221586137539971e-73 },
    { 0.8241855764800161, 2.4344087254837475e-286, 1, 8.3994626120178774584e-144 },
    { 0.9999999999993633, 4.265810694838713e-296, -1, 2.3307066388024335945e-154 },
    { 0.5668914084335747, 1.4006834120668461e-142, 1, 8.29341365645389455e-72 },
    { 0.9999999999994549, 2.7261074844633716e-185, 1, 5.4517049860655570744e-99 },
    { 1.4198475478617308e-262, 3.772549561016618e-113, -1, 1.4198475478617307585e-262 },
    { 0.7279160316305302, 1.7338446889785998e-46, -1, 8.2872838238690739425e-24 },
    { 3.425445926794489e-262, 3.828136955156334e-198, -1, 3.4254459267944889246e-262 },
    { 0.9999999999223916, 1.1223878621467248e-148, 1, 1.3198991321268870138e-79 },
    { 5.064893978069733e-143, 3.528899093536755e-182, -1, 1.8906876933047429506e-162 },
    { 2.3647942066984775e-275, 1.1443512714237684e-269, 1, 1.1668934607309299785e-270 },
    { 0.554454616158177, 4.247758410371303e-152, 1, 1.4486847154583248207e-76 },
    { 0.9999999999669408, 1.4261220492021693e-270, 1, 9.7104567822525024507e-141 },
    { 0.9999991091121027, 6.718710199771352e-124, -1, 3.4599457424106466335e-65 },
    { 0.7732341641770744, 5.174303428978651e-120, 1, 1.3470548316479596946e-60 },
    { 0.9999959507283858, 0.03632713138810072, -1, 0.0057900669777265112807 },
    { 0.9999999643810383, 5.351829880183749e-284, -1, 6.1745706987862826174e-146 },
    { 2.679668384777174e-268, 1.0491009882634489e-172, 1, 4.9081753081360377697e-175 },
    { 0.998730026395907, 1.0076603468968178e-165, 1, 1.5987975823318699542e-84 },
    { 1.0153635183711398e-11, 2.348964474588615e-159, 1, 2.1840571574127336886e-85 },
    { 6.895560140687001e-224, 8.172542512534375e-208, 1, 2.5123767672290558295e-209 },
    { 0.9810059057195836, 1.3938012256771191e-118, -1, 2.2790850089787689726e-60 },
}

describe("the Bernoulli frontier", function()
  it("matches 340-digit references to 1e-12 at random p (near 0 and 1) and kl in [1e-300, 1e6]", function()
    for _, r in ipairs(BERNOULLI) do
      local t = ab.tail.bernoulli { p = r[1] }
      local v = r[3] > 0 and t:gain(r[2]) or t:loss(r[2])
      H.close(v, r[4], 1e-12, string.format("p=%.17g kl=%g side=%d", r[1], r[2], r[3]))
    end
  end)

  it("keeps its digits for rare successes (issue 9 reproducers)", function()
    H.close(ab.tail.bernoulli { p = 1e-300 }:gain(1e-10), 1.5145616444666078483e-13, 1e-12, "p=1e-300")
    H.close(ab.tail.bernoulli { p = 1e-12 }:gain(1e-8), 1.5711245292590850197e-9, 1e-12, "p=1e-12")
    H.close(ab.tail.bernoulli { p = 0.3 }:gain(1e-300), 6.4807406984078602436e-151, 1e-12, "kl=1e-300")
    H.close(ab.tail.bernoulli { p = 1 - 2 ^ -40 }:gain(1e-3), 9.0949470177292823792e-13, 1e-12, "p near 1")
    -- the loss of a Bernoulli(1e-47) saturates at p only once kl >= -log(1 - p) ~ 1e-47
    H.close(ab.tail.bernoulli { p = 1e-47 }:loss(1e-60), 4.4721356216662335135e-54, 1e-12, "loss below saturation")
  end)
end)

describe("an empirical law with a rare value", function()
  it("of 10^6 samples, one of them 1, has the Bernoulli(1e-6) frontier to 1e-12", function()
    local v = ab.vector(1000000, 0)
    v[1000000] = 1
    local e = ab.tail.empirical(v)
    -- mpmath, as for the Bernoulli references above
    for k, g in pairs { [1e-4] = 0.000036661738281219841423, [1e-2] = 0.0015709567877500258035,
      [1] = 0.095127128097749030685 } do
      H.close(e:gain(k), g, 1e-12, "kl=" .. k)
    end
  end)

  it("of huge values has a finite mean, or refuses a spread beyond the doubles", function()
    local e = ab.tail.empirical { 1e308, 1e308 }
    assert.are.equal(1e308, e:mean())
    assert.are.equal(0, e:gain(1))
    local s = ab.tail.empirical { 1.7e308, 1.7e308, 1e308 }
    H.close(s:mean(), 1.7e308 * (2 / 3) + 1e308 / 3, 1e-15, "mean of three values near DBL_MAX")
    H.close(s:gain(math.huge), 1.7e308 - s:mean(), 1e-15, "their spread")
    H.raises(function() return ab.tail.empirical { -1.7e308, 1.7e308, 1.7e308 } end,
      "empirical", "out of range")
  end)
end)

describe("extreme parameters", function()
  it("give the right value, never NaN (issue 9 reproducers)", function()
    assert.are.equal(0, ab.tail.subgamma { v = 1e308, c = 0 }:gain(0))
    assert.are.equal(math.huge, ab.tail.subgamma { v = 6e-320, c = 0 }:kl_needed(97))
    -- the v -> 0 limit of the sub-gamma inverse is g / c
    H.close(ab.tail.subgamma { v = 5e-324, c = 2 }:kl_needed(3), 1.5, 1e-12, "subgamma v -> 0")
    local g = ab.tail.gaussian { mean = -1, sd = 1.4e-308 }
    assert.are.equal(math.huge, g:loss(math.huge))
    H.close(g:gain(2), 1.4e-308 * 2, 1e-15, "sd sqrt(2 kl) with sd^2 below the doubles")
    -- the engine reaches l* = sqrt(2 kl) / sd up to e^700: sd = 1e-200 has
    -- a variance below the doubles too
    local g2 = ab.tail.gaussian { mean = 3, sd = 1e-200 }
    H.close(g2:gain(2, { numeric = true }), 2e-200, 1e-10, "the engine too")
  end)

  -- every law and class at parameters 5e-324, 1e-308, 1e308 and kl in
  -- {0, 5e-324, 1e-300, 1, 1e300, inf}: a value in range or an error message
  it("keep gains in [0, sup], monotone in kl, and cumulants >= 0, or raise a clear error", function()
    local X = { 5e-324, 1e-308, 1e308 }
    local KLS = { 0, 5e-324, 1e-300, 1, 1e300, math.huge }
    local cases = {}
    local function add(name, opts) cases[#cases + 1] = { name, opts } end
    for _, x in ipairs(X) do
      add("subgaussian", { sigma = x }); add("subgaussian", { variance = x })
      for _, c in ipairs { 0, 1, 5e-324, 1e308 } do add("subgamma", { v = x, c = c }) end
      for _, y in ipairs(X) do add("subexponential", { nu = x, b = y }) end
      add("bounded", { lo = -x, hi = x }); add("bounded", { lo = 0, hi = x })
      add("bounded", { lo = 0, hi = x, mean = x / 3 })
      add("gaussian", { mean = -1, sd = x }); add("gaussian", { mean = x, sd = 1 })
      add("uniform", { lo = 0, hi = x }); add("uniform", { lo = -x, hi = x })
      add("bernoulli", { p = math.min(x, 1) }); add("bernoulli", { p = 1 - x })
      add("exponential", { rate = x })
      for _, y in ipairs(X) do add("gamma", { shape = x, scale = y }) end
      add("gumbel", { loc = 0, scale = x }); add("logistic", { scale = x })
      for _, y in ipairs { 5e-324, 1e-308, 1e-8, 1e-4, 1, 1e15 } do
        add("beta", { a = x, b = y }); add("beta", { a = y, b = x })
      end
      add("discrete", { values = { -x, 0, x }, probs = { 0.25, 0.5, 0.25 } })
      add("empirical", { x, x }); add("empirical", { x, -x, 0 }); add("empirical", { 0, x })
    end
    add("beta", { a = 1e15, b = 1e15 }); add("beta", { a = 1e-4, b = 1e15 })
    local function check_call(fn, what, ...)
      local ok, v = pcall(fn, ...)
      if not ok then
        assert.is_string(v, what)
        assert.is_nil(v:find("nan"), what .. ": " .. v)
        return nil
      end
      assert.is_true(v == v, what .. " is NaN")
      return v
    end
    local built = 0
    for _, c in ipairs(cases) do
      local ok, t = pcall(ab.tail[c[1]], c[2])
      if ok then
        built = built + 1
        local d = tostring(t)
        for _, side in ipairs { "gain", "loss" } do
          local sup = check_call(t[side], d .. " " .. side .. "(inf)", t, math.huge)
          local prev = 0
          for _, k in ipairs(KLS) do
            local g = check_call(t[side], string.format("%s %s(%g)", d, side, k), t, k)
            if g then
              assert.is_true(g >= prev * (1 - 1e-12), string.format("%s %s(%g) = %g below %g", d, side, k, g, prev))
              if sup then
                assert.is_true(g <= sup * (1 + 1e-12), string.format("%s %s(%g) = %g above sup %g", d, side, k, g, sup))
              end
              prev = g
              if side == "gain" and g > 0 then
                local need = check_call(t.kl_needed, d .. " kl_needed", t, g)
                assert.is_true(need == nil or need >= 0, d .. " kl_needed >= 0")
              end
            end
          end
        end
        for _, l in ipairs { 0, 5e-324, 1e-300, 1, -1, 1e300, -1e300 } do
          local psi = check_call(t.cumulant, string.format("%s cumulant(%g)", d, l), t, l)
          assert.is_true(psi == nil or psi >= 0, string.format("%s cumulant(%g) >= 0", d, l))
        end
        local s2 = check_call(t.variance_proxy, d .. " variance_proxy", t)
        assert.is_true(s2 == nil or s2 >= 0, d .. " variance proxy >= 0")
      else
        assert.is_string(t)
      end
    end
    -- refused by design: subnormal scales and Beta parameters outside [1e-8, 1e15]
    assert.is_true(built >= 50, "enough extreme laws are built to check (" .. built .. " of " .. #cases .. ")")
  end)
end)

describe("a user cumulant", function()
  it("that returns a negative value is refused: a centred cumulant is >= 0", function()
    local c = ab.tail.cumulant(function(l) return -l end)
    H.raises(function() return c:gain(1) end, "gain", "cumulant function returned a negative value")
    H.raises(function() return c:kl_needed(1) end, "kl_needed", "negative value")
    H.raises(function() return c:cumulant(0.5) end, "negative value")
    -- and one that is negative only somewhere is caught where the search goes
    local d = ab.tail.cumulant(function(l) return l < 2 and l * l / 2 or -1 end)
    H.raises(function() return d:gain(50) end, "negative value")
  end)
end)

"""Exact beta-binomial chance to win for `causalkit ab --bayesian` on a proportion metric.

P(p_T > p_C) with p_C ~ Beta(a + x_C, b + n_C - x_C), p_T ~ Beta(a + x_T, b + n_T - x_T),
computed by adaptive quadrature of  integral f_C(x) * P(p_T > x) dx  with scipy (an
independent implementation: scipy.stats.beta and scipy.integrate.quad). Writes
reference/ab_beta_binomial.json. Case from issue 11: control 42/104, treatment 500/1009.
"""
import json
from scipy import integrate, stats

cases = []
for (xc, nc, xt, nt, a, b) in [(42, 104, 500, 1009, 1.0, 1.0), (42, 104, 500, 1009, 2.0, 8.0)]:
    pc = stats.beta(a + xc, b + nc - xc)
    pt = stats.beta(a + xt, b + nt - xt)
    val, err = integrate.quad(lambda x: pc.pdf(x) * pt.sf(x), 0.0, 1.0, epsabs=1e-14, epsrel=1e-12, limit=500)
    cases.append({"control": [xc, nc], "treatment": [xt, nt], "prior": [a, b],
                  "chance_to_win": val, "quad_error": err})
json.dump({"source": "scipy " + __import__("scipy").__version__ + " stats.beta + integrate.quad",
           "cases": cases}, open("reference/ab_beta_binomial.json", "w"), indent=1)
print(cases)

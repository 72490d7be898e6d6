#!/usr/bin/env python
"""Reference numbers for causalkit's numeric core (OLS/WLS/FE/logit/multitest/distributions).

Run with the "panel" peer venv (pyfixest 0.60.0, statsmodels 0.15.0):

    ~/.cache/causalkit-peers/panel/bin/python reference/scripts/stats_reference.py

(from /work/main). Writes reference/stats.json next to this script's parent directory.

Besides recording what statsmodels / pyfixest / scipy report, the script recomputes every
pyfixest standard error *independently* in numpy (explicit dummy design, lstsq
residualisation -- no pyfixest demeaning) with explicit small-sample formulas and stores the
relative differences under each pyfixest block's "recompute" entry. The script fails (exit 1)
if any recomputation disagrees by more than 1e-9 (relative), so the conventions documented in
reference/README.md are checked on every regeneration.
"""

from __future__ import annotations

import json
import math
import os
import sys
import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import scipy
import statsmodels
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests

warnings.filterwarnings("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "stats.json")
DATA = "/work/shared/datasets"
FIXEF_TOL = 1e-12  # pyfixest demeaning tolerance used for FE fits (default 1e-6, see README)
TOL = 1e-9  # max relative difference accepted between pyfixest and the numpy recomputation

failures: list[str] = []


def fl(x):
    """Array-like -> list of Python floats (full precision); NaN -> None (JSON null)."""
    return [None if math.isnan(v) else float(v) for v in np.asarray(x, dtype=float).ravel()]


def rel(a, b):
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    both_nan = np.isnan(a) & np.isnan(b)
    r = np.where(both_nan, 0.0, np.abs(a - b) / np.maximum(np.abs(b), 1e-300))
    return float(np.max(r))  # NaN if exactly one side is NaN


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------
def load_mpdta():
    d = pd.read_csv(os.path.join(DATA, "mpdta.csv"))
    ft = d["first.treat"]
    d["D"] = ((ft > 0) & (d["year"] >= ft)).astype(float)
    d["w"] = np.exp(d["lpop"])
    # state FIPS = countyreal // 1000 (29 states); used only for the extra "CRV1_state" check
    # (county FE strictly nested in, but not identical to, the cluster variable)
    d["state"] = d["countyreal"] // 1000
    return d


def load_prop99():
    return pd.read_csv(os.path.join(DATA, "california_prop99.csv"))


def load_hillstrom():
    return pd.read_csv(os.path.join(DATA, "hillstrom.csv"))


# --------------------------------------------------------------------------------------
# independent numpy recomputation
# --------------------------------------------------------------------------------------
def dummies(df, fes):
    """Full dummy design for fixed effects: first FE all levels, others drop first level."""
    cols = []
    for j, f in enumerate(fes):
        codes, uniq = pd.factorize(df[f], sort=True)
        M = np.zeros((len(df), len(uniq)))
        M[np.arange(len(df)), codes] = 1.0
        cols.append(M if j == 0 else M[:, 1:])
    return np.hstack(cols)


def residualize(A, Z):
    """Residuals of the columns of A on Z (least squares)."""
    if Z is None or Z.shape[1] == 0:
        return A.copy()
    coef, *_ = np.linalg.lstsq(Z, A, rcond=None)
    return A - Z @ coef


class Recompute:
    """X (N x k), y, optional aweights w, optional absorbed FE dummy matrix Z.

    Works in the sqrt(w)-transformed space, partials Z out of X and y (FWL), and exposes
    beta, residuals u, bread = (X~'X~)^{-1} and score-based meat matrices.
    """

    def __init__(self, X, y, w=None, Z=None):
        sw = np.sqrt(w) if w is not None else np.ones(len(y))
        Xw = X * sw[:, None]
        yw = y * sw
        Zw = Z * sw[:, None] if Z is not None else None
        self.Xt = residualize(Xw, Zw)
        self.yt = residualize(yw[:, None], Zw)[:, 0]
        self.bread = np.linalg.inv(self.Xt.T @ self.Xt)
        self.beta = self.bread @ (self.Xt.T @ self.yt)
        self.u = self.yt - self.Xt @ self.beta
        self.N = len(y)
        self.k = X.shape[1]
        self.scores = self.Xt * self.u[:, None]

    def sandwich(self, meat):
        return self.bread @ meat @ self.bread

    def meat_hc0(self):
        return self.scores.T @ self.scores

    def meat_cluster(self, g):
        codes, uniq = pd.factorize(pd.Series(g), sort=True)
        S = np.zeros((len(uniq), self.k))
        np.add.at(S, codes, self.scores)
        return S.T @ S, len(uniq)

    def leverage(self):
        return np.einsum("ij,jk,ik->i", self.Xt, self.bread, self.Xt)

    # --- the formulas documented in README.md ------------------------------------------
    def se_iid(self, df_k):
        s2 = float(self.u @ self.u) / (self.N - df_k)
        return np.sqrt(np.diag(s2 * self.bread))

    def se_hc(self, kind, df_k=None):
        if kind == "HC0":
            V = self.sandwich(self.meat_hc0())
        elif kind == "HC1":
            V = self.N / (self.N - df_k) * self.sandwich(self.meat_hc0())
        else:
            h = self.leverage()
            p = 1.0 if kind == "HC2" else 2.0
            s = self.scores / ((1 - h) ** (p / 2))[:, None]
            V = self.sandwich(s.T @ s)
        return np.sqrt(np.diag(V))

    def se_crv1(self, clusters, df_k):
        """clusters: list of 1 or 2 arrays. pyfixest default ssc: G_df='min'."""
        if len(clusters) == 1:
            M, G = self.meat_cluster(clusters[0])
            c = (self.N - 1) / (self.N - df_k) * G / (G - 1)
            return np.sqrt(np.diag(c * self.sandwich(M))), [G], G - 1
        a, b = (pd.Series(x).astype(str) for x in clusters)
        inter = (a + "-" + b).to_numpy()
        M1, G1 = self.meat_cluster(clusters[0])
        M2, G2 = self.meat_cluster(clusters[1])
        M12, G12 = self.meat_cluster(inter)
        Gm = min(G1, G2)
        c = (self.N - 1) / (self.N - df_k) * Gm / (Gm - 1)
        V = c * self.sandwich(M1 + M2 - M12)
        return np.sqrt(np.diag(V)), [G1, G2, G12], Gm - 1


def fe_nested_in(df, fe, cl):
    """True if every level of fixed effect `fe` lies inside exactly one cluster of `cl`."""
    return bool((df.groupby(fe)[cl].nunique() == 1).all()) if isinstance(cl, str) else bool(
        (pd.Series(cl).groupby(df[fe].to_numpy()).nunique() == 1).all()
    )


def df_k_formula(df, k, fes, cluster_cols=None):
    """pyfixest default ssc (k_fixef='nonnested'):

    df_k = k + sum_f L_f - (n_fe - 1)                                [no clustering]
    df_k = k + sum_{f not nested} L_f + #nested - (n_fe - 1)         [clustering]
    where L_f is the number of levels of FE f and 'nested' means every level of f lies
    within a single cluster of at least one clustering dimension (for two-way, the
    dimensions checked are c1, c2 and the intersection c1 x c2).
    """
    if not fes:
        return k
    levels = {f: df[f].nunique() for f in fes}
    if not cluster_cols:
        return k + sum(levels.values()) - (len(fes) - 1)
    dims = [df[c].astype(str).to_numpy() for c in cluster_cols]
    if len(cluster_cols) == 2:
        dims.append((df[cluster_cols[0]].astype(str) + "-" + df[cluster_cols[1]].astype(str)).to_numpy())
    nested = [f for f in fes if any(fe_nested_in(df, f, d) for d in dims)]
    return k + sum(levels[f] for f in fes if f not in nested) + len(nested) - (len(fes) - 1)


# --------------------------------------------------------------------------------------
# recording helpers
# --------------------------------------------------------------------------------------
def pf_block(fit, vcov, vcov_label, rc: Recompute, rc_se, formula_text, df_t_expected, case):
    names = list(fit._coefnames)
    se = fit.se().to_numpy()
    t = fit.tstat().to_numpy()
    p = fit.pvalue().to_numpy()
    ci = fit.confint().to_numpy()
    df_t = float(fit._df_t)
    k_fe = fit._k_fe
    blk = {
        "source": f"pyfixest {pf.__version__} feols, vcov={vcov!r}",
        "coef": fl(fit.coef().to_numpy()),
        "se": fl(se),
        "t": fl(t),
        "p": fl(p),
        "p_sf": fl(2 * stats.t.sf(np.abs(t), df_t)),
        "ci_low": fl(ci[:, 0]),
        "ci_high": fl(ci[:, 1]),
        "vcov": [fl(r) for r in np.asarray(fit._vcov)],
        "vcov_diag": fl(np.diag(np.asarray(fit._vcov))),
        "dof": {
            "N": int(fit._N),
            "k": int(fit._k),
            "k_fe": ({str(kk).replace("__fixed_effect__(", "").rstrip(")"): int(v)
                      for kk, v in sorted(k_fe.items())} if k_fe is not None else None),
            "n_fe": int(fit._n_fe),
            "df_k": int(fit._df_k),
            "df_t": int(df_t),
            "ssc": fl(fit._ssc),
            "G": [int(g) for g in fit._G] if fit._G else None,
        },
    }
    # independent check
    d_se = rel(se, rc_se)
    d_beta = rel(fit.coef().to_numpy(), rc.beta)
    q = stats.t.ppf(0.975, df_t)
    beta = fit.coef().to_numpy()
    d_ci = max(rel(ci[:, 0], beta - q * se), rel(ci[:, 1], beta + q * se))
    d_p = rel(p, 2 * (1 - stats.t.cdf(np.abs(t), df_t)))
    ok = d_se < TOL and d_beta < TOL and df_t == df_t_expected and d_ci < 1e-12 and d_p < 1e-12
    blk["recompute"] = {
        "formula": formula_text,
        "se": fl(rc_se),
        "max_rel_diff_se": d_se,
        "max_rel_diff_coef": d_beta,
        "max_rel_diff_ci_vs_beta_pm_tppf0975_dft_se": d_ci,
        "max_rel_diff_p_vs_2(1-tcdf(|t|,df_t))": d_p,
        "df_t_expected": df_t_expected,
        "ok": bool(ok),
    }
    if not ok:
        failures.append(f"{case}/{vcov_label}: se diff {d_se:.3e}, coef diff {d_beta:.3e}, "
                        f"df_t {df_t} vs {df_t_expected}, ci {d_ci:.3e}, p {d_p:.3e}")
    assert names == list(fit.coef().index)
    return blk


def run_pf_case(case, df, fml, X, y, fes, vcovs, w=None, weights_name=None):
    """vcovs: list of (label, pyfixest vcov argument, kind, cluster cols)."""
    Z = dummies(df, fes) if fes else None
    rc = Recompute(X, y, w=w, Z=Z)
    out = {}
    for label, vc, kind, ccols in vcovs:
        kw = {"fixef_tol": FIXEF_TOL} if fes else {}
        fit = pf.feols(fml, data=df, vcov=vc, weights=weights_name, **kw)
        if kind == "iid":
            dk = df_k_formula(df, X.shape[1], fes)
            se = rc.se_iid(dk)
            ftxt = "sqrt(diag( u'u/(N-df_k) * (X~'X~)^-1 )), df_k = k + sum L_f - (n_fe-1)"
            dft = rc.N - dk
        elif kind == "HC1":
            dk = df_k_formula(df, X.shape[1], fes)
            se = rc.se_hc("HC1", dk)
            ftxt = "N/(N-df_k) * B M_HC0 B, df_k = k + sum L_f - (n_fe-1)"
            dft = rc.N - dk
        else:
            dk = df_k_formula(df, X.shape[1], fes, ccols)
            se, G, dft = rc.se_crv1([df[c].to_numpy() for c in ccols], dk)
            if len(ccols) == 1:
                ftxt = ("(N-1)/(N-df_k) * G/(G-1) * B (sum_g s_g s_g') B, "
                        "df_k = k + sum_{non-nested f} L_f + #nested - (n_fe-1), df_t = G-1")
            else:
                ftxt = ("(N-1)/(N-df_k) * Gmin/(Gmin-1) * B (M_1 + M_2 - M_12) B, Gmin=min(G1,G2), "
                        "df_k as one-way with nesting checked against c1, c2, c1xc2; df_t = Gmin-1")
        blk = pf_block(fit, vc, label, rc, se, ftxt, dft, case)
        if fes:
            blk["source"] += f", fixef_tol={FIXEF_TOL:g}"
            fit0 = pf.feols(fml, data=df, vcov=vc, weights=weights_name)
            blk["se_default_fixef_tol"] = fl(fit0.se().to_numpy())
            blk["coef_default_fixef_tol"] = fl(fit0.coef().to_numpy())
        blk["recompute"]["df_k_formula"] = int(dk)
        if kind == "CRV1":
            blk["recompute"]["G_raw"] = [int(g) for g in G]  # distinct clusters per term (c1[, c2, c1xc2])
        if blk["dof"]["df_k"] != dk:
            failures.append(f"{case}/{label}: df_k {blk['dof']['df_k']} vs formula {dk}")
        out[label] = blk
    return out, rc


def sm_block(res, label, extra=None):
    b = {
        "source": f"statsmodels {statsmodels.__version__} {type(res.model).__name__}.fit(cov_type={label!r})",
        "coef": fl(res.params),
        "se": fl(res.bse),
    }
    if extra:
        b.update(extra)
    return b


# --------------------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------------------
def case_ols_wls_mpdta(weighted: bool):
    d = load_mpdta()
    names = ["Intercept", "lpop", "D"]
    X = np.column_stack([np.ones(len(d)), d["lpop"], d["D"]])
    y = d["lemp"].to_numpy()
    w = d["w"].to_numpy() if weighted else None
    case = "wls_mpdta" if weighted else "ols_mpdta"
    model = sm.WLS(y, X, weights=w) if weighted else sm.OLS(y, X)

    rc = Recompute(X, y, w=w)
    sm_out = {}
    labels = ["HC0", "HC1", "HC2", "HC3"] if weighted else ["nonrobust", "HC0", "HC1", "HC2", "HC3"]
    for lab in labels:
        res = model.fit(cov_type=lab)
        key = "iid" if lab == "nonrobust" else lab
        if lab == "nonrobust":
            mine = rc.se_iid(X.shape[1])
        else:
            mine = rc.se_hc(lab, X.shape[1])
        sm_out[key] = sm_block(res, lab)
        sm_out[key]["recompute_max_rel_diff_se"] = rel(res.bse, mine)
        if rel(res.bse, mine) > TOL:
            failures.append(f"{case}/statsmodels {lab}: {rel(res.bse, mine):.3e}")
    if weighted:
        # iid for WLS too, for completeness
        res = model.fit()
        sm_out["iid"] = sm_block(res, "nonrobust")
    # statsmodels cluster-robust, for comparison with pyfixest CRV1
    res = model.fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(d["countyreal"])[0]})
    sm_out["cluster_countyreal"] = sm_block(
        res, "cluster",
        {"note": ("cov_kwds groups=countyreal, use_correction=True, df_correction=True (defaults); "
                  "SE factor (N-1)/(N-k)*G/(G-1); use_t defaults to False so t/p/CI are NORMAL-based "
                  "(pyfixest uses t(G-1))"),
         "t": fl(res.tvalues), "p": fl(res.pvalues),
         "ci_low": fl(res.conf_int()[:, 0]), "ci_high": fl(res.conf_int()[:, 1])},
    )
    res_iid = model.fit()

    fml = "lemp ~ lpop + D"
    pf_out, _ = run_pf_case(
        case, d, fml, X, y, [],
        [("iid", "iid", "iid", None), ("HC1", "hetero", "HC1", None),
         ("CRV1_countyreal", {"CRV1": "countyreal"}, "CRV1", ["countyreal"])],
        w=w, weights_name="w" if weighted else None,
    )
    return {
        "source": (f"statsmodels {statsmodels.__version__} {'WLS' if weighted else 'OLS'} "
                   f"cov_type nonrobust/HC0-HC3/cluster; pyfixest {pf.__version__} feols iid/HC1/CRV1"),
        "description": ("lemp ~ 1 + lpop + D on mpdta, D = 1[first.treat>0 & year>=first.treat]"
                        + ("; aweights w = exp(lpop)" if weighted else "")),
        "formula": fml,
        "weights": "exp(lpop)" if weighted else None,
        "n": int(len(d)),
        "coef_names": names,
        "coef": fl(res_iid.params),
        "statsmodels": sm_out,
        "pyfixest": pf_out,
    }


def case_twfe_mpdta():
    d = load_mpdta()
    X = d[["D"]].to_numpy()
    y = d["lemp"].to_numpy()
    fes = ["countyreal", "year"]
    vcovs = [
        ("iid", "iid", "iid", None),
        ("HC1", "hetero", "HC1", None),
        ("CRV1_countyreal", {"CRV1": "countyreal"}, "CRV1", ["countyreal"]),
        ("CRV1_countyreal_year", {"CRV1": "countyreal+year"}, "CRV1", ["countyreal", "year"]),
        ("CRV1_state", {"CRV1": "state"}, "CRV1", ["state"]),
    ]
    fml = "lemp ~ D | countyreal + year"
    unw, _ = run_pf_case("twfe_mpdta", d, fml, X, y, fes, vcovs)
    wtd, _ = run_pf_case("twfe_mpdta_weighted", d, fml, X, y, fes, vcovs,
                         w=d["w"].to_numpy(), weights_name="w")
    return {
        "source": f"pyfixest {pf.__version__} feols, vcov iid/hetero/CRV1 (one- and two-way), default ssc()",
        "description": ("lemp ~ D | countyreal + year on mpdta (N=2500, 500 counties x 5 years); "
                        "CRV1_state (extra) clusters by state = countyreal // 1000 (29 clusters)"),
        "formula": fml,
        "n": int(len(d)),
        "coef_names": ["D"],
        "unweighted": {"weights": None, "pyfixest": unw},
        "weighted": {"weights": "exp(lpop) (aweights)", "pyfixest": wtd},
    }


def case_twfe_prop99():
    d = load_prop99()
    X = d[["treated"]].to_numpy().astype(float)
    y = d["PacksPerCapita"].to_numpy()
    fml = "PacksPerCapita ~ treated | State + Year"
    out, _ = run_pf_case(
        "twfe_prop99", d, fml, X, y, ["State", "Year"],
        [("iid", "iid", "iid", None), ("HC1", "hetero", "HC1", None),
         ("CRV1_State", {"CRV1": "State"}, "CRV1", ["State"])],
    )
    return {
        "source": f"pyfixest {pf.__version__} feols, vcov iid/hetero/CRV1 State",
        "description": "PacksPerCapita ~ treated | State + Year, california_prop99 (39 states x 31 years)",
        "formula": fml,
        "n": int(len(d)),
        "coef_names": ["treated"],
        "pyfixest": out,
    }


def case_fe3_hillstrom():
    d = load_hillstrom()
    xs = ["recency", "history", "newbie"]
    X = d[xs].to_numpy().astype(float)
    y = d["spend"].to_numpy()
    fes = ["zip_code", "channel", "history_segment"]
    fml = "spend ~ recency + history + newbie | zip_code + channel + history_segment"
    out, _ = run_pf_case(
        "fe3_hillstrom", d, fml, X, y, fes,
        [("iid", "iid", "iid", None), ("HC1", "hetero", "HC1", None),
         ("CRV1_history_segment", {"CRV1": "history_segment"}, "CRV1", ["history_segment"]),
         ("CRV1_zip_code_channel", {"CRV1": "zip_code+channel"}, "CRV1", ["zip_code", "channel"])],
    )
    return {
        "source": f"pyfixest {pf.__version__} feols, three FE, vcov iid/hetero/CRV1 one- and two-way",
        "description": "spend ~ recency + history + newbie | zip_code + channel + history_segment (hillstrom, N=64000)",
        "formula": fml,
        "n": int(len(d)),
        "coef_names": xs,
        "fe_levels": {f: int(d[f].nunique()) for f in fes},
        "pyfixest": out,
    }


def case_logit_hillstrom():
    d = load_hillstrom()
    xs = ["recency", "history", "mens", "womens", "newbie"]
    X = sm.add_constant(d[xs].astype(float))
    y = d["visit"].astype(float)
    mod = sm.Logit(y, X)
    r = mod.fit(disp=0)
    r_hc0 = mod.fit(disp=0, cov_type="HC0")
    rv = r.mle_retvals
    # independent HC0 check: B (sum s s') B with B = inverse of the negative Hessian at beta
    beta = r.params.to_numpy()
    Xn = X.to_numpy()
    pr = 1 / (1 + np.exp(-Xn @ beta))
    B = np.linalg.inv((Xn * (pr * (1 - pr))[:, None]).T @ Xn)
    s = Xn * (y.to_numpy() - pr)[:, None]
    hc0 = np.sqrt(np.diag(B @ (s.T @ s) @ B))
    d_hc0 = rel(r_hc0.bse, hc0)
    d_iid = rel(r.bse, np.sqrt(np.diag(B)))
    if d_hc0 > 1e-7 or d_iid > 1e-7:
        failures.append(f"logit recompute: hc0 {d_hc0:.3e} iid {d_iid:.3e}")
    return {
        "source": f"statsmodels {statsmodels.__version__} Logit.fit (method='newton' default), cov nonrobust and HC0",
        "description": "visit ~ 1 + recency + history + mens + womens + newbie, hillstrom (N=64000)",
        "n": int(len(d)),
        "coef_names": ["const"] + xs,
        "params": fl(r.params),
        "bse": fl(r.bse),
        "z": fl(r.tvalues),
        "p": fl(r.pvalues),
        "llf": float(r.llf),
        "llnull": float(r.llnull),
        "iterations": int(rv.get("iterations")),
        "converged": bool(rv.get("converged")),
        "mle_retvals": {k: (float(v) if isinstance(v, (float, np.floating)) else
                            bool(v) if isinstance(v, (bool, np.bool_)) else
                            int(v) if isinstance(v, (int, np.integer)) else
                            np.asarray(v, float).tolist() if isinstance(v, np.ndarray) else str(v))
                        for k, v in rv.items()},
        "bse_HC0": fl(r_hc0.bse),
        "z_HC0": fl(r_hc0.tvalues),
        "p_HC0": fl(r_hc0.pvalues),
        "recompute": {
            "formula": "HC0 = B (sum_i x_i x_i' (y_i-p_i)^2) B, B = (X' diag(p(1-p)) X)^-1; no small-sample factor",
            "max_rel_diff_bse": d_iid,
            "max_rel_diff_bse_HC0": d_hc0,
        },
    }


def case_multitest():
    vecs = [
        [0.01, 0.04, 0.03, 0.005, 0.55, 0.6],
        [0.898, 0.138, 0.007, 0.964, 0.538, 0.006, 0.138],
        [0.2, 0.2, 0.01, 0.049, 0.051, 1.0, 0.0001, 0.03],
    ]
    methods = ["bonferroni", "holm", "simes-hochberg", "fdr_bh", "fdr_by"]
    out = []
    for p in vecs:
        e = {"pvals": p, "adjusted": {}, "reject_0.05": {}}
        for m in methods:
            rej, adj, _, _ = multipletests(p, alpha=0.05, method=m)
            e["adjusted"][m] = fl(adj)
            e["reject_0.05"][m] = [bool(v) for v in rej]
        out.append(e)
    return {
        "source": f"statsmodels {statsmodels.__version__} statsmodels.stats.multitest.multipletests(p, alpha=0.05, method=m)",
        "methods": methods,
        "cases": out,
    }


def case_distributions():
    return {
        "source": f"scipy {scipy.__version__} scipy.stats",
        "t_sf": [{"x": x, "df": df, "value": float(stats.t.sf(x, df))}
                 for x, df in [(2.0, 10), (20.0, 197), (1.96, 1e6), (0.5, 3)]],
        "t_ppf_0975": [{"df": df, "value": float(stats.t.ppf(0.975, df))}
                       for df in [1, 5, 30, 499, 1e6]],
        "norm_sf": [{"x": x, "value": float(stats.norm.sf(x))} for x in [1.0, 5.0, 10.0]],
        "norm_ppf": [{"p": p, "value": float(stats.norm.ppf(p))} for p in [1e-10, 0.025, 0.5, 0.975]],
        "chi2_sf": [{"x": x, "df": df, "value": float(stats.chi2.sf(x, df))}
                    for x, df in [(3.9216, 1), (30.0, 10), (200.0, 50)]],
        "f_sf": [{"x": x, "d1": d1, "d2": d2, "value": float(stats.f.sf(x, d1, d2))}
                 for x, d1, d2 in [(3.0, 2, 30), (10.0, 5, 100)]],
    }


def convention_checks(out):
    """Show that plausible alternative conventions do NOT reproduce pyfixest (for the README)."""
    res = {"description": "se of the first coefficient under alternative small-sample conventions; "
                          "rel_diff = |alt/pyfixest - 1|. Only the 'pyfixest' rows match."}

    def row(pf_se, alts):
        return {k: {"se": float(v), "rel_diff": float(abs(v / pf_se - 1))} for k, v in alts.items()}

    # TWFE mpdta, unweighted
    d = load_mpdta()
    X = d[["D"]].to_numpy()
    rc = Recompute(X, d["lemp"].to_numpy(), Z=dummies(d, ["countyreal", "year"]))
    N = rc.N
    pfb = out["twfe_mpdta"]["unweighted"]["pyfixest"]
    B0 = rc.sandwich(rc.meat_hc0())[0, 0]
    res["twfe_mpdta_HC1"] = row(pfb["HC1"]["se"][0], {
        "pyfixest: N/(N-df_k), df_k=k+sum L_f-(n_fe-1)=505": math.sqrt(N / (N - 505) * B0),
        "(N-1)/(N-df_k), df_k=505": math.sqrt((N - 1) / (N - 505) * B0),
        "N/(N-k), FE not counted (k=1)": math.sqrt(N / (N - 1) * B0),
        "N/(N-df_k), df_k=k+sum L_f=506 (no redundancy correction)": math.sqrt(N / (N - 506) * B0),
    })
    M, G = rc.meat_cluster(d["countyreal"].to_numpy())
    C0 = rc.sandwich(M)[0, 0]
    res["twfe_mpdta_CRV1_countyreal"] = row(pfb["CRV1_countyreal"]["se"][0], {
        "pyfixest: (N-1)/(N-df_k)*G/(G-1), df_k=6 (nested county FE -> 1)": math.sqrt((N - 1) / (N - 6) * G / (G - 1) * C0),
        "df_k=505 (all FE counted)": math.sqrt((N - 1) / (N - 505) * G / (G - 1) * C0),
        "df_k=1 (FE not counted at all)": math.sqrt((N - 1) / (N - 1) * G / (G - 1) * C0),
        "G/(G-1) only": math.sqrt(G / (G - 1) * C0),
    })
    M1, G1 = rc.meat_cluster(d["countyreal"].to_numpy())
    M2, G2 = rc.meat_cluster(d["year"].to_numpy())
    M12, G12 = rc.meat_cluster((d["countyreal"].astype(str) + "-" + d["year"].astype(str)).to_numpy())
    a = (N - 1) / (N - 2)
    S = lambda M: rc.sandwich(M)[0, 0]
    gm = min(G1, G2)
    res["twfe_mpdta_CRV1_countyreal_year"] = row(pfb["CRV1_countyreal_year"]["se"][0], {
        "pyfixest: (N-1)/(N-df_k)*Gmin/(Gmin-1)*(V1+V2-V12), df_k=2": math.sqrt(a * gm / (gm - 1) * (S(M1) + S(M2) - S(M12))),
        "conventional: (N-1)/(N-df_k)*sum_j sign_j G_j/(G_j-1) V_j, df_k=2": math.sqrt(
            a * (G1 / (G1 - 1) * S(M1) + G2 / (G2 - 1) * S(M2) - G12 / (G12 - 1) * S(M12))),
        "min G, df_k=6 (only county nested)": math.sqrt((N - 1) / (N - 6) * gm / (gm - 1) * (S(M1) + S(M2) - S(M12))),
    })
    res["twfe_mpdta_CRV1_countyreal_year"]["G"] = [G1, G2, G12]
    return res


def main():
    out = {
        "versions": {
            "pyfixest": pf.__version__,
            "statsmodels": statsmodels.__version__,
            "scipy": scipy.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "python": sys.version.split()[0],
        },
        "generated_by": "~/.cache/causalkit-peers/panel/bin/python reference/scripts/stats_reference.py",
        "ols_mpdta": case_ols_wls_mpdta(False),
        "wls_mpdta": case_ols_wls_mpdta(True),
        "twfe_mpdta": case_twfe_mpdta(),
        "twfe_prop99": case_twfe_prop99(),
        "fe3_hillstrom": case_fe3_hillstrom(),
        "logit_hillstrom": case_logit_hillstrom(),
        "multitest": case_multitest(),
        "distributions": case_distributions(),
    }

    out["convention_checks"] = convention_checks(out)

    # sanity values from the brief
    tw = out["twfe_mpdta"]["unweighted"]["pyfixest"]
    pr = out["twfe_prop99"]["pyfixest"]
    checks = [
        (tw["CRV1_countyreal"]["coef"][0], -0.036549, 5e-7),
        (tw["CRV1_countyreal"]["se"][0], 0.013265, 5e-7),
        (tw["HC1"]["se"][0], 0.01236, 5e-6),
        (pr["CRV1_State"]["coef"][0], -27.3491, 5e-5),
        (pr["CRV1_State"]["se"][0], 2.8024, 5e-5),
    ]
    for got, want, tol in checks:
        if abs(got - want) > tol:
            failures.append(f"sanity: {got} vs {want}")

    with open(OUT, "w") as fh:
        json.dump(out, fh, indent=1, allow_nan=False)
        fh.write("\n")
    print(f"wrote {OUT}")
    if failures:
        print("RECOMPUTATION FAILURES:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("all pyfixest/statsmodels SEs reproduced by the numpy formulas (rel tol %g)" % TOL)


if __name__ == "__main__":
    main()

//! The 2x2 building blocks of Callaway & Sant'Anna: the DRDID estimators of one
//! treated-versus-comparison, base-versus-current-period comparison, each with its
//! influence function (Sant'Anna & Zhao 2020, *J. Econometrics* 219(1); R package `DRDID`
//! 1.x functions `reg_did_panel`, `std_ipw_did_panel`, `drdid_panel`, `reg_did_rc`,
//! `std_ipw_did_rc`).
//!
//! Conventions follow `DRDID` exactly: the sampling weights are normalised to mean one
//! within the cell, the propensity score is a weighted logit capped at `1 - 1e-6`,
//! comparison units with a score of `0.995` or more are trimmed, and every influence
//! function is the per-observation term `ψᵢ` with `√n (θ̂ − θ) = n^{-1/2} Σ ψᵢ + o_p(1)`
//! (so `Var θ̂ ≈ Σ ψᵢ² / n²`).

use nalgebra::{DMatrix, DVector};

/// Which 2x2 estimator to use (see [`super::CsMethod`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Reg,
    Ipw,
    Dr,
}

/// The cell design: `n` rows of `k` columns (an intercept first), row-major.
pub(crate) struct Design<'a> {
    pub x: &'a [f64],
    pub k: usize,
}

impl Design<'_> {
    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.k..(i + 1) * self.k]
    }
    fn dot(&self, i: usize, v: &DVector<f64>) -> f64 {
        self.row(i).iter().zip(v.iter()).map(|(a, b)| a * b).sum()
    }
    /// `Σ wᵢ xᵢ xᵢᵀ / n`.
    fn gram(&self, w: &[f64]) -> DMatrix<f64> {
        let k = self.k;
        let n = w.len() as f64;
        let mut g = DMatrix::zeros(k, k);
        for (i, &wi) in w.iter().enumerate() {
            if wi == 0.0 {
                continue;
            }
            let r = self.row(i);
            for a in 0..k {
                let ra = wi * r[a];
                for b in a..k {
                    g[(a, b)] += ra * r[b];
                }
            }
        }
        for a in 0..k {
            for b in 0..a {
                g[(a, b)] = g[(b, a)];
            }
        }
        g / n
    }
    /// `Σ wᵢ xᵢ / n` (a column mean of `w * x`).
    fn col_mean(&self, w: &[f64]) -> DVector<f64> {
        let n = w.len() as f64;
        let mut m = DVector::zeros(self.k);
        for (i, &wi) in w.iter().enumerate() {
            if wi == 0.0 {
                continue;
            }
            for (a, xa) in self.row(i).iter().enumerate() {
                m[a] += wi * xa;
            }
        }
        m / n
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Inverse of a symmetric positive definite matrix, or an error naming `what`.
fn spd_inverse(m: DMatrix<f64>, what: &str) -> Result<DMatrix<f64>, String> {
    let scale = m.diagonal().amax();
    let c = m
        .clone()
        .cholesky()
        .ok_or_else(|| format!("the {what} design is singular (collinear covariates?)"))?;
    let d = c.l().diagonal();
    let (lo, hi) = d.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(*v), hi.max(*v))
    });
    if lo.is_nan() || lo <= 0.0 || (lo / hi).powi(2) < 1e-14 || scale == 0.0 {
        return Err(format!(
            "the {what} design is numerically singular (collinear or constant covariates)"
        ));
    }
    Ok(c.inverse())
}

/// Weighted least squares of `y` on the design over the rows with `w > 0`:
/// `β = (Σ wxxᵀ)⁻¹ Σ wxy`, returned with `(Σ wxxᵀ / n)⁻¹`.
fn wls(
    x: &Design,
    y: &[f64],
    w: &[f64],
    what: &str,
) -> Result<(DVector<f64>, DMatrix<f64>), String> {
    let xpx_inv = spd_inverse(x.gram(w), what)?;
    let wy: Vec<f64> = w.iter().zip(y).map(|(a, b)| a * b).collect();
    let beta = &xpx_inv * x.col_mean(&wy);
    Ok((beta, xpx_inv))
}

/// Weighted logit of `d` on the design by Newton–Raphson (R `glm(binomial)` with prior
/// weights). Returns the fitted probabilities capped at `1 - 1e-6` and `n (Σ wp(1-p)xxᵀ)⁻¹`
/// evaluated at the capped probabilities (as `DRDID`'s `vcov(ps.fit) * n`).
fn logit(x: &Design, d: &[bool], w: &[f64]) -> Result<(Vec<f64>, DMatrix<f64>), String> {
    let n = d.len();
    let k = x.k;
    let mut beta = DVector::zeros(k);
    let sw: f64 = w.iter().sum();
    let p1: f64 = w
        .iter()
        .zip(d)
        .filter(|(_, &di)| di)
        .map(|(wi, _)| wi)
        .sum::<f64>()
        / sw;
    if !(p1 > 0.0 && p1 < 1.0) {
        return Err(
            "the propensity score is degenerate (no treated or no comparison weight)".into(),
        );
    }
    beta[0] = (p1 / (1.0 - p1)).ln();
    let mut ps = vec![p1; n];
    if k > 1 {
        let mut converged = false;
        for _ in 0..100 {
            let mut score = DVector::zeros(k);
            let mut ww = vec![0.0; n];
            for i in 0..n {
                let pi = 1.0 / (1.0 + (-x.dot(i, &beta)).exp());
                ps[i] = pi;
                ww[i] = w[i] * pi * (1.0 - pi);
                let r = w[i] * (f64::from(u8::from(d[i])) - pi);
                for (a, xa) in x.row(i).iter().enumerate() {
                    score[a] += r * xa;
                }
            }
            let info = x.gram(&ww) * n as f64;
            let step = info
                .cholesky()
                .ok_or("the propensity score design is singular or separated")?
                .solve(&score);
            beta += &step;
            if step.amax() <= 1e-10 * (1.0 + beta.amax()) {
                converged = true;
                break;
            }
        }
        if !converged {
            return Err("the propensity score logit did not converge (separation?)".into());
        }
        for (i, p) in ps.iter_mut().enumerate() {
            *p = 1.0 / (1.0 + (-x.dot(i, &beta)).exp());
        }
        let max = ps.iter().cloned().fold(0.0, f64::max);
        if max >= 0.999 {
            return Err(format!(
                "overlap is violated: the largest propensity score is {max:.4} (>= 0.999)"
            ));
        }
    }
    for p in ps.iter_mut() {
        *p = p.min(1.0 - 1e-6);
    }
    let ww: Vec<f64> = w
        .iter()
        .zip(&ps)
        .map(|(wi, p)| wi * p * (1.0 - p))
        .collect();
    let hess = spd_inverse(x.gram(&ww), "propensity score")?;
    Ok((ps, hess))
}

/// Normalised weights `w / mean(w)`.
fn normalise(w: &[f64]) -> Vec<f64> {
    let m = mean(w);
    w.iter().map(|v| v / m).collect()
}

/// Panel 2x2: `dy = Y_t − Y_base`, `d` treated indicator. Returns `(ATT, ψ)`.
pub(crate) fn panel(
    kind: Kind,
    dy: &[f64],
    d: &[bool],
    x: &Design,
    w: &[f64],
) -> Result<(f64, Vec<f64>), String> {
    let n = dy.len();
    let iw = normalise(w);
    let df: Vec<f64> = d.iter().map(|&v| f64::from(u8::from(v))).collect();
    // Outcome regression on the comparison units (reg and dr).
    let w_ols: Vec<f64> = iw.iter().zip(&df).map(|(a, b)| a * (1.0 - b)).collect();
    match kind {
        Kind::Reg => {
            let (beta, xpx_inv) = wls(x, dy, &w_ols, "outcome regression")?;
            let out: Vec<f64> = (0..n).map(|i| x.dot(i, &beta)).collect();
            let w_treat: Vec<f64> = iw.iter().zip(&df).map(|(a, b)| a * b).collect();
            let mw = mean(&w_treat);
            let eta_treat = (0..n).map(|i| w_treat[i] * dy[i]).sum::<f64>() / n as f64 / mw;
            let eta_cont = (0..n).map(|i| w_treat[i] * out[i]).sum::<f64>() / n as f64 / mw;
            let m1 = x.col_mean(&w_treat);
            let v = &xpx_inv * m1;
            let inf = (0..n)
                .map(|i| {
                    let inf_treat = (w_treat[i] * dy[i] - w_treat[i] * eta_treat) / mw;
                    let c1 = w_treat[i] * out[i] - w_treat[i] * eta_cont;
                    let c2 = w_ols[i] * (dy[i] - out[i]) * x.dot(i, &v);
                    inf_treat - (c1 + c2) / mw
                })
                .collect();
            Ok((eta_treat - eta_cont, inf))
        }
        Kind::Ipw | Kind::Dr => {
            let (ps, hess) = logit(x, d, &iw)?;
            let (out, ols) = if kind == Kind::Dr {
                let (beta, xpx_inv) = wls(x, dy, &w_ols, "outcome regression")?;
                ((0..n).map(|i| x.dot(i, &beta)).collect(), Some(xpx_inv))
            } else {
                (vec![0.0; n], None)
            };
            let w_treat: Vec<f64> = (0..n).map(|i| iw[i] * df[i]).collect();
            let w_cont: Vec<f64> = (0..n)
                .map(|i| {
                    if d[i] || ps[i] >= 0.995 {
                        0.0
                    } else {
                        iw[i] * ps[i] / (1.0 - ps[i])
                    }
                })
                .collect();
            let r: Vec<f64> = (0..n).map(|i| dy[i] - out[i]).collect();
            let mwt = mean(&w_treat);
            let mwc = mean(&w_cont);
            if mwc.is_nan() || mwc <= 0.0 {
                return Err("every comparison unit was trimmed (propensity >= 0.995)".into());
            }
            let eta_treat = (0..n).map(|i| w_treat[i] * r[i]).sum::<f64>() / n as f64 / mwt;
            let eta_cont = (0..n).map(|i| w_cont[i] * r[i]).sum::<f64>() / n as f64 / mwc;
            // Propensity-score estimation effect: M2 = mean(w_cont (r − η_c) x).
            let pre_m2: Vec<f64> = (0..n).map(|i| w_cont[i] * (r[i] - eta_cont)).collect();
            let v_ps = &hess * x.col_mean(&pre_m2);
            // Outcome-regression estimation effects (dr only).
            let (v1, v3) = match &ols {
                Some(xpx_inv) => (
                    xpx_inv * x.col_mean(&w_treat),
                    xpx_inv * x.col_mean(&w_cont),
                ),
                None => (DVector::zeros(x.k), DVector::zeros(x.k)),
            };
            let inf = (0..n)
                .map(|i| {
                    let lin_ps = iw[i] * (df[i] - ps[i]);
                    let lin_ols = w_ols[i] * r[i];
                    let t1 = w_treat[i] * r[i] - w_treat[i] * eta_treat;
                    let t2 = if ols.is_some() {
                        lin_ols * x.dot(i, &v1)
                    } else {
                        0.0
                    };
                    let inf_treat = (t1 - t2) / mwt;
                    let c1 = w_cont[i] * r[i] - w_cont[i] * eta_cont;
                    let c2 = lin_ps * x.dot(i, &v_ps);
                    let c3 = if ols.is_some() {
                        lin_ols * x.dot(i, &v3)
                    } else {
                        0.0
                    };
                    inf_treat - (c1 + c2 - c3) / mwc
                })
                .collect();
            Ok((eta_treat - eta_cont, inf))
        }
    }
}

/// A weighted least-squares fit on a subset (`w = 0` off the subset) with its linear
/// representation `ψ_i^{ols} = w_i (y_i − x_iᵀβ) x_iᵀ (Σ wxxᵀ/n)⁻¹`.
struct SubsetOls {
    fitted: Vec<f64>,
    resid_w: Vec<f64>,
    xpx_inv: DMatrix<f64>,
}

impl SubsetOls {
    fn fit(x: &Design, y: &[f64], w: Vec<f64>, what: &str) -> Result<Self, String> {
        let (beta, xpx_inv) = wls(x, y, &w, what)?;
        let fitted: Vec<f64> = (0..y.len()).map(|i| x.dot(i, &beta)).collect();
        let resid_w = (0..y.len()).map(|i| w[i] * (y[i] - fitted[i])).collect();
        Ok(SubsetOls {
            fitted,
            resid_w,
            xpx_inv,
        })
    }
    /// `ψ^{ols} · m` for every observation.
    fn lin(&self, x: &Design, m: &DVector<f64>) -> Vec<f64> {
        let v = &self.xpx_inv * m;
        (0..self.fitted.len())
            .map(|i| self.resid_w[i] * x.dot(i, &v))
            .collect()
    }
}

fn scaled_mean(w: &[f64], f: impl Fn(usize) -> f64) -> f64 {
    (0..w.len()).map(|i| w[i] * f(i)).sum::<f64>() / w.len() as f64
}

/// Repeated cross-section 2x2: outcome `y`, `post` (current period), treated `d`.
/// Returns `(ATT, ψ)` (`DRDID::reg_did_rc`, `std_ipw_did_rc`, `drdid_rc`).
pub(crate) fn rc(
    kind: Kind,
    y: &[f64],
    post: &[bool],
    d: &[bool],
    x: &Design,
    w: &[f64],
) -> Result<(f64, Vec<f64>), String> {
    let n = y.len();
    let iw = normalise(w);
    let df: Vec<f64> = d.iter().map(|&v| f64::from(u8::from(v))).collect();
    let pf: Vec<f64> = post.iter().map(|&v| f64::from(u8::from(v))).collect();
    let sel = |dd: f64, pp: f64| -> Vec<f64> {
        (0..n)
            .map(|i| {
                let a = if dd > 0.5 { df[i] } else { 1.0 - df[i] };
                let b = if pp > 0.5 { pf[i] } else { 1.0 - pf[i] };
                iw[i] * a * b
            })
            .collect()
    };
    match kind {
        Kind::Reg => {
            let pre = SubsetOls::fit(
                x,
                y,
                sel(0.0, 0.0),
                "outcome regression (comparison, base period)",
            )?;
            let pst = SubsetOls::fit(
                x,
                y,
                sel(0.0, 1.0),
                "outcome regression (comparison, current period)",
            )?;
            let w_tpre = sel(1.0, 0.0);
            let w_tpost = sel(1.0, 1.0);
            let w_t: Vec<f64> = (0..n).map(|i| iw[i] * df[i]).collect();
            let (m_pre, m_post, m_t) = (mean(&w_tpre), mean(&w_tpost), mean(&w_t));
            let eta_pre = scaled_mean(&w_tpre, |i| y[i]) / m_pre;
            let eta_post = scaled_mean(&w_tpost, |i| y[i]) / m_post;
            let eta_cont = scaled_mean(&w_t, |i| pst.fitted[i] - pre.fitted[i]) / m_t;
            let mom = x.col_mean(&w_t);
            let l_post = pst.lin(x, &mom);
            let l_pre = pre.lin(x, &mom);
            let inf = (0..n)
                .map(|i| {
                    let tp = (w_tpre[i] * y[i] - w_tpre[i] * eta_pre) / m_pre;
                    let tq = (w_tpost[i] * y[i] - w_tpost[i] * eta_post) / m_post;
                    let c1 = w_t[i] * (pst.fitted[i] - pre.fitted[i]) - w_t[i] * eta_cont;
                    let c = (c1 + l_post[i] - l_pre[i]) / m_t;
                    tq - tp - c
                })
                .collect();
            Ok((eta_post - eta_pre - eta_cont, inf))
        }
        Kind::Ipw | Kind::Dr => {
            let (ps, hess) = logit(x, d, &iw)?;
            let trim: Vec<f64> = (0..n)
                .map(|i| if !d[i] && ps[i] >= 0.995 { 0.0 } else { 1.0 })
                .collect();
            let wt = |pp: bool| -> Vec<f64> {
                (0..n)
                    .map(|i| trim[i] * iw[i] * df[i] * if pp { pf[i] } else { 1.0 - pf[i] })
                    .collect()
            };
            let wc = |pp: bool| -> Vec<f64> {
                (0..n)
                    .map(|i| {
                        trim[i]
                            * iw[i]
                            * ps[i]
                            * (1.0 - df[i])
                            * if pp { pf[i] } else { 1.0 - pf[i] }
                            / (1.0 - ps[i])
                    })
                    .collect()
            };
            let (w_tpre, w_tpost, w_cpre, w_cpost) = (wt(false), wt(true), wc(false), wc(true));
            let ms = [mean(&w_tpre), mean(&w_tpost), mean(&w_cpre), mean(&w_cpost)];
            if ms.iter().any(|m| m.is_nan() || *m <= 0.0) {
                return Err("a treated or comparison period has no (untrimmed) weight".into());
            }
            let [m_tpre, m_tpost, m_cpre, m_cpost] = ms;
            let ps_lin = |m: &DVector<f64>| -> Vec<f64> {
                let v = &hess * m;
                (0..n)
                    .map(|i| iw[i] * (df[i] - ps[i]) * x.dot(i, &v))
                    .collect()
            };
            if kind == Kind::Ipw {
                let a_tpre = scaled_mean(&w_tpre, |i| y[i]) / m_tpre;
                let a_tpost = scaled_mean(&w_tpost, |i| y[i]) / m_tpost;
                let a_cpre = scaled_mean(&w_cpre, |i| y[i]) / m_cpre;
                let a_cpost = scaled_mean(&w_cpost, |i| y[i]) / m_cpost;
                let att = (a_tpost - a_tpre) - (a_cpost - a_cpre);
                let m2_pre: Vec<f64> = (0..n)
                    .map(|i| w_cpre[i] * (y[i] - a_cpre) / m_cpre)
                    .collect();
                let m2_post: Vec<f64> = (0..n)
                    .map(|i| w_cpost[i] * (y[i] - a_cpost) / m_cpost)
                    .collect();
                let l_ps = ps_lin(&(x.col_mean(&m2_post) - x.col_mean(&m2_pre)));
                let inf = (0..n)
                    .map(|i| {
                        let t_pre = w_tpre[i] * (y[i] - a_tpre) / m_tpre;
                        let t_post = w_tpost[i] * (y[i] - a_tpost) / m_tpost;
                        let c_pre = w_cpre[i] * (y[i] - a_cpre) / m_cpre;
                        let c_post = w_cpost[i] * (y[i] - a_cpost) / m_cpost;
                        (t_post - t_pre) - (c_post - c_pre + l_ps[i])
                    })
                    .collect();
                return Ok((att, inf));
            }
            // Doubly robust (Sant'Anna & Zhao 2020, eq. 3.4, locally efficient).
            let c_pre = SubsetOls::fit(
                x,
                y,
                sel(0.0, 0.0),
                "outcome regression (comparison, base period)",
            )?;
            let c_post = SubsetOls::fit(
                x,
                y,
                sel(0.0, 1.0),
                "outcome regression (comparison, current period)",
            )?;
            let t_pre = SubsetOls::fit(
                x,
                y,
                sel(1.0, 0.0),
                "outcome regression (treated, base period)",
            )?;
            let t_post = SubsetOls::fit(
                x,
                y,
                sel(1.0, 1.0),
                "outcome regression (treated, current period)",
            )?;
            let out_c: Vec<f64> = (0..n)
                .map(|i| {
                    if post[i] {
                        c_post.fitted[i]
                    } else {
                        c_pre.fitted[i]
                    }
                })
                .collect();
            let w_d: Vec<f64> = (0..n).map(|i| trim[i] * iw[i] * df[i]).collect();
            let (w_dt1, w_dt0) = (w_tpost.clone(), w_tpre.clone());
            let (m_d, m_dt1, m_dt0) = (mean(&w_d), m_tpost, m_tpre);
            let r: Vec<f64> = (0..n).map(|i| y[i] - out_c[i]).collect();
            let a_tpre = scaled_mean(&w_tpre, |i| r[i]) / m_tpre;
            let a_tpost = scaled_mean(&w_tpost, |i| r[i]) / m_tpost;
            let a_cpre = scaled_mean(&w_cpre, |i| r[i]) / m_cpre;
            let a_cpost = scaled_mean(&w_cpost, |i| r[i]) / m_cpost;
            let dpost: Vec<f64> = (0..n)
                .map(|i| t_post.fitted[i] - c_post.fitted[i])
                .collect();
            let dpre: Vec<f64> = (0..n).map(|i| t_pre.fitted[i] - c_pre.fitted[i]).collect();
            let a_dpost = scaled_mean(&w_d, |i| dpost[i]) / m_d;
            let a_dt1 = scaled_mean(&w_dt1, |i| dpost[i]) / m_dt1;
            let a_dpre = scaled_mean(&w_d, |i| dpre[i]) / m_d;
            let a_dt0 = scaled_mean(&w_dt0, |i| dpre[i]) / m_dt0;
            let att =
                (a_tpost - a_tpre) - (a_cpost - a_cpre) + (a_dpost - a_dt1) - (a_dpre - a_dt0);
            // Estimation effects.
            let m1_post = -x.col_mean(
                &w_tpost
                    .iter()
                    .zip(&pf)
                    .map(|(a, b)| a * b)
                    .collect::<Vec<_>>(),
            ) / m_tpost;
            let m1_pre = -x.col_mean(
                &w_tpre
                    .iter()
                    .zip(&pf)
                    .map(|(a, b)| a * (1.0 - b))
                    .collect::<Vec<_>>(),
            ) / m_tpre;
            let tor_post = c_post.lin(x, &m1_post);
            let tor_pre = c_pre.lin(x, &m1_pre);
            let m2_pre: Vec<f64> = (0..n)
                .map(|i| w_cpre[i] * (r[i] - a_cpre) / m_cpre)
                .collect();
            let m2_post: Vec<f64> = (0..n)
                .map(|i| w_cpost[i] * (r[i] - a_cpost) / m_cpost)
                .collect();
            let l_ps = ps_lin(&(x.col_mean(&m2_post) - x.col_mean(&m2_pre)));
            let m3_post = -x.col_mean(
                &w_cpost
                    .iter()
                    .zip(&pf)
                    .map(|(a, b)| a * b)
                    .collect::<Vec<_>>(),
            ) / m_cpost;
            let m3_pre = -x.col_mean(
                &w_cpre
                    .iter()
                    .zip(&pf)
                    .map(|(a, b)| a * (1.0 - b))
                    .collect::<Vec<_>>(),
            ) / m_cpre;
            let cor_post = c_post.lin(x, &m3_post);
            let cor_pre = c_pre.lin(x, &m3_pre);
            let mom = |wa: &[f64], ma: f64, wb: &[f64], mb: f64| -> DVector<f64> {
                let v: Vec<f64> = (0..n).map(|i| wa[i] / ma - wb[i] / mb).collect();
                x.col_mean(&v)
            };
            let mom_post = mom(&w_d, m_d, &w_dt1, m_dt1);
            let mom_pre = mom(&w_d, m_d, &w_dt0, m_dt0);
            let or_post_t = t_post.lin(x, &mom_post);
            let or_post_c = c_post.lin(x, &mom_post);
            let or_pre_t = t_pre.lin(x, &mom_pre);
            let or_pre_c = c_pre.lin(x, &mom_pre);
            let inf = (0..n)
                .map(|i| {
                    let i_tpre = w_tpre[i] * (r[i] - a_tpre) / m_tpre;
                    let i_tpost = w_tpost[i] * (r[i] - a_tpost) / m_tpost;
                    let i_cpre = w_cpre[i] * (r[i] - a_cpre) / m_cpre;
                    let i_cpost = w_cpost[i] * (r[i] - a_cpost) / m_cpost;
                    let eff1 = w_d[i] * (dpost[i] - a_dpost) / m_d;
                    let eff2 = w_dt1[i] * (dpost[i] - a_dt1) / m_dt1;
                    let eff3 = w_d[i] * (dpre[i] - a_dpre) / m_d;
                    let eff4 = w_dt0[i] * (dpre[i] - a_dt0) / m_dt0;
                    let inf_eff = (eff1 - eff2) - (eff3 - eff4);
                    let inf_or = (or_post_t[i] - or_post_c[i]) - (or_pre_t[i] - or_pre_c[i]);
                    let inf_treat = i_tpost - i_tpre + (tor_post[i] - tor_pre[i]);
                    let inf_cont = i_cpost - i_cpre + l_ps[i] + (cor_post[i] - cor_pre[i]);
                    inf_treat - inf_cont + inf_eff + inf_or
                })
                .collect();
            Ok((att, inf))
        }
    }
}

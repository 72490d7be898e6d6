//! Sequential A/B testing: always-valid confidence sequences, the mixture SPRT, group-sequential
//! alpha spending and the sequential sample-ratio-mismatch test.
//!
//! - [`ConfidenceSequence`]: the asymptotic confidence sequence (CS) of Waudby-Smith, Arnold,
//!   Wu, Wang & Ramdas (2024, "Time-uniform central limit theory and asymptotic confidence
//!   sequences", *Annals of Statistics*; arXiv:2103.06476 eq. (9)), as GrowthBook's gbstats
//!   `SequentialTwoSidedTTest` computes it. With N total units, estimate θ̂ with variance V and
//!   s² = N·V, the (1 − α) CS at N is
//!   `θ̂ ± s · sqrt( 2(Nρ² + 1) / (N²ρ²) · ln( sqrt(Nρ² + 1) / α ) )`,
//!   and the matching always-valid p-value is 1/E with
//!   `E = exp( ρ² N (θ̂ − θ₀)² / (2V (Nρ² + 1)) ) / sqrt(Nρ² + 1)` (eq. 155). The tuning
//!   parameter ρ makes the CS tightest at a planned total N*:
//!   `ρ = sqrt( (−2 ln α + ln(−2 ln α + 1)) / N* )` (eq. 161; gbstats' "sequential tuning
//!   parameter" is N*, default 5000).
//! - [`ConfidenceSequence::eppo`]: Eppo's documented sequential method ("Statistical
//!   nitty-gritty", Sequential; a modified eq. (14) of Howard, Ramdas, McAuliffe & Sekhon 2021,
//!   "Time-uniform, nonparametric, nonasymptotic confidence sequences", *Annals of Statistics*
//!   49(2)): with t = n_C + n_T and α = 1 − c, `θ̂ ± σ̂ · B`,
//!   `B = sqrt( (t + ρ_E) ln( (t + ρ_E) / (ρ_E α²) ) / t )`,
//!   `ρ_E = N_tune / ( ln ln(e/α²) − 2 ln α )`, N_tune = 10,000 by default. This is the same
//!   normal-mixture boundary as the CS above with ρ_E = 1/ρ² — and, since
//!   ln ln(e/α²) = ln(1 − 2 ln α), the same tuning rule with N* = N_tune: Eppo's method equals
//!   gbstats' with tuning 10,000 instead of 5,000.
//! - [`msprt`]: the mixture sequential probability ratio test of Johari, Koomen, Pekelis &
//!   Walsh (2017, "Peeking at A/B tests", KDD; 2022, *Operations Research* 70(3)) with a
//!   normal mixing distribution N(θ₀, τ²) on the effect: for an estimate θ̂ with variance V,
//!   `Λ = sqrt(V/(V + τ²)) · exp( τ²(θ̂ − θ₀)² / (2V(V + τ²)) )`, always-valid p-value
//!   p_n = min(p_{n−1}, 1/Λ_n) and CS `θ̂ ± sqrt( 2V(V + τ²)/τ² · ln( sqrt((V + τ²)/V)/α ) )`.
//! - [`group_sequential_boundaries`]: Lan & DeMets (1983, *Biometrika* 70) alpha spending with
//!   O'Brien–Fleming-type α(t) = 2 − 2Φ(z_{1−α/2}/√t), Pocock-type α(t) = α ln(1 + (e − 1)t)
//!   and power-family α(t) = α t^ρ (Kim & DeMets 1987) spending functions; the boundary at each
//!   look is found so that the probability of first crossing there equals the spent increment,
//!   by exact recursive numerical integration of the density of the score process over the
//!   continuation region (Armitage, McPherson & Rowe 1969; Jennison & Turnbull 2000, *Group
//!   Sequential Methods*, ch. 19). [`classical_boundaries`] gives Pocock (1977) and
//!   O'Brien & Fleming (1979) constant-shape boundaries; [`crossing_probabilities`] evaluates
//!   any boundaries under a drift (for power).
//! - [`srm_sequential`]: the sequential sample-ratio-mismatch test of Lindon & Malek (2020,
//!   "Anytime-valid inference for multinomial count data", arXiv:2011.03567): Bayes factor of a
//!   Dirichlet(α)-multinomial alternative against the multinomial null p₀,
//!   `BF = Γ(Σα)/Γ(Σα + n) · Π Γ(α_i + x_i)/Γ(α_i) / Π p₀ᵢ^{x_i}`, always-valid p = min(1, 1/BF)
//!   (running minimum over a sequence of cumulative counts).

use crate::planning::quad;
use causalkit_stats::dist::{normal_cdf, normal_quantile, normal_sf};
use causalkit_stats::error::check_alpha;
use causalkit_stats::{Effect, Result, StatsError};
use serde::Serialize;
use statrs::function::gamma::ln_gamma;

fn invalid(name: &str, reason: impl Into<String>) -> StatsError {
    StatsError::InvalidArgument {
        name: name.to_string(),
        reason: reason.into(),
    }
}

fn check_estimate(estimate: f64, se: f64) -> Result<()> {
    if !estimate.is_finite() {
        return Err(invalid(
            "estimate",
            format!("must be finite, got {estimate}"),
        ));
    }
    if !(se.is_finite() && se > 0.0) {
        return Err(invalid(
            "std_error",
            format!("must be finite and positive, got {se}"),
        ));
    }
    Ok(())
}

/// An always-valid interval and p-value at one look.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SequentialInterval {
    /// The estimate θ̂.
    pub estimate: f64,
    /// Its (fixed-horizon) standard error.
    pub std_error: f64,
    /// Lower end of the confidence sequence at this look.
    pub ci_low: f64,
    /// Upper end of the confidence sequence at this look.
    pub ci_high: f64,
    /// Always-valid p-value at this look (not yet minimised over earlier looks).
    pub p_value: f64,
}

impl SequentialInterval {
    /// As an [`Effect`] with the given label.
    pub fn to_effect(&self, label: &str) -> Effect {
        Effect {
            key: Default::default(),
            label: label.to_string(),
            estimate: self.estimate,
            std_error: Some(self.std_error),
            ci_low: Some(self.ci_low),
            ci_high: Some(self.ci_high),
            p_value: Some(self.p_value),
        }
    }
}

/// Asymptotic confidence sequence (Waudby-Smith et al.; gbstats' sequential testing), see the
/// module docs.
///
/// ```
/// use causalkit_ab::sequential::ConfidenceSequence;
/// let cs = ConfidenceSequence::gbstats(5000.0, 0.05).unwrap();
/// let iv = cs.interval(0.29, 0.12478, 6868.0).unwrap();
/// // wider than the fixed-horizon interval 0.29 ± 1.96 · 0.12478
/// assert!(iv.ci_low < 0.29 - 1.96 * 0.12478);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ConfidenceSequence {
    /// Mixture tuning parameter ρ > 0.
    pub rho: f64,
    /// Error level α: the CS covers the effect at all looks with probability ≥ 1 − α
    /// (asymptotically).
    pub alpha: f64,
}

impl ConfidenceSequence {
    /// A CS with an explicit tuning parameter ρ.
    pub fn new(rho: f64, alpha: f64) -> Result<Self> {
        check_alpha(alpha)?;
        if !(rho.is_finite() && rho > 0.0) {
            return Err(invalid(
                "rho",
                format!("must be finite and positive, got {rho}"),
            ));
        }
        Ok(ConfidenceSequence { rho, alpha })
    }

    /// gbstats' parametrisation: ρ tuned to be tightest at the planned total sample `n_plan`
    /// (gbstats' `sequential_tuning_parameter`), eq. 161 of Waudby-Smith et al.
    pub fn gbstats(n_plan: f64, alpha: f64) -> Result<Self> {
        check_alpha(alpha)?;
        if !(n_plan.is_finite() && n_plan > 0.0) {
            return Err(invalid(
                "n_plan",
                format!("must be finite and positive, got {n_plan}"),
            ));
        }
        let l = -2.0 * alpha.ln();
        Self::new(((l + (l + 1.0).ln()) / n_plan).sqrt(), alpha)
    }

    /// Eppo's sequential confidence sequence (see the module docs): the mixture tuned by
    /// Eppo's documented rule with `n_tune` (Eppo's N_tune, default 10,000 in Eppo), stored
    /// in this type's parametrisation ρ = 1/sqrt(ρ_E).
    ///
    /// ```
    /// use causalkit_ab::sequential::{eppo_rho, ConfidenceSequence};
    /// let cs = ConfidenceSequence::eppo(10_000.0, 0.05).unwrap();
    /// assert!((cs.rho - 1.0 / eppo_rho(10_000.0, 0.05).unwrap().sqrt()).abs() < 1e-15);
    /// ```
    pub fn eppo(n_tune: f64, alpha: f64) -> Result<Self> {
        Self::new(1.0 / eppo_rho(n_tune, alpha)?.sqrt(), alpha)
    }

    /// Half-width of the CS at total sample `n` for an estimate with standard error `se`.
    pub fn half_width(&self, se: f64, n: f64) -> Result<f64> {
        if !(n.is_finite() && n > 0.0) {
            return Err(invalid(
                "n",
                format!("total units must be positive, got {n}"),
            ));
        }
        check_estimate(0.0, se)?;
        let s2 = se * se * n;
        let r2n = n * self.rho * self.rho;
        Ok((s2 * 2.0 * (r2n + 1.0) / (n * n * self.rho * self.rho)
            * ((r2n + 1.0).sqrt() / self.alpha).ln())
        .sqrt())
    }

    /// The CS and always-valid p-value (against θ₀ = 0) at a look with total sample `n`.
    pub fn interval(&self, estimate: f64, se: f64, n: f64) -> Result<SequentialInterval> {
        self.interval_against(estimate, se, n, 0.0)
    }

    /// As [`ConfidenceSequence::interval`] with the p-value against the null θ₀ = `null`.
    pub fn interval_against(
        &self,
        estimate: f64,
        se: f64,
        n: f64,
        null: f64,
    ) -> Result<SequentialInterval> {
        check_estimate(estimate, se)?;
        let w = self.half_width(se, n)?;
        let v = se * se;
        let r2n1 = n * self.rho * self.rho + 1.0;
        let st2 = (estimate - null).powi(2) * n / v;
        let ln_e = self.rho * self.rho * st2 / (2.0 * r2n1) - 0.5 * r2n1.ln();
        Ok(SequentialInterval {
            estimate,
            std_error: se,
            ci_low: estimate - w,
            ci_high: estimate + w,
            p_value: (-ln_e).exp().min(1.0),
        })
    }
}

/// Eppo's mixture parameter `ρ_E = N_tune / ( ln ln(e/α²) − 2 ln α )` (Eppo docs,
/// "Statistical nitty-gritty", Sequential), in units of total sample size: the boundary
/// multiplier at total sample t is `B = sqrt( (t + ρ_E) ln((t + ρ_E)/(ρ_E α²)) / t )`.
pub fn eppo_rho(n_tune: f64, alpha: f64) -> Result<f64> {
    check_alpha(alpha)?;
    if !(n_tune.is_finite() && n_tune > 0.0) {
        return Err(invalid(
            "n_tune",
            format!("must be finite and positive, got {n_tune}"),
        ));
    }
    let a2 = alpha * alpha;
    Ok(n_tune / ((std::f64::consts::E / a2).ln().ln() - 2.0 * alpha.ln()))
}

/// Result of the mixture SPRT at one look.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MsprtResult {
    /// The mixture likelihood ratio Λ against θ₀.
    pub likelihood_ratio: f64,
    /// The always-valid interval and p-value min(1, 1/Λ) at this look.
    pub interval: SequentialInterval,
    /// Reject H0 (Λ ≥ 1/α)?
    pub reject: bool,
}

/// Mixture SPRT (Johari et al. 2017) for an estimate θ̂ with standard error `se`, mixing
/// variance `tau2` (> 0, on the scale of the effect; Johari et al. suggest choosing it near the
/// squared size of effects one expects), null θ₀ = `null` and level α. See the module docs.
///
/// ```
/// use causalkit_ab::sequential::msprt;
/// let r = msprt(0.3, 0.1, 0.04, 0.0, 0.05).unwrap();
/// assert!(r.likelihood_ratio > 1.0);
/// assert!((r.interval.p_value - 1.0 / r.likelihood_ratio).abs() < 1e-15);
/// ```
pub fn msprt(estimate: f64, se: f64, tau2: f64, null: f64, alpha: f64) -> Result<MsprtResult> {
    check_alpha(alpha)?;
    check_estimate(estimate, se)?;
    if !(tau2.is_finite() && tau2 > 0.0) {
        return Err(invalid(
            "tau2",
            format!("mixing variance must be positive, got {tau2}"),
        ));
    }
    let v = se * se;
    let ln_lr =
        0.5 * (v / (v + tau2)).ln() + tau2 * (estimate - null).powi(2) / (2.0 * v * (v + tau2));
    let w = (2.0 * v * (v + tau2) / tau2 * (((v + tau2) / v).sqrt() / alpha).ln()).sqrt();
    let lr = ln_lr.exp();
    Ok(MsprtResult {
        likelihood_ratio: lr,
        interval: SequentialInterval {
            estimate,
            std_error: se,
            ci_low: estimate - w,
            ci_high: estimate + w,
            p_value: (-ln_lr).exp().min(1.0),
        },
        reject: ln_lr >= -alpha.ln(),
    })
}

/// Always-valid mSPRT p-values over a sequence of looks: p_k = min(p_{k−1}, 1/Λ_k).
pub fn msprt_path(estimates: &[f64], std_errors: &[f64], tau2: f64, null: f64) -> Result<Vec<f64>> {
    causalkit_stats::error::check_len("std_errors", std_errors.len(), estimates.len())?;
    let mut p = 1.0f64;
    estimates
        .iter()
        .zip(std_errors)
        .map(|(&e, &s)| {
            p = p.min(msprt(e, s, tau2, null, 0.5)?.interval.p_value);
            Ok(p)
        })
        .collect()
}

/// A Lan–DeMets alpha-spending function α(t), t the information fraction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum SpendingFunction {
    /// O'Brien–Fleming type: α(t) = 2 − 2Φ(z_{1−α/2}/√t).
    OBrienFleming,
    /// Pocock type: α(t) = α ln(1 + (e − 1)t).
    Pocock,
    /// Power family (Kim & DeMets 1987): α(t) = α t^ρ, ρ > 0.
    Power(f64),
}

impl SpendingFunction {
    /// Cumulative alpha spent at information fraction `t` in [0, 1] for total level `alpha`.
    pub fn spend(&self, t: f64, alpha: f64) -> Result<f64> {
        if t <= 0.0 {
            return Ok(0.0);
        }
        let t = t.min(1.0);
        Ok(match *self {
            SpendingFunction::OBrienFleming => {
                2.0 * normal_sf(normal_quantile(1.0 - alpha / 2.0)? / t.sqrt())
            }
            SpendingFunction::Pocock => alpha * (1.0 + (std::f64::consts::E - 1.0) * t).ln(),
            SpendingFunction::Power(rho) => {
                if !(rho.is_finite() && rho > 0.0) {
                    return Err(invalid(
                        "rho",
                        format!("power spending needs rho > 0, got {rho}"),
                    ));
                }
                alpha * t.powf(rho)
            }
        })
    }
}

/// Boundary shapes of the classical (non-spending) group-sequential designs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BoundaryShape {
    /// Pocock (1977): the same critical value C at every look.
    Pocock,
    /// O'Brien & Fleming (1979): C/√t_k (= C·sqrt(K/k) for equally spaced looks).
    OBrienFleming,
}

/// One interim analysis of a group-sequential design.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Look {
    /// Information fraction t_k.
    pub info_fraction: f64,
    /// Critical value for |Z_k| (two-sided) or Z_k (one-sided); infinite when no alpha is
    /// spent at this look.
    pub z_boundary: f64,
    /// Nominal p-value threshold at this look (2Φ(−b) two-sided, Φ(−b) one-sided).
    pub nominal_p: f64,
    /// Cumulative probability of crossing by this look under H0.
    pub cumulative_alpha: f64,
    /// Probability of first crossing at this look under H0.
    pub alpha_increment: f64,
}

/// A group-sequential design: boundaries per look.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupSequentialDesign {
    /// How the boundaries were set.
    pub method: String,
    /// Total level α.
    pub alpha: f64,
    /// Symmetric two-sided boundaries (true) or an upper one-sided boundary.
    pub two_sided: bool,
    /// The looks, in order.
    pub looks: Vec<Look>,
}

impl GroupSequentialDesign {
    /// Critical values per look.
    pub fn boundaries(&self) -> Vec<f64> {
        self.looks.iter().map(|l| l.z_boundary).collect()
    }

    /// The first look (index) at which the observed z statistics cross the boundary, if any.
    pub fn first_crossing(&self, z: &[f64]) -> Option<usize> {
        z.iter().zip(&self.looks).position(|(&z, l)| {
            if self.two_sided {
                z.abs() >= l.z_boundary
            } else {
                z >= l.z_boundary
            }
        })
    }

    /// Power of the design against a drift θ (E\[Z_k\] = θ√t_k); see [`crossing_probabilities`].
    pub fn power(&self, drift: f64) -> Result<f64> {
        let t: Vec<f64> = self.looks.iter().map(|l| l.info_fraction).collect();
        let c = crossing_probabilities(&t, &self.boundaries(), self.two_sided, drift)?;
        Ok(*c.last().unwrap_or(&0.0))
    }
}

fn check_info(t: &[f64]) -> Result<()> {
    if t.is_empty() {
        return Err(invalid("info_fractions", "needs at least one look"));
    }
    let mut prev = 0.0;
    for (i, &x) in t.iter().enumerate() {
        if !(x.is_finite() && x > prev && x <= 1.0) {
            return Err(StatsError::OutOfRange {
                variable: "info_fractions".to_string(),
                row: i,
                value: x,
                expected: "strictly increasing values in (0, 1]".to_string(),
            });
        }
        prev = x;
    }
    Ok(())
}

/// Numerical state of the recursion: the sub-density of the score S_k = Z_k √t_k on the
/// continuation region, on a Simpson grid (points, weights·density).
struct Grid {
    s: Vec<f64>,
    wg: Vec<f64>,
}

/// z-value standing in for "no boundary" (the mass beyond is below 1e-50).
const Z_CAP: f64 = 15.0;
/// Lower end, in SDs below the mean, of a one-sided continuation region (mass below 1e-19).
const Z_LOW: f64 = 9.0;

fn simpson_grid(lo: f64, hi: f64, m: usize) -> (Vec<f64>, Vec<f64>) {
    let m = m | 1; // Simpson needs an odd number of points
    let h = (hi - lo) / (m - 1) as f64;
    let s = (0..m).map(|i| lo + h * i as f64).collect();
    let w = (0..m)
        .map(|i| {
            let c = if i == 0 || i == m - 1 {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            c * h / 3.0
        })
        .collect();
    (s, w)
}

fn phi(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

struct Recursion {
    t: Vec<f64>,
    two_sided: bool,
    drift: f64,
    /// Grid spacing on the score scale.
    h: f64,
}

impl Recursion {
    fn new(t: &[f64], two_sided: bool, drift: f64) -> Self {
        // Grid spacing 1/16 of the smallest SD of an increment (or of the first look).
        let mut min_sd = t[0].sqrt();
        for w in t.windows(2) {
            min_sd = min_sd.min((w[1] - w[0]).sqrt());
        }
        Recursion {
            t: t.to_vec(),
            two_sided,
            drift,
            h: min_sd / 16.0,
        }
    }

    fn region(&self, k: usize, b: f64) -> (f64, f64) {
        let r = self.t[k].sqrt();
        let hi = b.min(Z_CAP) * r;
        let lo = if self.two_sided {
            -hi
        } else {
            (-Z_LOW + self.drift * r) * r
        };
        (lo, hi)
    }

    /// P(cross at look k with boundary b | continuation through k − 1), given the previous grid
    /// (None at the first look).
    fn cross_prob(&self, k: usize, prev: Option<&Grid>, b: f64) -> f64 {
        if b.is_infinite() {
            return 0.0;
        }
        let tk = self.t[k];
        let c = b * tk.sqrt();
        match prev {
            None => {
                let sd = tk.sqrt();
                let mu = self.drift * tk;
                let up = normal_sf((c - mu) / sd);
                if self.two_sided {
                    up + normal_cdf((-c - mu) / sd)
                } else {
                    up
                }
            }
            Some(g) => {
                let d = tk - self.t[k - 1];
                let sd = d.sqrt();
                let mu = self.drift * d;
                g.s.iter()
                    .zip(&g.wg)
                    .map(|(&s, &w)| {
                        let up = normal_sf((c - s - mu) / sd);
                        let lo = if self.two_sided {
                            normal_cdf((-c - s - mu) / sd)
                        } else {
                            0.0
                        };
                        w * (up + lo)
                    })
                    .sum()
            }
        }
    }

    /// The grid of the sub-density at look k on the continuation region below boundary b.
    fn advance(&self, k: usize, prev: Option<&Grid>, b: f64) -> Grid {
        let (lo, hi) = self.region(k, b);
        // Capped at 6001 points (O(m²) per look): looks closer than ~1e-3 in information
        // get a coarser grid than 1/16 SD of the increment.
        let m = (((hi - lo) / self.h).ceil() as usize).clamp(101, 6001);
        let (s, w) = simpson_grid(lo, hi, m);
        let tk = self.t[k];
        let dens: Vec<f64> = match prev {
            None => {
                let sd = tk.sqrt();
                s.iter()
                    .map(|&x| phi((x - self.drift * tk) / sd) / sd)
                    .collect()
            }
            Some(g) => {
                let d = tk - self.t[k - 1];
                let sd = d.sqrt();
                let mu = self.drift * d;
                s.iter()
                    .map(|&x| {
                        g.s.iter()
                            .zip(&g.wg)
                            .map(|(&u, &wg)| {
                                let z = (x - u - mu) / sd;
                                if z.abs() > 40.0 {
                                    0.0
                                } else {
                                    wg * phi(z)
                                }
                            })
                            .sum::<f64>()
                            / sd
                    })
                    .collect()
            }
        };
        Grid {
            wg: w.iter().zip(&dens).map(|(a, b)| a * b).collect(),
            s,
        }
    }
}

fn nominal_p(b: f64, two_sided: bool) -> f64 {
    if b.is_infinite() {
        return 0.0;
    }
    if two_sided {
        2.0 * normal_sf(b)
    } else {
        normal_sf(b)
    }
}

/// Cumulative probabilities of crossing the boundaries `z_boundaries` by each look, for
/// information fractions `info_fractions`, when E\[Z_k\] = `drift`·√t_k (drift 0: the null,
/// giving the design's alpha; drift = δ·sqrt(I_max): the power). Exact recursive integration.
pub fn crossing_probabilities(
    info_fractions: &[f64],
    z_boundaries: &[f64],
    two_sided: bool,
    drift: f64,
) -> Result<Vec<f64>> {
    check_info(info_fractions)?;
    causalkit_stats::error::check_len("z_boundaries", z_boundaries.len(), info_fractions.len())?;
    for (i, &b) in z_boundaries.iter().enumerate() {
        if b.is_nan() || b <= 0.0 {
            return Err(StatsError::OutOfRange {
                variable: "z_boundaries".into(),
                row: i,
                value: b,
                expected: "positive critical values (or +inf)".into(),
            });
        }
    }
    if !drift.is_finite() {
        return Err(invalid("drift", format!("must be finite, got {drift}")));
    }
    let rec = Recursion::new(info_fractions, two_sided, drift);
    let mut out = Vec::with_capacity(z_boundaries.len());
    let mut grid: Option<Grid> = None;
    let mut total = 0.0;
    for (k, &b) in z_boundaries.iter().enumerate() {
        total += rec.cross_prob(k, grid.as_ref(), b);
        out.push(total);
        if k + 1 < z_boundaries.len() {
            grid = Some(rec.advance(k, grid.as_ref(), b));
        }
    }
    Ok(out)
}

/// Lan–DeMets group-sequential boundaries for the looks at `info_fractions` (strictly
/// increasing in (0, 1]; the spending function is evaluated at these fractions) with total
/// level `alpha`, two-sided symmetric or one-sided upper. A two-sided design spends α/2 per side
/// with the one-sided spending function at level α/2 (cumulative 2·α_{α/2}(t)), the convention
/// of Lan & DeMets (1983), `ldbounds` and `gsDesign`; for the Pocock and power families this
/// equals α(t). See the module docs.
///
/// ```
/// use causalkit_ab::sequential::{group_sequential_boundaries, SpendingFunction};
/// let d = group_sequential_boundaries(&[0.2, 0.4, 0.6, 0.8, 1.0], 0.05,
///                                     SpendingFunction::OBrienFleming, true).unwrap();
/// let b = d.boundaries();
/// assert!((b[0] - 4.877).abs() < 2e-3 && (b[4] - 2.031).abs() < 2e-3);
/// ```
pub fn group_sequential_boundaries(
    info_fractions: &[f64],
    alpha: f64,
    spending: SpendingFunction,
    two_sided: bool,
) -> Result<GroupSequentialDesign> {
    check_alpha(alpha)?;
    check_info(info_fractions)?;
    let rec = Recursion::new(info_fractions, two_sided, 0.0);
    let mut looks = Vec::new();
    let mut grid: Option<Grid> = None;
    let mut crossed = 0.0;
    for (k, &t) in info_fractions.iter().enumerate() {
        let cum = if two_sided {
            2.0 * spending.spend(t, alpha / 2.0)?
        } else {
            spending.spend(t, alpha)?
        };
        let target = cum - crossed;
        let b = if target <= 1e-15 {
            f64::INFINITY
        } else {
            let f = |b: f64| rec.cross_prob(k, grid.as_ref(), b) - target;
            if f(0.0) < 0.0 {
                return Err(invalid(
                    "spending",
                    format!("cannot spend {target} at look {k}: more than the remaining mass"),
                ));
            }
            quad::bisect(f, 0.0, 40.0, 1e-12)
        };
        let inc = rec.cross_prob(k, grid.as_ref(), b);
        crossed += inc;
        looks.push(Look {
            info_fraction: t,
            z_boundary: b,
            nominal_p: nominal_p(b, two_sided),
            cumulative_alpha: crossed,
            alpha_increment: inc,
        });
        if k + 1 < info_fractions.len() {
            grid = Some(rec.advance(k, grid.as_ref(), b));
        }
    }
    Ok(GroupSequentialDesign {
        method: format!("Lan-DeMets alpha spending ({spending:?})"),
        alpha,
        two_sided,
        looks,
    })
}

/// Classical Pocock or O'Brien–Fleming boundaries: the constant C such that the boundaries
/// C (Pocock) or C/√t_k (O'Brien–Fleming) have overall level `alpha` (Jennison & Turnbull 2000,
/// Table 2.1: K = 5 equally spaced looks, α = 0.05 two-sided gives C = 2.413 and 2.040).
pub fn classical_boundaries(
    info_fractions: &[f64],
    alpha: f64,
    shape: BoundaryShape,
    two_sided: bool,
) -> Result<GroupSequentialDesign> {
    check_alpha(alpha)?;
    check_info(info_fractions)?;
    let bounds = |c: f64| -> Vec<f64> {
        info_fractions
            .iter()
            .map(|&t| match shape {
                BoundaryShape::Pocock => c,
                BoundaryShape::OBrienFleming => c / t.sqrt(),
            })
            .collect()
    };
    let total = |c: f64| -> f64 {
        crossing_probabilities(info_fractions, &bounds(c), two_sided, 0.0)
            .map(|v| *v.last().unwrap_or(&0.0))
            .unwrap_or(f64::NAN)
    };
    let c = quad::bisect(|c| total(c) - alpha, 0.5, 10.0, 1e-10);
    let b = bounds(c);
    let cum = crossing_probabilities(info_fractions, &b, two_sided, 0.0)?;
    let looks = info_fractions
        .iter()
        .zip(&b)
        .enumerate()
        .map(|(k, (&t, &bk))| Look {
            info_fraction: t,
            z_boundary: bk,
            nominal_p: nominal_p(bk, two_sided),
            cumulative_alpha: cum[k],
            alpha_increment: cum[k] - if k == 0 { 0.0 } else { cum[k - 1] },
        })
        .collect();
    Ok(GroupSequentialDesign {
        method: format!("{shape:?} boundaries (C = {c:.6})"),
        alpha,
        two_sided,
        looks,
    })
}

/// Maximum sample size inflation factor R = I_max / I_fixed of a group-sequential design at
/// the given power (Jennison & Turnbull 2000, §2.5, Tables 2.3 and 2.4 for Pocock and
/// O'Brien–Fleming tests): the maximum information (sample size) the sequential test needs
/// for power `power`, relative to the fixed-sample test with I_fixed =
/// (z_{1−α/2} + z_{power})²/δ² (z_{1−α} one-sided). Found by solving
/// `design.power(θ) = power` for the drift θ = δ·sqrt(I_max); then R = (θ / (z_{1−α/2} +
/// z_{power}))².
///
/// ```
/// use causalkit_ab::sequential::{classical_boundaries, max_sample_size_inflation, BoundaryShape};
/// let d = classical_boundaries(&[0.2, 0.4, 0.6, 0.8, 1.0], 0.05,
///                              BoundaryShape::OBrienFleming, true).unwrap();
/// let r = max_sample_size_inflation(&d, 0.9).unwrap();
/// assert!((r - 1.026).abs() < 5e-4); // Jennison & Turnbull (2000) Table 2.4, K = 5
/// ```
pub fn max_sample_size_inflation(design: &GroupSequentialDesign, power: f64) -> Result<f64> {
    if !(power.is_finite() && power > design.alpha && power < 1.0) {
        return Err(invalid(
            "power",
            format!("must lie in (alpha = {}, 1), got {power}", design.alpha),
        ));
    }
    let z_a = if design.two_sided {
        normal_quantile(1.0 - design.alpha / 2.0)?
    } else {
        normal_quantile(1.0 - design.alpha)?
    };
    let theta_fixed = z_a + normal_quantile(power)?;
    let pow = |th: f64| design.power(th).map(|p| p - power).unwrap_or(f64::NAN);
    let mut hi = theta_fixed.max(1.0);
    let mut steps = 0;
    while pow(hi) < 0.0 {
        hi *= 1.5;
        steps += 1;
        if steps > 40 {
            return Err(StatsError::NotConverged {
                method: "max_sample_size_inflation drift search".into(),
                iterations: steps,
                tolerance: 0.0,
                last_change: hi,
            });
        }
    }
    let theta = quad::illinois(pow, 0.0, hi, 1e-11);
    Ok((theta / theta_fixed).powi(2))
}

/// Result of the sequential SRM test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SequentialSrm {
    /// Bayes factor of the Dirichlet-multinomial alternative against the null ratios.
    pub bayes_factor: f64,
    /// ln of the Bayes factor.
    pub log_bayes_factor: f64,
    /// Always-valid p-value min(1, 1/BF) at these counts.
    pub p_value: f64,
    /// Observed shares per arm.
    pub observed_shares: Vec<f64>,
    /// Expected shares per arm (normalised).
    pub expected_shares: Vec<f64>,
}

/// Default Dirichlet concentration: α_i = 100·p₀ᵢ (prior centred on the null, weakly informative
/// at A/B-test sample sizes; any positive choice keeps the anytime-valid guarantee).
pub const SRM_DEFAULT_CONCENTRATION: f64 = 100.0;

fn normalise(expected: &[f64]) -> Result<Vec<f64>> {
    for (i, &p) in expected.iter().enumerate() {
        if !(p.is_finite() && p > 0.0) {
            return Err(StatsError::OutOfRange {
                variable: "expected_ratios".into(),
                row: i,
                value: p,
                expected: "finite and positive".into(),
            });
        }
    }
    let s: f64 = expected.iter().sum();
    Ok(expected.iter().map(|p| p / s).collect())
}

/// Sequential (anytime-valid) SRM test of Lindon & Malek (2020) with the default concentration
/// ([`SRM_DEFAULT_CONCENTRATION`]); see [`srm_sequential_with`].
///
/// ```
/// use causalkit_ab::sequential::srm_sequential;
/// let ok = srm_sequential(&[5010.0, 4990.0], &[0.5, 0.5]).unwrap();
/// assert!(ok.p_value > 0.5);
/// let bad = srm_sequential(&[5000.0, 5600.0], &[0.5, 0.5]).unwrap();
/// assert!(bad.p_value < 0.01);
/// ```
pub fn srm_sequential(counts: &[f64], expected_ratios: &[f64]) -> Result<SequentialSrm> {
    srm_sequential_with(counts, expected_ratios, SRM_DEFAULT_CONCENTRATION)
}

/// Sequential SRM test with Dirichlet prior α_i = `concentration`·p₀ᵢ (module docs).
pub fn srm_sequential_with(
    counts: &[f64],
    expected_ratios: &[f64],
    concentration: f64,
) -> Result<SequentialSrm> {
    causalkit_stats::error::check_len("expected_ratios", expected_ratios.len(), counts.len())?;
    if counts.len() < 2 {
        return Err(StatsError::InsufficientData(
            "an SRM test needs at least two arms".into(),
        ));
    }
    for (i, &x) in counts.iter().enumerate() {
        if !(x.is_finite() && x >= 0.0) {
            return Err(StatsError::OutOfRange {
                variable: "counts".into(),
                row: i,
                value: x,
                expected: "finite and non-negative".into(),
            });
        }
    }
    if !(concentration.is_finite() && concentration > 0.0) {
        return Err(invalid(
            "concentration",
            format!("must be positive, got {concentration}"),
        ));
    }
    let p0 = normalise(expected_ratios)?;
    let n: f64 = counts.iter().sum();
    let a: Vec<f64> = p0.iter().map(|p| p * concentration).collect();
    let sa: f64 = a.iter().sum();
    let mut ln_bf = ln_gamma(sa) - ln_gamma(sa + n);
    for i in 0..counts.len() {
        ln_bf += ln_gamma(a[i] + counts[i]) - ln_gamma(a[i]) - counts[i] * p0[i].ln();
    }
    Ok(SequentialSrm {
        bayes_factor: ln_bf.exp(),
        log_bayes_factor: ln_bf,
        p_value: (-ln_bf).exp().min(1.0),
        observed_shares: counts
            .iter()
            .map(|x| if n > 0.0 { x / n } else { 0.0 })
            .collect(),
        expected_shares: p0,
    })
}

/// Always-valid SRM p-values along a sequence of cumulative counts (one row per look):
/// the running minimum of min(1, 1/BF).
pub fn srm_sequential_path(
    cumulative_counts: &[Vec<f64>],
    expected_ratios: &[f64],
) -> Result<Vec<f64>> {
    let mut p = 1.0f64;
    cumulative_counts
        .iter()
        .map(|c| {
            p = p.min(srm_sequential(c, expected_ratios)?.p_value);
            Ok(p)
        })
        .collect()
}

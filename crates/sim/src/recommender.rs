//! An e-commerce recommender release with known truth (issue 16: reward design).
//!
//! One row per customer. Two files share the generative model:
//! * `history.csv` — observational data under the current recommender (no arm), for
//!   calibrating the weights of a reward against 90-day revenue (the surrogate index);
//! * `experiment.csv` — a randomised test of two model versions, `engagement` (control:
//!   trained on clicks) and `reward` (treatment: trained on a purchase-weighted reward), with
//!   the long-term outcome observed too; surrogacy holds (the arm moves revenue only through
//!   the short-term signals);
//! * `experiment_broken.csv` — the same customers and draws, with a direct effect of the arm
//!   on `revenue_90d` that does not pass through the signals ([`RecommenderConfig::
//!   direct_effect`]): surrogacy is broken.
//!
//! # Generative model (per customer)
//! `tenure ~ U(1, 60)` months; engagement `e = exp(0.35 z) · (0.6 + tenure/60)`, `z ~ N(0, 1)`;
//! `pre_clicks ~ Poisson(3e)` (a pre-period covariate); `pre_revenue = 30 + 0.8 tenure +
//! N(0, 15²)`. With `T` the treatment indicator (0 in the history):
//! * `click ~ Poisson(3e(1 + ρ_click T))`, `add_to_cart ~ Poisson(0.9e(1 + ρ_cart T))`,
//!   `purchase ~ Poisson(0.3e(1 + ρ_purchase T))`, `return ~ Poisson(0.06e(1 + ρ_return T))`
//!   (independent given `e`; validation keeps every `ρ > −1`);
//! * `order_value` = the sum over the purchases of `N(40, 10²)` (so `E[order_value | purchase]
//!   = 40 purchase`);
//! * `revenue_90d = intercept + Σ_k w_k signal_k + γ_tenure tenure + γ_pre pre_revenue +
//!   δ T + N(0, σ²)` over the signals click, add_to_cart, purchase, return, order_value, with
//!   `δ = 0` except in `experiment_broken.csv`;
//! * `nps`: answered with probability `survey_rate`, independent of everything (empty
//!   otherwise); the answer is `clamp(round(7 + 0.5 purchase − 1.5 return + τ_nps T +
//!   N(0, 2²)), 0, 10)`.
//!
//! # True effects (exact, per customer)
//! With `Ē = E[e] = exp(0.35²/2) · (0.6 + 30.5/60)` ([`MEAN_ENGAGEMENT`]; lognormal mean
//! times the mean of the tenure factor, independent), the effects on the signals are
//! `τ_click = 3Ē ρ_click`, `τ_cart = 0.9Ē ρ_cart`, `τ_purchase = 0.3Ē ρ_purchase`,
//! `τ_return = 0.06Ē ρ_return`, and `40 τ_purchase` on `order_value`. On `revenue_90d`: `Σ_k w_k τ_k` (+ `δ` when broken). The true surrogate
//! index is `E[revenue_90d | signals, covariates]`, linear with the weights `w`, so the
//! calibrated weights recover `w`. The effect on NPS (rounded and clamped) has no closed form:
//! [`recommender_truth`] gives it by common random numbers over 100,000 simulated customers.
//!
//! # Determinism
//! `ChaCha8Rng::seed_from_u64(seed)` with stream 0 for the history, 1 for the experiment (the
//! broken file reuses the experiment's draws), 2 for the NPS truth; the same config gives byte-identical files.

use crate::error::SimError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Poisson};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The short-term signals, in file order.
pub const SIGNALS: [&str; 5] = ["click", "add_to_cart", "purchase", "return", "order_value"];
/// The pre-treatment covariates, in file order.
pub const COVARIATES: [&str; 3] = ["tenure", "pre_clicks", "pre_revenue"];
/// File names written by [`write_recommender`].
pub const HISTORY_FILE: &str = "history.csv";
/// The randomised experiment with surrogacy holding.
pub const EXPERIMENT_FILE: &str = "experiment.csv";
/// The randomised experiment with a direct effect of the arm on `revenue_90d`.
pub const BROKEN_FILE: &str = "experiment_broken.csv";
/// The truth.
pub const TRUTH_FILE: &str = "truth.json";
/// Control and treatment labels of the `arm` column.
pub const ARMS: [&str; 2] = ["engagement", "reward"];

/// `E[e]`, the mean engagement: `exp(0.35²/2) · (0.6 + 30.5/60)`.
pub const MEAN_ENGAGEMENT: f64 = 1.0631646721341013 * (0.6 + 30.5 / 60.0);

/// Parameters of the recommender simulation (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecommenderConfig {
    /// Random seed.
    pub seed: u64,
    /// Customers in the history file.
    pub history_customers: usize,
    /// Customers in each experiment file.
    pub experiment_customers: usize,
    /// Intercept of `revenue_90d`.
    pub intercept: f64,
    /// True weights of click, add_to_cart, purchase, return, order_value in `revenue_90d`.
    pub weights: [f64; 5],
    /// Coefficients of tenure and pre_revenue in `revenue_90d`.
    pub covariate_coefficients: [f64; 2],
    /// Standard deviation of the noise of `revenue_90d`.
    pub noise_sd: f64,
    /// Relative effects of the reward model on the mean of click, add_to_cart, purchase,
    /// return (0.25: the customer's mean is 25% higher under the reward model).
    pub effects: [f64; 4],
    /// Effect on the NPS answer before rounding and clamping.
    pub nps_shift: f64,
    /// Share of customers who answer the NPS survey.
    pub survey_rate: f64,
    /// Direct effect of the arm on `revenue_90d` in `experiment_broken.csv`.
    pub direct_effect: f64,
}

impl Default for RecommenderConfig {
    fn default() -> Self {
        RecommenderConfig {
            seed: 20260416,
            history_customers: 20_000,
            experiment_customers: 20_000,
            intercept: 5.0,
            weights: [0.3, 1.0, 15.0, -20.0, 0.5],
            covariate_coefficients: [0.3, 0.4],
            noise_sd: 20.0,
            effects: [-0.2, 0.15, 0.25, -0.3],
            nps_shift: 0.3,
            survey_rate: 0.3,
            direct_effect: -4.0,
        }
    }
}

/// The known truth of a configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecommenderTruth {
    /// The configuration (seed included).
    pub parameters: RecommenderConfig,
    /// The true weights by signal name (the surrogate index's coefficients).
    pub weights: std::collections::BTreeMap<String, f64>,
    /// The true coefficients of the covariates tenure, pre_clicks (0) and pre_revenue.
    pub covariate_coefficients: std::collections::BTreeMap<String, f64>,
    /// The true effect of the reward model on each signal's mean.
    pub signal_effects: std::collections::BTreeMap<String, f64>,
    /// The true effect on `revenue_90d` in `experiment.csv` (surrogacy holds).
    pub long_term_effect: f64,
    /// The true effect on `revenue_90d` in `experiment_broken.csv`.
    pub long_term_effect_broken: f64,
    /// The effect the surrogate index predicts in both files (`Σ w_k τ_k`).
    pub surrogate_index_effect: f64,
    /// The effect on the NPS answer (Monte Carlo, common random numbers).
    pub nps_effect: f64,
    /// Monte Carlo standard error of `nps_effect`.
    pub nps_effect_mc_se: f64,
}

/// Paths written by [`write_recommender`].
#[derive(Debug, Clone)]
pub struct RecommenderWritten {
    /// history.csv, experiment.csv, experiment_broken.csv.
    pub data: Vec<PathBuf>,
    /// truth.json.
    pub truth: PathBuf,
}

impl RecommenderConfig {
    /// The same configuration with another seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks that every Poisson mean stays positive and the rates are probabilities.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |field: &str, reason: String| {
            Err(SimError::InvalidConfig {
                field: field.into(),
                reason,
            })
        };
        for (k, (e, name)) in self.effects.iter().zip(SIGNALS).enumerate() {
            if e.is_nan() || *e <= -1.0 {
                return bad(
                    &format!("effects[{k}]"),
                    format!(
                        "({e}, the relative effect on `{name}`) must be above -1 (a mean cannot fall by 100% or more)"
                    ),
                );
            }
        }
        if !(0.0..=1.0).contains(&self.survey_rate) {
            return bad(
                "survey_rate",
                format!("{} is not in [0, 1]", self.survey_rate),
            );
        }
        if self.noise_sd.is_nan() || self.noise_sd < 0.0 {
            return bad("noise_sd", format!("{} is negative", self.noise_sd));
        }
        if self.history_customers < 2 || self.experiment_customers < 2 {
            return bad("history_customers", "at least 2 customers per file".into());
        }
        Ok(())
    }
}

/// One customer's draws.
#[derive(Debug, Clone, Copy)]
struct Customer {
    tenure: f64,
    pre_clicks: f64,
    pre_revenue: f64,
    signals: [f64; 5],
    nps: Option<f64>,
    /// revenue_90d without the direct effect.
    revenue: f64,
}

fn poisson<R: Rng>(rng: &mut R, mean: f64) -> f64 {
    // Validation keeps the mean positive; a zero mean gives zero.
    if mean <= 0.0 {
        return 0.0;
    }
    Poisson::new(mean).expect("positive mean").sample(rng)
}

fn draw_customer<R: Rng>(rng: &mut R, c: &RecommenderConfig, treated: bool) -> Customer {
    let std = Normal::new(0.0, 1.0).expect("valid sd");
    let t = if treated { 1.0 } else { 0.0 };
    let tenure = 1.0 + 59.0 * rng.random::<f64>();
    let z: f64 = std.sample(rng);
    let e = (0.35 * z).exp() * (0.6 + tenure / 60.0);
    let pre_clicks = poisson(rng, 3.0 * e);
    let pre_revenue = 30.0 + 0.8 * tenure + 15.0 * std.sample(rng);
    let bases = [3.0, 0.9, 0.3, 0.06];
    let mut s = [0.0; 5];
    for k in 0..4 {
        s[k] = poisson(rng, bases[k] * e * (1.0 + c.effects[k] * t));
    }
    let mut ov = 0.0;
    for _ in 0..(s[2] as usize) {
        ov += 40.0 + 10.0 * std.sample(rng);
    }
    s[4] = ov;
    let answered = rng.random::<f64>() < c.survey_rate;
    let raw = 7.0 + 0.5 * s[2] - 1.5 * s[3] + c.nps_shift * t + 2.0 * std.sample(rng);
    let nps = answered.then(|| raw.round().clamp(0.0, 10.0));
    let mut revenue = c.intercept
        + c.covariate_coefficients[0] * tenure
        + c.covariate_coefficients[1] * pre_revenue
        + c.noise_sd * std.sample(rng);
    for (w, v) in c.weights.iter().zip(&s) {
        revenue += w * v;
    }
    Customer {
        tenure,
        pre_clicks,
        pre_revenue,
        signals: s,
        nps,
        revenue,
    }
}

fn rng_stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

const HEADER: &str = "customer,tenure,pre_clicks,pre_revenue,click,add_to_cart,purchase,return,order_value,nps,revenue_90d";

fn row(i: usize, c: &Customer, arm: Option<&str>, revenue: f64) -> String {
    let nps = c.nps.map(|v| format!("{v}")).unwrap_or_default();
    let arm = arm.map(|a| format!(",{a}")).unwrap_or_default();
    format!(
        "c{i:06},{:.3},{},{:.3},{},{},{},{},{:.3},{nps},{:.4}{arm}\n",
        c.tenure,
        c.pre_clicks,
        c.pre_revenue,
        c.signals[0],
        c.signals[1],
        c.signals[2],
        c.signals[3],
        c.signals[4],
        revenue
    )
}

/// The history file as CSV text: columns `customer, tenure,
/// pre_clicks, pre_revenue, click, add_to_cart, purchase, return, order_value, nps,
/// revenue_90d`.
pub fn history_csv(c: &RecommenderConfig) -> Result<String, SimError> {
    c.validate()?;
    let mut rng = rng_stream(c.seed, 0);
    let mut out = format!("{HEADER}\n");
    for i in 0..c.history_customers {
        let cu = draw_customer(&mut rng, c, false);
        out += &row(i, &cu, None, cu.revenue);
    }
    Ok(out)
}

/// The two experiment files as CSV text (surrogacy holding, surrogacy broken): the history's
/// columns and `arm` (`engagement` or `reward`, each customer with probability 1/2). The
/// files differ only in `revenue_90d` of the `reward` arm, shifted by the direct effect.
pub fn experiment_csv(c: &RecommenderConfig) -> Result<(String, String), SimError> {
    c.validate()?;
    let mut rng = rng_stream(c.seed, 1);
    let mut ok = format!("{HEADER},arm\n");
    let mut broken = ok.clone();
    for i in 0..c.experiment_customers {
        let treated = rng.random::<f64>() < 0.5;
        let cu = draw_customer(&mut rng, c, treated);
        let arm = ARMS[treated as usize];
        ok += &row(i, &cu, Some(arm), cu.revenue);
        let shift = if treated { c.direct_effect } else { 0.0 };
        broken += &row(i, &cu, Some(arm), cu.revenue + shift);
    }
    Ok((ok, broken))
}

/// The truth of a configuration (see the module docs).
pub fn recommender_truth(c: &RecommenderConfig) -> Result<RecommenderTruth, SimError> {
    c.validate()?;
    let mut effects = std::collections::BTreeMap::new();
    let bases = [3.0, 0.9, 0.3, 0.06];
    for k in 0..4 {
        effects.insert(
            SIGNALS[k].to_string(),
            bases[k] * MEAN_ENGAGEMENT * c.effects[k],
        );
    }
    effects.insert(
        "order_value".to_string(),
        40.0 * bases[2] * MEAN_ENGAGEMENT * c.effects[2],
    );
    let weights: std::collections::BTreeMap<String, f64> = SIGNALS
        .iter()
        .zip(c.weights)
        .map(|(s, w)| (s.to_string(), w))
        .collect();
    let index: f64 = SIGNALS.iter().map(|s| weights[*s] * effects[*s]).sum();
    // NPS by common random numbers: the same customer and answer noise under both arms;
    // purchase and return are drawn per arm, hence the Monte Carlo error reported.
    let mut rng = rng_stream(c.seed, 2);
    let n = 100_000usize;
    let mut diffs = Vec::with_capacity(n);
    let std = Normal::new(0.0, 1.0).expect("valid sd");
    for _ in 0..n {
        let tenure = 1.0 + 59.0 * rng.random::<f64>();
        let z: f64 = std.sample(&mut rng);
        let e = (0.35 * z).exp() * (0.6 + tenure / 60.0);
        let eps: f64 = std.sample(&mut rng);
        let answer = |t: f64, rng: &mut ChaCha8Rng| {
            let p = poisson(rng, 0.3 * e * (1.0 + c.effects[2] * t));
            let r = poisson(rng, 0.06 * e * (1.0 + c.effects[3] * t));
            (7.0 + 0.5 * p - 1.5 * r + c.nps_shift * t + 2.0 * eps)
                .round()
                .clamp(0.0, 10.0)
        };
        let y0 = answer(0.0, &mut rng);
        let y1 = answer(1.0, &mut rng);
        diffs.push(y1 - y0);
    }
    let mean = diffs.iter().sum::<f64>() / n as f64;
    let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
    Ok(RecommenderTruth {
        parameters: c.clone(),
        covariate_coefficients: [
            ("tenure".to_string(), c.covariate_coefficients[0]),
            ("pre_clicks".to_string(), 0.0),
            ("pre_revenue".to_string(), c.covariate_coefficients[1]),
        ]
        .into_iter()
        .collect(),
        weights,
        signal_effects: effects,
        long_term_effect: index,
        long_term_effect_broken: index + c.direct_effect,
        surrogate_index_effect: index,
        nps_effect: mean,
        nps_effect_mc_se: (var / n as f64).sqrt(),
    })
}

/// Writes `history.csv`, `experiment.csv`, `experiment_broken.csv` and `truth.json` into
/// `dir` (created if needed).
pub fn write_recommender(
    c: &RecommenderConfig,
    dir: &Path,
) -> Result<RecommenderWritten, SimError> {
    let io = |p: &Path, e: std::io::Error| SimError::Io {
        path: p.to_path_buf(),
        source: e,
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let history = history_csv(c)?;
    let (ok, broken) = experiment_csv(c)?;
    let truth = recommender_truth(c)?;
    let mut data = Vec::new();
    for (name, text) in [
        (HISTORY_FILE, history),
        (EXPERIMENT_FILE, ok),
        (BROKEN_FILE, broken),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(|e| io(&p, e))?;
        data.push(p);
    }
    let p = dir.join(TRUTH_FILE);
    let json = serde_json::to_string_pretty(&truth)?;
    std::fs::write(&p, json + "\n").map_err(|e| io(&p, e))?;
    Ok(RecommenderWritten { data, truth: p })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Vec<String>> {
        text.lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    }

    fn small() -> RecommenderConfig {
        RecommenderConfig {
            history_customers: 3000,
            experiment_customers: 40_000,
            ..RecommenderConfig::default()
        }
    }

    #[test]
    fn files_are_reproducible_and_differ_only_by_the_direct_effect() {
        let c = small();
        assert_eq!(history_csv(&c).unwrap(), history_csv(&c).unwrap());
        let (ok, broken) = experiment_csv(&c).unwrap();
        assert_eq!((ok.clone(), broken.clone()), experiment_csv(&c).unwrap());
        let (a, b) = (parse(&ok), parse(&broken));
        assert_eq!(a.len(), 40_000);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x[..10], y[..10]);
            let d: f64 = y[10].parse::<f64>().unwrap() - x[10].parse::<f64>().unwrap();
            let want = if x[11] == "reward" {
                c.direct_effect
            } else {
                0.0
            };
            assert!((d - want).abs() < 2e-4, "{x:?} {y:?}");
        }
        assert_ne!(
            history_csv(&c.clone().with_seed(1)).unwrap(),
            history_csv(&c).unwrap()
        );
    }

    #[test]
    fn signal_effects_match_the_truth_within_sampling_error() {
        let c = small();
        let (ok, _) = experiment_csv(&c).unwrap();
        let rows = parse(&ok);
        let truth = recommender_truth(&c).unwrap();
        for (j, s) in SIGNALS.iter().enumerate() {
            let col = 4 + j;
            let mut sum = [0.0; 2];
            let mut sq = [0.0; 2];
            let mut n = [0.0; 2];
            for r in &rows {
                let a = (r[11] == "reward") as usize;
                let v: f64 = r[col].parse().unwrap();
                sum[a] += v;
                sq[a] += v * v;
                n[a] += 1.0;
            }
            let m = [sum[0] / n[0], sum[1] / n[1]];
            let var = |a: usize| (sq[a] / n[a] - m[a] * m[a]) / n[a];
            let se = (var(0) + var(1)).sqrt();
            let z = (m[1] - m[0] - truth.signal_effects[*s]) / se;
            // 5 signals at |z| < 4: a false failure has probability below 1e-3.
            assert!(z.abs() < 4.0, "{s}: z = {z}");
        }
        assert!(truth.nps_effect_mc_se < 0.01);
        assert!(truth.nps_effect > 0.0);
    }

    #[test]
    fn mean_engagement_is_the_lognormal_mean_times_the_tenure_factor() {
        let ln = (0.35f64 * 0.35 / 2.0).exp();
        assert!((MEAN_ENGAGEMENT - ln * (0.6 + 30.5 / 60.0)).abs() < 1e-15);
    }

    #[test]
    fn validation_names_the_bad_parameter() {
        let c = RecommenderConfig {
            effects: [-1.5, 0.0, 0.0, 0.0],
            ..RecommenderConfig::default()
        };
        let e = history_csv(&c).unwrap_err().to_string();
        assert!(e.contains("click"), "{e}");
    }
}

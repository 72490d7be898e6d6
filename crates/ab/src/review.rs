//! The whole A/B review as a library call: a specification validated once ([`AbSpec`] ->
//! [`AbReview`]) and a fit on per-arm (× segment) sufficient statistics ([`AbReview::fit`] ->
//! [`AbFit`], which implements [`Report`]).
//!
//! One fit runs what an experimentation platform's stats engine runs for a review:
//! CUPED / regression adjustment when the statistics carry covariates (Deng et al. 2013;
//! GrowthBook's ratio CUPED on a pre-period ratio), post-stratification, Welch or z tests with
//! delta-method and Fieller intervals for relative lifts, Bayesian posteriors (gbstats'
//! Gaussian model; the exact beta-binomial model for proportion metrics), confidence
//! sequences or mSPRT for always-valid inference, multiple-testing adjustment within
//! families, many-to-one adjustment for several arms (Dunnett 1955 or max-T), the sample ratio
//! mismatch check, guardrails as non-inferiority tests and a ship / don't-ship verdict.
//!
//! ```
//! use causalkit_ab::review::{AbSpec, AbData, MetricData, MetricCells, MetricSpec, OVERALL};
//! use causalkit_ab::{Direction, MetricType};
//! use causalkit_stats::{Moments, Report};
//! use std::collections::BTreeMap;
//!
//! // Per-arm sufficient statistics of one metric (names: numerator, denominator).
//! let arm = |values: &[f64]| {
//!     let mut m = Moments::new(vec!["numerator".into(), "denominator".into()]);
//!     for v in values {
//!         m.push(&[*v, 1.0]).unwrap();
//!     }
//!     m
//! };
//! let mut arms = BTreeMap::new();
//! arms.insert("control".to_string(), arm(&[300.0, 320.0, 310.0, 305.0, 290.0]));
//! arms.insert("treatment".to_string(), arm(&[280.0, 285.0, 290.0, 270.0, 282.0]));
//! let mut segments = BTreeMap::new();
//! segments.insert(OVERALL.to_string(), arms);
//!
//! let mut spec = AbSpec::new(vec![MetricSpec::new("aht", MetricType::Mean)]);
//! spec.set_lower_is_better(&["aht"]).unwrap();
//! spec.primary = Some("aht".into());
//! let review = spec.validate().unwrap();
//! let fit = review
//!     .fit(&AbData { metrics: vec![MetricData::new("aht", MetricCells::moments(segments))] })
//!     .unwrap();
//! assert_eq!(fit.control, "control");
//! assert!(fit.comparisons[0].comparison.absolute.estimate < 0.0);
//! let result = fit.result();
//! assert_eq!(result.diagnostics["verdict"], "ship");
//! ```

use crate::adjust::{
    post_stratify, ratio_adjusted_relative, ratio_regression_adjust, regression_adjust,
};
use crate::bayes;
use crate::checks::{adjust_within_families, non_inferiority_p, srm, verdict, GuardrailCheck};
use crate::error::{AbError, AbOption, AbResult};
use crate::frequentist::invalid;
use crate::frequentist::{compare, welch_df, FiellerInterval};
use crate::multiarm;
use crate::sequential::{self, SequentialInterval};
use crate::{
    ArmStats, Comparison, Direction, Lift, MetricType, Srm, TestKind, TestOptions, Verdict,
};
use causalkit_stats::text::plain_table;
use causalkit_stats::{
    Adjustment, Effect, EffectKey, EffectKind, EstimationResult, Moments, Report, Result,
    StatsError,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The segment key of the overall (all units) cells.
pub const OVERALL: &str = "all";

/// One metric of the review: its name, type and good direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSpec {
    /// Metric name (as the statistics are keyed).
    pub name: String,
    /// Mean, proportion or ratio (decides the variance formulas and the Bayesian model).
    pub metric_type: MetricType,
    /// Whether higher or lower values are better.
    pub direction: Direction,
}

impl MetricSpec {
    /// A metric where higher is better.
    pub fn new(name: impl Into<String>, metric_type: MetricType) -> Self {
        MetricSpec {
            name: name.into(),
            metric_type,
            direction: Direction::HigherIsBetter,
        }
    }
}

/// Always-valid inference at the current look.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum SequentialMethod {
    /// gbstats' asymptotic confidence sequence (Waudby-Smith et al. 2023), tightest at
    /// `n_plan` units.
    ConfidenceSequence {
        /// Planned total units (gbstats' default 5000).
        n_plan: f64,
    },
    /// Eppo's documented confidence sequence (Howard et al. 2021 normal mixture).
    Eppo {
        /// Eppo's N_tune (default 10,000).
        n_tune: f64,
    },
    /// Mixture SPRT (Johari et al. 2017) with mixing standard deviation `tau` on the
    /// relative scale.
    Msprt {
        /// Mixing standard deviation (relative-lift scale).
        tau: f64,
    },
}

impl SequentialMethod {
    fn name(&self) -> &'static str {
        match self {
            SequentialMethod::ConfidenceSequence { .. } => "confidence sequence",
            SequentialMethod::Eppo { .. } => "Eppo confidence sequence",
            SequentialMethod::Msprt { .. } => "mSPRT",
        }
    }
}

/// Many-to-one adjustment when there are several treatment arms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MultiArmMethod {
    /// Dunnett (1955) simultaneous intervals.
    Dunnett,
    /// Simulated max-T.
    MaxT,
}

/// Bayesian options.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct BayesSpec {
    /// Normal prior (mean, standard deviation) on the relative lift for the Gaussian model;
    /// `None` is gbstats' flat prior.
    pub gaussian_prior: Option<(f64, f64)>,
    /// Beta(a, b) prior of each arm's rate for proportion metrics (default uniform).
    pub beta_prior: bayes::BetaPrior,
}

/// Which dimensions one multiple-testing family spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustScope {
    /// Metrics share a family.
    pub metrics: bool,
    /// Arms share a family.
    pub arms: bool,
    /// Segments share a family (the overall effects are always a family of their own).
    pub segments: bool,
}

impl Default for AdjustScope {
    fn default() -> Self {
        AdjustScope {
            metrics: true,
            arms: true,
            segments: true,
        }
    }
}

impl AdjustScope {
    /// Parses names `metrics`, `arms`, `segments`.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> AbResult<Self> {
        let mut s = AdjustScope {
            metrics: false,
            arms: false,
            segments: false,
        };
        for n in names {
            match n.as_ref() {
                "metrics" => s.metrics = true,
                "arms" => s.arms = true,
                "segments" => s.segments = true,
                other => {
                    return Err(option_error(
                        AbOption::AdjustScope,
                        format!("takes metrics, arms and/or segments, got `{other}`"),
                    ))
                }
            }
        }
        Ok(s)
    }

    /// The names of the dimensions spanned.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.metrics {
            v.push("metrics");
        }
        if self.arms {
            v.push("arms");
        }
        if self.segments {
            v.push("segments");
        }
        v
    }
}

/// A guardrail: non-inferiority of the relative lift with this margin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guardrail {
    /// The metric.
    pub metric: String,
    /// Largest tolerated relative worsening (0.02 = 2%).
    pub margin: f64,
}

/// The specification of an A/B review. Build it, then [`AbSpec::validate`] it once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbSpec {
    /// The metrics, in report order.
    pub metrics: Vec<MetricSpec>,
    /// Covariate names carried by the statistics (for the record; CUPED runs whenever the
    /// moments carry covariates).
    pub covariates: Vec<String>,
    /// The segment column the per-segment cells come from (for the record).
    pub segment: Option<String>,
    /// The control arm (default: `control`, `Control`, `A`, `a`, `0` or the first arm).
    pub control: Option<String>,
    /// Significance level.
    pub alpha: f64,
    /// Welch t or z.
    pub test: TestKind,
    /// The primary metric of the verdict.
    pub primary: Option<String>,
    /// Guardrails.
    pub guardrails: Vec<Guardrail>,
    /// Multiple-testing adjustment of the p-values.
    pub adjustment: Option<Adjustment>,
    /// Dimensions one family spans.
    pub adjust_scope: AdjustScope,
    /// Planned traffic shares per arm (sorted arm order) for the SRM check; empty = equal.
    pub split: Vec<f64>,
    /// SRM significance level.
    pub srm_alpha: f64,
    /// Bayesian posteriors.
    pub bayesian: Option<BayesSpec>,
    /// Always-valid inference.
    pub sequential: Option<SequentialMethod>,
    /// Many-to-one adjustment for several arms.
    pub multiarm: Option<MultiArmMethod>,
    /// The confidence sequence of the cumulative (running-effect) view,
    /// [`AbReview::cumulative_sequence`]: `None` follows `sequential` when that is gbstats' or
    /// Eppo's sequence and is gbstats' sequence with `n_plan` 5000 otherwise; `Some` must be
    /// one of the two confidence sequences (not mSPRT) and only tunes the view, not the
    /// review's intervals.
    #[serde(default)]
    pub cumulative_sequence: Option<SequentialMethod>,
}

impl AbSpec {
    /// A specification with defaults: alpha 0.05, Welch, SRM alpha 0.001, no options.
    pub fn new(metrics: Vec<MetricSpec>) -> Self {
        AbSpec {
            metrics,
            covariates: Vec::new(),
            segment: None,
            control: None,
            alpha: 0.05,
            test: TestKind::Welch,
            primary: None,
            guardrails: Vec::new(),
            adjustment: None,
            adjust_scope: AdjustScope::default(),
            split: Vec::new(),
            srm_alpha: 0.001,
            bayesian: None,
            sequential: None,
            multiarm: None,
            cumulative_sequence: None,
        }
    }

    /// Marks these metrics lower-is-better; a name that matches no metric is an error (a typo
    /// would otherwise flip the verdict silently).
    /// The error lists every name that matches no metric, and nothing is changed then.
    pub fn set_lower_is_better<S: AsRef<str>>(&mut self, names: &[S]) -> AbResult<()> {
        let unknown: Vec<&str> = names
            .iter()
            .map(AsRef::as_ref)
            .filter(|n| self.metric(n).is_none())
            .collect();
        if !unknown.is_empty() {
            let all: Vec<&str> = self.metrics.iter().map(|m| m.name.as_str()).collect();
            return Err(unknown_metric(AbOption::LowerIsBetter, &unknown, &all));
        }
        for n in names {
            if let Some(m) = self.metrics.iter_mut().find(|m| m.name == n.as_ref()) {
                m.direction = Direction::LowerIsBetter;
            }
        }
        Ok(())
    }

    fn metric(&self, name: &str) -> Option<&MetricSpec> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// Checks every option once: probabilities in range, positive tuning constants, metric
    /// names that exist, no duplicates. The error names the option at fault as a typed
    /// [`AbOption`].
    pub fn validate(self) -> AbResult<AbReview> {
        let names: Vec<&str> = self.metrics.iter().map(|m| m.name.as_str()).collect();
        if names.is_empty() {
            return Err(option_error(
                AbOption::Metrics,
                "must name at least one metric",
            ));
        }
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(option_error(
                    AbOption::Metrics,
                    format!("must not name a metric twice; `{n}` is given twice"),
                ));
            }
        }
        causalkit_stats::limits::check_alpha_level("alpha", self.alpha).map_err(|e| match e {
            StatsError::InvalidArgument { reason, .. } => option_error(AbOption::Alpha, reason),
            other => AbError::Stats(other),
        })?;
        probability(AbOption::SrmAlpha, self.srm_alpha)?;
        for s in &self.split {
            if !(s.is_finite() && *s > 0.0) {
                return Err(option_error(
                    AbOption::Split,
                    format!("must list positive traffic shares, got {s}"),
                ));
            }
        }
        if let Some(p) = &self.primary {
            if self.metric(p).is_none() {
                return Err(unknown_metric(AbOption::Primary, &[p], &names));
            }
        }
        for g in &self.guardrails {
            if self.metric(&g.metric).is_none() {
                return Err(unknown_metric(AbOption::Guardrail, &[&g.metric], &names));
            }
            if !(g.margin.is_finite() && g.margin >= 0.0) {
                return Err(option_error(
                    AbOption::Guardrail,
                    format!(
                        "needs a non-negative margin, got {} for `{}`",
                        g.margin, g.metric
                    ),
                ));
            }
        }
        if let Some(b) = &self.bayesian {
            if let Some((m, sd)) = b.gaussian_prior {
                if !m.is_finite() {
                    return Err(option_error(
                        AbOption::PriorMean,
                        format!("must be a finite number, got {m}"),
                    ));
                }
                if !(sd.is_finite() && sd > 0.0) {
                    return Err(option_error(
                        AbOption::PriorSd,
                        format!("must be a positive number, got {sd}"),
                    ));
                }
            }
            let bp = b.beta_prior;
            if !(bp.a.is_finite() && bp.a > 0.0 && bp.b.is_finite() && bp.b > 0.0) {
                return Err(option_error(
                    AbOption::BetaPrior,
                    format!(
                        "needs positive finite a and b (Beta(a, b) prior of each arm's rate), got {}, {}",
                        bp.a, bp.b
                    ),
                ));
            }
        }
        for method in [self.sequential, self.cumulative_sequence]
            .into_iter()
            .flatten()
        {
            check_sequential(method)?;
        }
        if let Some(SequentialMethod::Msprt { .. }) = self.cumulative_sequence {
            return Err(option_error(
                AbOption::CumulativeSequence,
                "must be a confidence sequence (gbstats' or Eppo's), not mSPRT",
            ));
        }
        Ok(AbReview { spec: self })
    }
}

fn check_sequential(method: SequentialMethod) -> AbResult<()> {
    let (option, x) = match method {
        SequentialMethod::ConfidenceSequence { n_plan } => (AbOption::NPlan, n_plan),
        SequentialMethod::Eppo { n_tune } => (AbOption::NTune, n_tune),
        SequentialMethod::Msprt { tau } => (AbOption::Tau, tau),
    };
    if x.is_finite() && x > 0.0 {
        Ok(())
    } else {
        let what = if option == AbOption::Tau {
            "a positive number"
        } else {
            "a positive number of units"
        };
        Err(option_error(option, format!("must be {what}, got {x}")))
    }
}

fn option_error(option: AbOption, reason: impl Into<String>) -> AbError {
    AbError::Option {
        option,
        reason: reason.into(),
    }
}

fn unknown_metric<S: AsRef<str>, T: AsRef<str>>(
    option: AbOption,
    names: &[S],
    metrics: &[T],
) -> AbError {
    AbError::UnknownMetric {
        option,
        names: names.iter().map(|n| n.as_ref().to_string()).collect(),
        metrics: metrics.iter().map(|n| n.as_ref().to_string()).collect(),
    }
}

fn probability(option: AbOption, p: f64) -> AbResult<()> {
    if p > 0.0 && p < 1.0 {
        Ok(())
    } else {
        Err(option_error(
            option,
            format!("must be a probability strictly between 0 and 1, got {p}"),
        ))
    }
}

/// Post-stratification cells: (arm, stratum) -> moments.
pub type StrataCells = BTreeMap<(String, String), Moments>;

/// The per-arm inputs of one metric.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricCells {
    /// Sufficient statistics per segment ([`OVERALL`] plus one entry per segment value) and
    /// arm. Moment names are `numerator`, `denominator` and then the covariates (CUPED); for
    /// ratio CUPED on a pre-period ratio the last two are the pre-period numerator and
    /// denominator and `ratio_covariate` names them.
    Moments {
        /// segment -> arm -> moments.
        segments: BTreeMap<String, BTreeMap<String, Moments>>,
        /// Post-stratification: the column and (arm, stratum) -> moments; the overall
        /// effects are then post-stratified.
        strata: Option<(String, StrataCells)>,
        /// `Some(display name)`: regression-adjust the ratio on the pre-period ratio formed by
        /// the last two moments (GrowthBook's ratio CUPED).
        ratio_covariate: Option<String>,
    },
    /// Arm summaries computed elsewhere (quantile metrics), per segment and arm.
    Summaries(BTreeMap<String, BTreeMap<String, ArmStats>>),
}

impl MetricCells {
    /// Plain moments per segment and arm (no strata, no ratio CUPED).
    pub fn moments(segments: BTreeMap<String, BTreeMap<String, Moments>>) -> Self {
        MetricCells::Moments {
            segments,
            strata: None,
            ratio_covariate: None,
        }
    }
}

/// One metric's statistics and notes (extra diagnostics such as winsorisation caps).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricData {
    /// Metric name (must match the spec).
    pub name: String,
    /// The cells.
    pub cells: MetricCells,
    /// Extra diagnostics copied into the metric's diagnostics.
    pub notes: Map<String, Value>,
}

impl MetricData {
    /// Statistics without notes.
    pub fn new(name: impl Into<String>, cells: MetricCells) -> Self {
        MetricData {
            name: name.into(),
            cells,
            notes: Map::new(),
        }
    }
}

/// The statistics of every metric of the review.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AbData {
    /// One entry per metric of the spec (any order).
    pub metrics: Vec<MetricData>,
}

/// A validated specification; [`AbReview::fit`] runs it on statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct AbReview {
    spec: AbSpec,
}

/// One treatment-vs-control comparison of one metric in one segment, with what was computed
/// on it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricComparison {
    /// Metric.
    pub metric: String,
    /// Segment ([`OVERALL`] for all units).
    pub segment: String,
    /// Treatment arm.
    pub arm: String,
    /// Welch/z comparison with lifts and Fieller set.
    pub comparison: Comparison,
    /// Gaussian posterior of the relative lift (with `bayesian`, when the control mean is
    /// positive and the metric is not a proportion).
    pub gaussian_posterior: Option<bayes::GaussianPosterior>,
    /// Exact beta-binomial posterior (with `bayesian`, proportion metrics).
    pub beta_posterior: Option<bayes::BetaBinomialPosterior>,
    /// Always-valid intervals (absolute, relative).
    pub sequential: Vec<(EffectKind, SequentialInterval)>,
}

/// CUPED / regression adjustment of one metric (overall cells).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CupedSummary {
    /// Covariates used.
    pub covariates: Vec<String>,
    /// Coefficients.
    pub theta: Value,
    /// Variance reduction per arm.
    pub variance_reduction: BTreeMap<String, f64>,
}

impl CupedSummary {
    /// The summary, also written into a metric's diagnostics (`cuped_covariates`,
    /// `cuped_theta`, `cuped_variance_reduction`).
    fn record(
        diag: &mut Map<String, Value>,
        covariates: Vec<String>,
        theta: Value,
        variance_reduction: impl Iterator<Item = (String, f64)>,
    ) -> Self {
        let vr: BTreeMap<String, f64> = variance_reduction.collect();
        diag.insert("cuped_covariates".into(), json!(covariates));
        diag.insert("cuped_theta".into(), theta.clone());
        diag.insert("cuped_variance_reduction".into(), json!(vr));
        CupedSummary {
            covariates,
            theta,
            variance_reduction: vr,
        }
    }
}

/// Per-arm summary of a metric (overall cells).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmSummary {
    /// Units.
    pub n: f64,
    /// (Adjusted) mean.
    pub mean: f64,
    /// Mean before adjustment.
    pub unadjusted_mean: f64,
    /// Standard error of the mean.
    pub std_error: f64,
}

/// What was done to one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDiagnostics {
    /// Metric name.
    pub name: String,
    /// Per-arm summaries of the overall cells.
    pub arms: BTreeMap<String, ArmSummary>,
    /// CUPED, if applied.
    pub cuped: Option<CupedSummary>,
    /// Post-stratification column and strata, if applied.
    pub post_stratified: Option<(String, Vec<String>)>,
    /// Notes passed with the data (winsorisation, quantile kind, ...).
    pub notes: Map<String, Value>,
}

/// The SRM check of the review.
#[derive(Debug, Clone, PartialEq)]
pub struct SrmCheck {
    /// Arms in sorted order.
    pub arms: Vec<String>,
    /// Units per arm.
    pub units: Vec<f64>,
    /// The chi-square test overall.
    pub overall: Srm,
    /// Per segment.
    pub by_segment: BTreeMap<String, Srm>,
    /// Whether p < srm_alpha.
    pub mismatch: bool,
}

/// A fitted A/B review.
#[derive(Debug, Clone, PartialEq)]
pub struct AbFit {
    /// The validated specification it ran.
    pub spec: AbSpec,
    /// The control arm.
    pub control: String,
    /// Every comparison, metric by metric, segment by segment.
    pub comparisons: Vec<MetricComparison>,
    /// Per-metric diagnostics.
    pub metrics: Vec<MetricDiagnostics>,
    /// The SRM check (from the first metric with sufficient statistics).
    pub srm: Option<SrmCheck>,
    /// Many-to-one adjusted comparisons per metric.
    pub multiarm: Vec<(String, multiarm::MultiArmResult)>,
    /// Guardrail checks.
    pub guardrails: Vec<GuardrailCheck>,
    /// The verdict (with a primary metric).
    pub verdict: Option<Verdict>,
    /// Adjusted p-values: (effect index, raw p, adjusted p, family).
    pub adjusted_p: Vec<(usize, f64, f64, String)>,
    /// Intervals adjusted for multiplicity, one per adjusted effect with an interval (see
    /// [`multiplicity_interval_rule`]); empty without `adjustment`.
    pub adjusted_intervals: Vec<AdjustedInterval>,
    result: EstimationResult,
}

fn label(c: &MetricComparison, control: &str, kind: &str) -> String {
    format!(
        "{} | {} | {} vs {} | {kind}",
        c.metric, c.segment, c.arm, control
    )
}

fn key(c: &MetricComparison, control: &str, kind: EffectKind) -> EffectKey {
    EffectKey::kind(kind)
        .metric(c.metric.clone())
        .segment(c.segment.clone())
        .contrast(c.arm.clone(), control)
}

fn pick_control(arms: &[String], given: &Option<String>) -> Result<String> {
    if let Some(c) = given {
        if arms.contains(c) {
            return Ok(c.clone());
        }
        return Err(invalid(
            "control",
            format!("control arm `{c}` not found; arms are {arms:?}"),
        ));
    }
    for c in ["control", "Control", "A", "a", "0"] {
        if arms.iter().any(|x| x == c) {
            return Ok(c.to_string());
        }
    }
    arms.first()
        .cloned()
        .ok_or_else(|| invalid("arms", "no arms"))
}

fn in_context(what: String) -> impl Fn(StatsError) -> StatsError {
    move |e| match e {
        StatsError::InvalidArgument { name, reason } => StatsError::InvalidArgument {
            name,
            reason: format!("{what}: {reason}"),
        },
        StatsError::InsufficientData(m) => StatsError::InsufficientData(format!("{what}: {m}")),
        other => other,
    }
}

impl AbReview {
    /// The validated specification.
    pub fn spec(&self) -> &AbSpec {
        &self.spec
    }

    /// The confidence sequence the cumulative view draws
    /// ([`crate::cumulative::cumulative_effect`]) at the review's `alpha`: the spec's
    /// `cumulative_sequence`, else its `sequential` sequence when that is gbstats' or Eppo's,
    /// else gbstats' with `n_plan` 5000 (gbstats' default).
    pub fn cumulative_sequence(&self) -> Result<sequential::ConfidenceSequence> {
        let spec = &self.spec;
        match spec.cumulative_sequence.or(spec.sequential) {
            Some(SequentialMethod::Eppo { n_tune }) => {
                sequential::ConfidenceSequence::eppo(n_tune, spec.alpha)
            }
            Some(SequentialMethod::ConfidenceSequence { n_plan }) => {
                sequential::ConfidenceSequence::gbstats(n_plan, spec.alpha)
            }
            Some(SequentialMethod::Msprt { .. }) | None => {
                sequential::ConfidenceSequence::gbstats(5000.0, spec.alpha)
            }
        }
    }

    /// The cumulative view of one metric ([`crate::cumulative::cumulative_effect`] on its
    /// rows: time, side — `Some(false)` control, `Some(true)` treatment, `None` ignored —,
    /// numerator and denominator) with the review's confidence sequence
    /// ([`AbReview::cumulative_sequence`]) and `alpha`.
    pub fn cumulative(
        &self,
        times: &[f64],
        side: &[Option<bool>],
        numerator: &[f64],
        denominator: &[f64],
        metric_type: MetricType,
    ) -> Result<Vec<crate::cumulative::CumulativePoint>> {
        crate::cumulative::cumulative_effect(
            times,
            side,
            numerator,
            denominator,
            metric_type,
            &self.cumulative_sequence()?,
            self.spec.alpha,
        )
    }

    /// Runs the review on per-arm (× segment) statistics.
    pub fn fit(&self, data: &AbData) -> Result<AbFit> {
        let spec = &self.spec;
        let opts = TestOptions {
            alpha: spec.alpha,
            test: spec.test,
            proportion: false,
        };
        let mut result = EstimationResult::new(
            match spec.test {
                TestKind::Welch => "A/B test: Welch t, delta method",
                TestKind::Z => "A/B test: z test, delta method",
            },
            "treatment - control (absolute) and (treatment - control)/control (relative), per metric x segment x arm",
        );
        let winsorised: Vec<&str> = data
            .metrics
            .iter()
            .filter(|m| m.notes.contains_key("winsorized"))
            .map(|m| m.name.as_str())
            .collect();
        if !winsorised.is_empty() {
            result.estimand += &format!(
                "; winsorised values (caps pooled over arms) for {}",
                winsorised.join(", ")
            );
        }
        let mut comparisons: Vec<MetricComparison> = Vec::new();
        let mut ratio_relative: BTreeMap<(String, String, String), Lift> = BTreeMap::new();
        let mut metric_diag = Map::new();
        let mut metric_out = Vec::new();
        let mut srm_counts: Option<BTreeMap<String, BTreeMap<String, f64>>> = None;
        let mut control = String::new();
        for mspec in &spec.metrics {
            let name = mspec.name.clone();
            let md = data
                .metrics
                .iter()
                .find(|m| m.name == name)
                .ok_or_else(|| invalid("data", format!("no statistics for metric `{name}`")))?;
            let mt = mspec.metric_type;
            let mut mdiag = md.notes.clone();
            let mut cuped = None;
            let mut post_stratified = None;
            let summaries: BTreeMap<String, BTreeMap<String, ArmStats>> = match &md.cells {
                MetricCells::Summaries(s) => s.clone(),
                MetricCells::Moments {
                    segments,
                    strata,
                    ratio_covariate,
                } => {
                    if srm_counts.is_none() {
                        srm_counts = Some(
                            segments
                                .iter()
                                .map(|(s, arms)| {
                                    (
                                        s.clone(),
                                        arms.iter()
                                            .map(|(k, m)| (k.clone(), m.n() as f64))
                                            .collect(),
                                    )
                                })
                                .collect(),
                        );
                    }
                    let first_names = segments
                        .values()
                        .next()
                        .and_then(|x| x.values().next())
                        .map(|m| m.names().to_vec())
                        .unwrap_or_default();
                    let has_cov = first_names.len() > 2;
                    let mut out: BTreeMap<String, BTreeMap<String, ArmStats>> = BTreeMap::new();
                    for (seg, arms) in segments {
                        let ms: Vec<&Moments> = arms.values().collect();
                        let ctx = || format!("{name} [{seg}]");
                        let stats_v: Vec<ArmStats> = if let Some(rc) = ratio_covariate {
                            let adj = ratio_regression_adjust(&ms).map_err(in_context(ctx()))?;
                            let keys: Vec<String> = arms.keys().cloned().collect();
                            let ctrl = pick_control(&keys, &spec.control)?;
                            if let (Some(ci), Some(cm)) =
                                (keys.iter().position(|k| *k == ctrl), arms.get(&ctrl))
                            {
                                for (i, (k, m)) in arms.iter().enumerate() {
                                    if *k == ctrl || adj.arms[ci].unadjusted_mean <= 0.0 {
                                        continue;
                                    }
                                    let df = match opts.test {
                                        TestKind::Welch => welch_df(&adj.arms[ci], &adj.arms[i]),
                                        TestKind::Z => f64::INFINITY,
                                    };
                                    let l =
                                        ratio_adjusted_relative(cm, m, adj.theta, df, spec.alpha)
                                            .map_err(in_context(format!("{name} [{seg}] {k}")))?;
                                    ratio_relative
                                        .insert((name.clone(), seg.clone(), k.clone()), l);
                                }
                            }
                            if seg == OVERALL {
                                cuped = Some(CupedSummary::record(
                                    &mut mdiag,
                                    vec![rc.clone()],
                                    json!(adj.theta),
                                    arms.keys()
                                        .cloned()
                                        .zip(adj.variance_reduction.iter().copied()),
                                ));
                            }
                            adj.arms
                        } else if has_cov {
                            let adj = regression_adjust(&ms, mt).map_err(in_context(ctx()))?;
                            if seg == OVERALL {
                                cuped = Some(CupedSummary::record(
                                    &mut mdiag,
                                    adj.covariates.clone(),
                                    json!(adj.theta),
                                    arms.keys()
                                        .cloned()
                                        .zip(adj.variance_reduction.iter().copied()),
                                ));
                            }
                            adj.arms
                        } else {
                            ms.iter()
                                .map(|m| ArmStats::from_moments(m, mt))
                                .collect::<Result<_>>()
                                .map_err(in_context(ctx()))?
                        };
                        out.insert(seg.clone(), arms.keys().cloned().zip(stats_v).collect());
                    }
                    if let Some((st, g)) = strata {
                        let arms: Vec<String> = out
                            .get(OVERALL)
                            .map(|m| m.keys().cloned().collect())
                            .unwrap_or_default();
                        let strata_names: Vec<String> = g
                            .keys()
                            .map(|(_, s)| s.clone())
                            .collect::<BTreeSet<_>>()
                            .into_iter()
                            .collect();
                        let mut cells_ps: Vec<Vec<&Moments>> = Vec::new();
                        for arm in &arms {
                            let mut v = Vec::new();
                            for s in &strata_names {
                                v.push(g.get(&(arm.clone(), s.clone())).ok_or_else(|| {
                                    invalid(
                                        "strata",
                                        format!("post-stratification: arm `{arm}` has no units in stratum `{s}`"),
                                    )
                                })?);
                            }
                            cells_ps.push(v);
                        }
                        let ps = post_stratify(&cells_ps, mt)?;
                        out.insert(OVERALL.into(), arms.into_iter().zip(ps).collect());
                        mdiag.insert("post_stratified_on".into(), json!(st));
                        mdiag.insert("strata".into(), json!(strata_names));
                        post_stratified = Some((st.clone(), strata_names));
                    }
                    out
                }
            };
            let all_arms: Vec<String> = summaries
                .get(OVERALL)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            if all_arms.len() < 2 {
                return Err(StatsError::InsufficientData(format!(
                    "metric `{name}` has {} arm(s); an A/B test needs at least two",
                    all_arms.len()
                )));
            }
            control = pick_control(&all_arms, &spec.control)?;
            let mut arm_table = Map::new();
            let mut arm_summaries = BTreeMap::new();
            for (k, s) in &summaries[OVERALL] {
                arm_table.insert(
                    k.clone(),
                    json!({"n": causalkit_stats::count_value(s.n), "mean": s.mean, "unadjusted_mean": s.unadjusted_mean, "std_error": s.std_error()}),
                );
                arm_summaries.insert(
                    k.clone(),
                    ArmSummary {
                        n: s.n,
                        mean: s.mean,
                        unadjusted_mean: s.unadjusted_mean,
                        std_error: s.std_error(),
                    },
                );
            }
            mdiag.insert("arms".into(), Value::Object(arm_table));
            for (seg, arms) in &summaries {
                let Some(ctrl) = arms.get(&control) else {
                    result
                        .warnings
                        .push(format!("{name} [{seg}]: no control units; segment skipped"));
                    continue;
                };
                for (arm, st) in arms {
                    if *arm == control {
                        continue;
                    }
                    let o = TestOptions {
                        proportion: mt == MetricType::Proportion,
                        ..opts
                    };
                    let mut c = compare(ctrl, st, &o)
                        .map_err(in_context(format!("{name} [{seg}] {arm}")))?;
                    if let Some(l) = ratio_relative.get(&(name.clone(), seg.clone(), arm.clone())) {
                        // Ratio adjusted on a pre-period ratio: the full delta method.
                        c.relative = Some(*l);
                    }
                    comparisons.push(MetricComparison {
                        metric: name.clone(),
                        segment: seg.clone(),
                        arm: arm.clone(),
                        comparison: c,
                        gaussian_posterior: None,
                        beta_posterior: None,
                        sequential: Vec::new(),
                    });
                }
            }
            metric_out.push(MetricDiagnostics {
                name: name.clone(),
                arms: arm_summaries,
                cuped,
                post_stratified,
                notes: md.notes.clone(),
            });
            metric_diag.insert(name, Value::Object(mdiag));
        }

        // Effects.
        let mut fieller_diag = Map::new();
        // effect index, family key, degrees of freedom of its interval (infinite: normal)
        let mut p_index: Vec<(usize, String, f64)> = Vec::new();
        let scope = spec.adjust_scope;
        for r in comparisons.iter_mut() {
            let mspec = spec
                .metric(&r.metric)
                .expect("comparisons come from the spec's metrics");
            let fam = |kind: &str| {
                let mut k = vec![kind.to_string()];
                if !scope.metrics {
                    k.push(r.metric.clone());
                }
                if !scope.arms {
                    k.push(r.arm.clone());
                }
                if !scope.segments || r.segment == OVERALL {
                    // The overall effects never share a family with the per-segment ones.
                    k.push(r.segment.clone());
                }
                k.join("/")
            };
            let c = &r.comparison;
            let no_inference = c.absolute.std_error.is_nan() || c.absolute.std_error <= 0.0;
            p_index.push((result.effects.len(), fam("absolute"), c.absolute.df));
            result.effects.push(inference_effect(
                c.absolute.to_effect(label(r, &control, "absolute")),
                no_inference,
                key(r, &control, EffectKind::Absolute),
            ));
            if let Some(rel) = &c.relative {
                p_index.push((result.effects.len(), fam("relative"), rel.df));
                result.effects.push(inference_effect(
                    rel.to_effect(label(r, &control, "relative (delta)")),
                    rel.std_error.is_nan() || rel.std_error <= 0.0,
                    key(r, &control, EffectKind::Relative).variant("delta"),
                ));
                if let Some(f) = &c.fieller {
                    let (lo, hi) = match f {
                        FiellerInterval::Bounded { low, high } => (Some(*low), Some(*high)),
                        _ => (None, None),
                    };
                    result.effects.push(Effect {
                        key: key(r, &control, EffectKind::Relative).variant("fieller"),
                        label: label(r, &control, "relative (Fieller)"),
                        estimate: rel.estimate,
                        std_error: None,
                        ci_low: lo,
                        ci_high: hi,
                        p_value: None,
                    });
                    fieller_diag.insert(label(r, &control, "relative (Fieller)"), json!(f));
                }
            }
            for w in &c.warnings {
                result
                    .warnings
                    .push(format!("{} [{}] {}: {w}", r.metric, r.segment, r.arm));
            }
            if let Some(b) = &spec.bayesian {
                let inverse = mspec.direction == Direction::LowerIsBetter;
                let post_key = format!("{} | {} | {}", r.metric, r.segment, r.arm);
                let entry = if mspec.metric_type == MetricType::Proportion {
                    // Exact beta-binomial on the success counts.
                    let (ca, cb) = (&c.control, &c.treatment);
                    let post = bayes::beta_binomial(
                        (ca.unadjusted_mean * ca.n).round(),
                        ca.n,
                        (cb.unadjusted_mean * cb.n).round(),
                        cb.n,
                        b.beta_prior,
                        spec.alpha,
                    )?;
                    let mut e = post.to_effect();
                    e.label = label(r, &control, "absolute (Bayesian posterior, beta-binomial)");
                    e.key = key(r, &control, EffectKind::Posterior).variant("beta_binomial");
                    result.effects.push(e);
                    let win = if inverse {
                        1.0 - post.prob_treatment_better
                    } else {
                        post.prob_treatment_better
                    };
                    let (risk_c, risk_t) = if inverse {
                        (post.risk_treatment, post.risk_control)
                    } else {
                        (post.risk_control, post.risk_treatment)
                    };
                    let v = json!({"model": format!("beta-binomial, Beta({}, {}) prior", b.beta_prior.a, b.beta_prior.b), "chance_to_win": win, "risk_control": risk_c, "risk_treatment": risk_t});
                    r.beta_posterior = Some(post);
                    Some(v)
                } else if c.control.mean > 0.0 {
                    let arm = |s: &ArmStats| bayes::Arm {
                        n: s.n,
                        mean: s.mean,
                        variance: s.variance,
                    };
                    let prior = b.gaussian_prior.map(|(m, sd)| bayes::GaussianPrior {
                        mean: m,
                        variance: sd * sd,
                        relative: true,
                    });
                    let post = bayes::gaussian(
                        &arm(&c.control),
                        &arm(&c.treatment),
                        &bayes::GaussianOptions {
                            relative: true,
                            prior,
                            alpha: spec.alpha,
                            inverse,
                        },
                    )?;
                    let mut e = post.to_effect();
                    e.label = label(r, &control, "relative (Bayesian posterior)");
                    e.key = key(r, &control, EffectKind::Posterior).variant("gaussian");
                    result.effects.push(e);
                    let v = json!({"model": "Gaussian (gbstats)", "chance_to_win": post.chance_to_win, "risk_control": post.risk_control, "risk_treatment": post.risk_treatment});
                    r.gaussian_posterior = Some(post);
                    Some(v)
                } else {
                    None
                };
                if let Some(v) = entry {
                    let slot = result
                        .diagnostics
                        .entry("bayesian")
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(m) = slot {
                        m.insert(post_key, v);
                    }
                }
            }
            if let Some(seq) = spec.sequential {
                let n = c.control.n + c.treatment.n;
                let mut ivs = Vec::new();
                for (kind, l) in [
                    (EffectKind::Absolute, Some(&c.absolute)),
                    (EffectKind::Relative, c.relative.as_ref()),
                ] {
                    let Some(l) = l else { continue };
                    if l.std_error <= 0.0 {
                        continue;
                    }
                    let iv = match seq {
                        SequentialMethod::ConfidenceSequence { n_plan } => {
                            sequential::ConfidenceSequence::gbstats(n_plan, spec.alpha)?.interval(
                                l.estimate,
                                l.std_error,
                                n,
                            )?
                        }
                        SequentialMethod::Eppo { n_tune } => sequential::ConfidenceSequence::eppo(
                            n_tune, spec.alpha,
                        )?
                        .interval(l.estimate, l.std_error, n)?,
                        SequentialMethod::Msprt { tau } => {
                            let tau2 = if kind == EffectKind::Relative {
                                tau * tau
                            } else {
                                (tau * c.control.unadjusted_mean).powi(2)
                            };
                            sequential::msprt(l.estimate, l.std_error, tau2, 0.0, spec.alpha)?
                                .interval
                        }
                    };
                    let kname = if kind == EffectKind::Absolute {
                        "absolute"
                    } else {
                        "relative"
                    };
                    let mut e =
                        iv.to_effect(&label(r, &control, &format!("{kname} ({})", seq.name())));
                    e.key = key(r, &control, kind).variant("sequential");
                    result.effects.push(e);
                    ivs.push((kind, iv));
                }
                r.sequential = ivs;
            }
        }
        if !fieller_diag.is_empty() {
            result
                .diagnostics
                .insert("fieller".into(), Value::Object(fieller_diag));
        }

        // Multiple testing.
        let mut adjusted_p = Vec::new();
        let mut adjusted_intervals = Vec::new();
        if let Some(adj) = spec.adjustment {
            let p: Vec<f64> = p_index
                .iter()
                .map(|(i, _, _)| result.effects[*i].p_value.unwrap_or(1.0))
                .collect();
            let fam: Vec<String> = p_index.iter().map(|(_, f, _)| f.clone()).collect();
            let adjusted = adjust_within_families(&p, &fam, adj)?;
            let mut m = Map::new();
            for (((i, f, df), raw), pa) in p_index.iter().zip(&p).zip(&adjusted) {
                let e = &result.effects[*i];
                let mut entry = json!({"p_value": raw, "p_adjusted": pa, "family": f});
                let family: Vec<f64> = fam
                    .iter()
                    .zip(&adjusted)
                    .filter(|(g, _)| *g == f)
                    .map(|(_, q)| *q)
                    .collect();
                let level = multiplicity_alpha(adj, spec.alpha, &family);
                // An effect without a finite critical value (no inference) keeps no interval.
                let crit = causalkit_stats::dist::t_critical(level, *df).ok();
                if let (Some(se), true, Some(crit)) = (e.std_error, e.ci_low.is_some(), crit) {
                    let iv = AdjustedInterval {
                        effect: *i,
                        alpha: level,
                        ci_low: e.estimate - crit * se,
                        ci_high: e.estimate + crit * se,
                    };
                    entry["interval_alpha"] = json!(iv.alpha);
                    entry["ci_low_adjusted"] = json!(iv.ci_low);
                    entry["ci_high_adjusted"] = json!(iv.ci_high);
                    adjusted_intervals.push(iv);
                }
                m.insert(e.label.clone(), entry);
                adjusted_p.push((*i, *raw, *pa, f.clone()));
            }
            result.diagnostics.insert(
                "multiple_testing".into(),
                json!({"method": format!("{adj:?}"), "scope": scope.names(), "adjusted": m, "intervals": multiplicity_interval_rule(adj)}),
            );
        }

        // SRM.
        let mut srm_check = None;
        if let Some(counts) = &srm_counts {
            let mut per_seg = Map::new();
            let mut by_segment = BTreeMap::new();
            for (seg, arms) in counts {
                let c: Vec<f64> = arms.values().copied().collect();
                if c.len() < 2 {
                    continue;
                }
                let ratios = if spec.split.is_empty() {
                    vec![1.0; c.len()]
                } else if spec.split.len() == c.len() {
                    spec.split.clone()
                } else {
                    return Err(invalid(
                        "split",
                        format!("{} shares for {} arms", spec.split.len(), c.len()),
                    ));
                };
                let s = srm(&c, &ratios)?;
                if seg == OVERALL {
                    let mismatch = s.p_value < spec.srm_alpha;
                    result.diagnostics.insert(
                        "srm".into(),
                        json!({"arms": arms.keys().collect::<Vec<_>>(), "units": c.iter().map(|x| causalkit_stats::count_value(*x)).collect::<Vec<_>>(), "expected": s.expected, "chi2": s.chi2, "df": s.df, "p_value": s.p_value, "alpha": spec.srm_alpha}),
                    );
                    if mismatch {
                        result.warnings.push(format!(
                            "sample ratio mismatch: p = {:.2e} < {}",
                            s.p_value, spec.srm_alpha
                        ));
                    }
                    srm_check = Some(SrmCheck {
                        arms: arms.keys().cloned().collect(),
                        units: c,
                        overall: s,
                        by_segment: BTreeMap::new(),
                        mismatch,
                    });
                } else {
                    per_seg.insert(seg.clone(), json!({"chi2": s.chi2, "p_value": s.p_value}));
                    by_segment.insert(seg.clone(), s);
                }
            }
            if let Some(sc) = &mut srm_check {
                sc.by_segment = by_segment;
            }
            if !per_seg.is_empty() {
                result
                    .diagnostics
                    .insert("srm_by_segment".into(), Value::Object(per_seg));
            }
        }

        // Multi-arm.
        let mut multiarm_out = Vec::new();
        if let Some(ma) = spec.multiarm {
            for mspec in &spec.metrics {
                let rs: Vec<&MetricComparison> = comparisons
                    .iter()
                    .filter(|r| r.segment == OVERALL && r.metric == mspec.name)
                    .collect();
                if rs.len() < 2 {
                    continue;
                }
                let est: Vec<f64> = rs.iter().map(|r| r.comparison.absolute.estimate).collect();
                let se: Vec<f64> = rs.iter().map(|r| r.comparison.absolute.std_error).collect();
                let c0 = rs[0].comparison.control.std_error();
                let res = match ma {
                    MultiArmMethod::Dunnett => multiarm::dunnett(&est, &se, c0, None, spec.alpha)?,
                    MultiArmMethod::MaxT => multiarm::max_t(
                        &est,
                        &se,
                        &multiarm::many_to_one_correlation(&se, c0),
                        None,
                        spec.alpha,
                        20_000,
                        1,
                    )?,
                };
                let labels: Vec<String> = rs
                    .iter()
                    .map(|r| label(r, &control, &format!("absolute ({})", res.method)))
                    .collect();
                let lr: Vec<&str> = labels.iter().map(String::as_str).collect();
                let mut effects = res.to_effects(&lr);
                for (e, r) in effects.iter_mut().zip(&rs) {
                    e.key = key(r, &control, EffectKind::Absolute).variant("multiarm");
                }
                result.effects.extend(effects);
                multiarm_out.push((mspec.name.clone(), res));
            }
        }

        // Guardrails and verdict.
        let overall = |m: &str| -> Result<&MetricComparison> {
            let found: Vec<&MetricComparison> = comparisons
                .iter()
                .filter(|r| r.metric == m && r.segment == OVERALL)
                .collect();
            match found.as_slice() {
                [r] => Ok(r),
                [] => Err(invalid("metric", format!("no metric named `{m}`"))),
                _ => Err(invalid(
                    "verdict",
                    "the verdict compares one treatment with the control; with several arms use the many-to-one adjustment",
                )),
            }
        };
        let mut checks = Vec::new();
        for g in &spec.guardrails {
            let r = overall(&g.metric)?;
            let direction = spec.metric(&g.metric).expect("validated").direction;
            let l = r.comparison.relative.as_ref().ok_or_else(|| {
                invalid(
                    "guardrail",
                    format!(
                        "guardrail {}: the relative lift is undefined (control mean not positive)",
                        g.metric
                    ),
                )
            })?;
            let p = non_inferiority_p(l, g.margin, direction)?;
            checks.push(GuardrailCheck {
                metric: g.metric.clone(),
                lift: *l,
                direction,
                margin: g.margin,
                non_inferiority_p: p,
            });
        }
        if !checks.is_empty() {
            result
                .diagnostics
                .insert("guardrails".into(), json!(checks));
        }
        let mut the_verdict = None;
        if let Some(pm) = &spec.primary {
            let r = overall(pm)?;
            let v = verdict(
                pm,
                &r.comparison.absolute,
                spec.metric(pm).expect("validated").direction,
                &checks,
                spec.alpha,
                srm_check.as_ref().map(|s| s.overall.p_value),
                spec.srm_alpha,
            );
            result
                .diagnostics
                .insert("verdict".into(), json!(v.decision.to_string()));
            result
                .diagnostics
                .insert("verdict_reasons".into(), json!(v.reasons));
            result.diagnostics.insert("primary".into(), json!(pm));
            the_verdict = Some(v);
        }
        result.diagnostics.insert("control".into(), json!(control));
        result.diagnostics.insert("alpha".into(), json!(spec.alpha));
        result
            .diagnostics
            .insert("metrics".into(), Value::Object(metric_diag));
        Ok(AbFit {
            spec: spec.clone(),
            control,
            comparisons,
            metrics: metric_out,
            srm: srm_check,
            multiarm: multiarm_out,
            guardrails: checks,
            verdict: the_verdict,
            adjusted_p,
            adjusted_intervals,
            result,
        })
    }
}

/// An interval of one effect widened for multiple testing: the effect's estimate ± the
/// critical value at `alpha` (its own t degrees of freedom, or normal) × its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdjustedInterval {
    /// Index of the effect in the review's result.
    pub effect: usize,
    /// The two-sided alpha of the interval (e.g. alpha/m for Bonferroni).
    pub alpha: f64,
    /// Lower bound.
    pub ci_low: f64,
    /// Upper bound.
    pub ci_high: f64,
}

/// The two-sided alpha of the multiplicity-adjusted intervals of one family whose adjusted
/// p-values are `adjusted` (m = their number):
/// - Bonferroni, Holm, Hochberg (familywise error): Bonferroni's simultaneous intervals,
///   `alpha / m` — Holm's and Hochberg's procedures have no simple compatible intervals, and
///   Bonferroni's cover all m effects together with probability at least 1 - alpha;
/// - Benjamini–Hochberg: the false-coverage-rate intervals of Benjamini & Yekutieli (2005,
///   "False discovery rate-adjusted multiple confidence intervals for selected parameters",
///   JASA 100:71-81), `R alpha / m` with R the number of effects the procedure selects
///   (adjusted p <= alpha), `alpha / m` when it selects none;
/// - Benjamini–Yekutieli: the same with `alpha / (1 + 1/2 + ... + 1/m)` in place of `alpha`;
/// - none: `alpha`.
pub fn multiplicity_alpha(adj: Adjustment, alpha: f64, adjusted: &[f64]) -> f64 {
    let m = adjusted.len().max(1) as f64;
    let selected = |q: f64| adjusted.iter().filter(|p| **p <= q).count().max(1) as f64;
    match adj {
        Adjustment::None => alpha,
        Adjustment::Bonferroni | Adjustment::Holm | Adjustment::Hochberg => alpha / m,
        Adjustment::BenjaminiHochberg => selected(alpha) * alpha / m,
        Adjustment::BenjaminiYekutieli => {
            let c: f64 = (1..=adjusted.len().max(1)).map(|i| 1.0 / i as f64).sum();
            selected(alpha) * alpha / (m * c)
        }
    }
}

/// In words, how [`multiplicity_alpha`] widens the intervals under `adj` (for charts and the
/// JSON's `multiple_testing.intervals`).
pub fn multiplicity_interval_rule(adj: Adjustment) -> &'static str {
    match adj {
        Adjustment::None => "unadjusted",
        Adjustment::Bonferroni | Adjustment::Holm | Adjustment::Hochberg => {
            "Bonferroni simultaneous intervals (alpha/m per family)"
        }
        Adjustment::BenjaminiHochberg => {
            "Benjamini-Yekutieli (2005) FCR-adjusted intervals (R*alpha/m per family)"
        }
        Adjustment::BenjaminiYekutieli => {
            "Benjamini-Yekutieli (2005) FCR-adjusted intervals under dependence (R*alpha/(m*sum 1/i) per family)"
        }
    }
}

/// An effect with its key; without inference (zero standard error) the interval and p-value
/// are left empty instead of claiming certainty.
fn inference_effect(mut e: Effect, no_inference: bool, key: EffectKey) -> Effect {
    e.key = key;
    if no_inference {
        e.std_error = None;
        e.ci_low = None;
        e.ci_high = None;
        e.p_value = None;
    }
    e
}

impl AbFit {
    /// The overall (all-segment, plain) absolute effect of `arm` on `metric`, relabelled with
    /// the metric's name (keys kept), for layers that compose a review into their own output
    /// (release attribution, reward evaluation); `None` when the review has no such effect.
    pub fn overall_absolute_effect(&self, metric: &str, arm: &str) -> Option<Effect> {
        self.result
            .effects
            .iter()
            .find(|e| {
                e.key.kind == Some(EffectKind::Absolute)
                    && e.key.metric.as_deref() == Some(metric)
                    && e.key.segment.as_deref() == Some(OVERALL)
                    && e.key.arm.as_deref() == Some(arm)
                    && e.key.variant.is_none()
            })
            .map(|e| Effect {
                label: metric.to_string(),
                ..e.clone()
            })
    }

    /// The SRM check as one diagnostics object — `arms`, `units` (JSON integers), `chi2`,
    /// `p_value`, `alpha` and `mismatch` — for layers that compose a review into their own
    /// output (release attribution, reward evaluation); `None` without a check.
    pub fn srm_json(&self) -> Option<Value> {
        self.srm.as_ref().map(|srm| {
            json!({
                "arms": srm.arms,
                "units": srm.units.iter().map(|u| causalkit_stats::count_value(*u)).collect::<Vec<_>>(),
                "chi2": srm.overall.chi2,
                "p_value": srm.overall.p_value,
                "alpha": self.spec.srm_alpha,
                "mismatch": srm.mismatch,
            })
        })
    }

    /// CUPED per adjusted metric as one diagnostics object (metric name -> `covariates`,
    /// `theta`, `variance_reduction`); `None` when no metric was adjusted.
    pub fn cuped_json(&self) -> Option<Value> {
        let cuped: Map<String, Value> = self
            .metrics
            .iter()
            .filter_map(|m| {
                m.cuped.as_ref().map(|c| {
                    (
                        m.name.clone(),
                        json!({"covariates": c.covariates, "theta": c.theta, "variance_reduction": c.variance_reduction}),
                    )
                })
            })
            .collect();
        (!cuped.is_empty()).then_some(Value::Object(cuped))
    }

    /// The plain-text blocks the summary adds under the effects table: multiple testing, SRM,
    /// guardrails and the verdict's reasons (with `verdict_line`, also the `Verdict: ...` line
    /// itself; the CLI prints that line on stderr instead).
    pub fn summary_blocks(&self, verdict_line: bool) -> String {
        let mut extra = String::new();
        if let Some(adj) = self.spec.adjustment {
            extra += &format!(
                "\nMultiple testing ({adj:?} over {}):\n",
                self.spec.adjust_scope.names().join(", ")
            );
            let table: Vec<Vec<String>> = self
                .adjusted_p
                .iter()
                .map(|(i, raw, pa, _)| {
                    vec![
                        self.result.effects[*i].label.clone(),
                        causalkit_stats::fmt_p_value(*raw),
                        causalkit_stats::fmt_p_value(*pa),
                    ]
                })
                .collect();
            extra += &plain_table(&["effect", "p", "p adjusted"], &table);
        }
        if let Some(s) = &self.srm {
            let units: Vec<String> = s
                .units
                .iter()
                .map(|u| causalkit_stats::count_value(*u).to_string())
                .collect();
            extra += &format!(
                "\nSRM check (units per arm [{}]): chi2 = {:.4}, p {}\n",
                units.join(", "),
                s.overall.chi2,
                match causalkit_stats::fmt_p_value(s.overall.p_value) {
                    f if f.starts_with('<') => f,
                    f => format!("= {f}"),
                }
            );
        }
        if !self.guardrails.is_empty() {
            extra += "\nGuardrails (non-inferiority of the relative lift):\n";
            extra += &plain_table(
                &["metric", "lift", "margin", "p (non-inferiority)"],
                &self
                    .guardrails
                    .iter()
                    .map(|c| {
                        vec![
                            c.metric.clone(),
                            format!("{:.4}", c.lift.estimate),
                            format!("{}", c.margin),
                            causalkit_stats::fmt_p_value(c.non_inferiority_p),
                        ]
                    })
                    .collect::<Vec<_>>(),
            );
        }
        if let Some(v) = &self.verdict {
            if verdict_line {
                extra += &format!("\nVerdict: {}\n", v.decision);
            } else {
                extra += "\nVerdict reasons:\n";
            }
            for reason in &v.reasons {
                extra += &format!("  - {reason}\n");
            }
        }
        extra
    }
}

impl Report for AbFit {
    fn result(&self) -> EstimationResult {
        self.result.clone()
    }

    fn summary(&self) -> String {
        let mut short = self.result.clone();
        short
            .diagnostics
            .retain(|_, v| !v.is_object() && !v.is_array());
        short.to_table() + &self.summary_blocks(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> AbSpec {
        AbSpec::new(vec![MetricSpec::new("aht", MetricType::Mean)])
    }

    #[test]
    fn the_cumulative_view_uses_the_validated_sequence() {
        let cs = |s: AbSpec| s.validate().unwrap().cumulative_sequence().unwrap();
        let gbstats = |n: f64, a: f64| sequential::ConfidenceSequence::gbstats(n, a).unwrap();
        // No sequential method: gbstats' default tuning, at the review's alpha.
        let mut s = spec();
        s.alpha = 0.1;
        assert_eq!(cs(s), gbstats(5000.0, 0.1));
        // The review's own sequence.
        let mut s = spec();
        s.sequential = Some(SequentialMethod::Eppo { n_tune: 20_000.0 });
        assert_eq!(
            cs(s),
            sequential::ConfidenceSequence::eppo(20_000.0, 0.05).unwrap()
        );
        let mut s = spec();
        s.sequential = Some(SequentialMethod::ConfidenceSequence { n_plan: 8000.0 });
        assert_eq!(cs(s), gbstats(8000.0, 0.05));
        // mSPRT has no sequence over the running estimate: the default, or the view's own.
        let mut s = spec();
        s.sequential = Some(SequentialMethod::Msprt { tau: 0.05 });
        assert_eq!(cs(s.clone()), gbstats(5000.0, 0.05));
        s.cumulative_sequence = Some(SequentialMethod::ConfidenceSequence { n_plan: 20_000.0 });
        assert_eq!(cs(s), gbstats(20_000.0, 0.05));
    }
}

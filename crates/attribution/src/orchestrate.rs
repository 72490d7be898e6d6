//! The whole attribution as one call: spec → data → design fit → value tree → one report.
//!
//! [`attribute`] loads and validates the spec, reads the rows, dispatches on the design kind
//! (randomised → [`crate::randomised::fit`]; rollout and single-unit → their modules), pushes
//! the KPI effects through the value tree and returns an [`Attribution`], which implements
//! [`Report`]: one effect per KPI (label = the KPI name) and one per value node (label
//! `value:` + name), and diagnostics holding the design, the estimator and its cross-check
//! with the reasons, the refuters, the decomposition, the cumulative series and the value
//! views — every field present, saying "not applicable" (and why) where a part does not apply.

use crate::cumulative::{accumulate, running_effects};
use crate::decompose::{decompose_spec, DecomposeOptions};
use crate::error::{AttributionError, Result};
use crate::refute::{refute_all, RefuteOptions};
use crate::rollout::RolloutOptions;
use crate::single_unit::SingleUnitOptions;
use crate::source::Source;
use crate::spec::{Better, DesignKind, ReleaseSpec};
use crate::value::{NodeChange, ValueTree, DEFAULT_DRAWS};
use crate::{DesignFit, FitOptions, KpiEffects, RefuterOutcome, RefuterResult};
use causalkit_data::Dataset;
use causalkit_stats::{fmt_value, Effect, EstimationResult, Report};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// One bar of the money waterfall ([`Attribution::waterfall`]).
#[derive(Debug, Clone, PartialEq)]
pub struct MoneyBar {
    /// The node (prefixed `-` when it enters the sum with a minus sign).
    pub label: String,
    /// Its signed change in money.
    pub value: f64,
    /// Its delta-method interval (signed).
    pub ci: (f64, f64),
}

/// Options of [`attribute`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttributeOptions {
    /// Significance level of every interval (0.05: 95% intervals).
    pub alpha: f64,
    /// Seed of every resampling step.
    pub seed: u64,
    /// Normal draws of the value tree's bootstrap cross-check when the design has no
    /// replicates.
    pub bootstrap_draws: usize,
    /// Run the refuters (default true; false reports them as "not run", never as a pass).
    pub refute: bool,
}

impl Default for AttributeOptions {
    /// alpha 0.05, seed 0, [`DEFAULT_DRAWS`] draws, refuters on.
    fn default() -> Self {
        AttributeOptions {
            alpha: 0.05,
            seed: 0,
            bootstrap_draws: DEFAULT_DRAWS,
            refute: true,
        }
    }
}

impl AttributeOptions {
    fn check(&self) -> Result<()> {
        causalkit_stats::limits::check_alpha_level("alpha", self.alpha)?;
        if self.bootstrap_draws < 100 {
            return Err(AttributionError::Invalid(format!(
                "bootstrap draws: at least 100 are needed for a percentile interval, got {}",
                self.bootstrap_draws
            )));
        }
        Ok(())
    }

    /// The options a design's fit takes.
    pub fn fit_options(&self) -> FitOptions {
        FitOptions {
            alpha: self.alpha,
            seed: self.seed,
        }
    }
}

/// A part of the output that may not apply: its value, or why it is absent.
#[derive(Debug, Clone)]
pub enum Part {
    /// The part's result (JSON, as it goes into the diagnostics).
    Done(Value),
    /// The part does not apply to this design or spec; the reason says why.
    NotApplicable(String),
    /// The part applies but is not computed by this build (named in the output, never
    /// silently missing).
    NotRun(String),
    /// The part applies but its computation failed on this data (the error, also a warning).
    Failed(String),
}

impl Part {
    fn to_json(&self) -> Value {
        match self {
            Part::Done(v) => v.clone(),
            Part::NotApplicable(why) => json!({"status": "not applicable", "why": why}),
            Part::NotRun(why) => json!({"status": "not run", "why": why}),
            Part::Failed(why) => json!({"status": "failed", "why": why}),
        }
    }
}

/// The attribution of a release: KPI effects, money per value node, checks.
#[derive(Debug, Clone)]
pub struct Attribution {
    /// The validated spec.
    pub spec: ReleaseSpec,
    /// The design's fit (KPI effects with joint covariance, estimator, cross-check).
    pub fit: DesignFit,
    /// The value tree, when the spec has `[value]`.
    pub tree: Option<ValueTree>,
    /// The value tree's change per node (spec order), when the spec has `[value]`.
    pub value: Option<Vec<NodeChange>>,
    /// The node the executive summary reports (the last node no other node uses).
    pub top_node: Option<String>,
    /// Refuters with their outcomes (filled by the refuters of `crate::refute`).
    pub refuters: Vec<RefuterResult>,
    /// Whether the refuters were run (false: "not run" in the output, never a pass).
    pub refuters_run: bool,
    /// The ratio and rate/mix decomposition.
    pub decomposition: Part,
    /// The cumulative effect and money over time (its JSON in the diagnostics).
    pub cumulative: Part,
    /// The cumulative series itself, when computed (for the charts).
    pub cumulative_series: Option<crate::cumulative::CumulativeSeries>,
    /// The options used.
    pub options: AttributeOptions,
    /// Where the data came from: the file, or the engine's address and table.
    pub data_source: String,
    /// Warnings (the design's, estimator disagreement, bootstrap/delta disagreement).
    pub warnings: Vec<String>,
}

/// Runs the attribution of the release described by the spec file (see the crate docs): reads
/// the spec (paths relative to it) and its data, fits the design, and turns the KPI effects
/// into money through the value tree.
pub fn attribute(spec_path: &Path, options: &AttributeOptions) -> Result<Attribution> {
    options.check()?;
    attribute_spec(ReleaseSpec::load(spec_path)?, options)
}

/// [`attribute`] for a spec already loaded (e.g. changed by
/// [`ReleaseSpec::with_engine`]): opens its data ([`ReleaseSpec::open`]) and runs
/// [`attribute_source`].
pub fn attribute_spec(spec: ReleaseSpec, options: &AttributeOptions) -> Result<Attribution> {
    options.check()?;
    let input = spec.open().map_err(|e| e.in_spec(&spec))?;
    attribute_source(spec, input.source(), options)
}

/// [`attribute`] for a spec and rows already in memory.
pub fn attribute_data(
    spec: ReleaseSpec,
    data: &Dataset,
    options: &AttributeOptions,
) -> Result<Attribution> {
    attribute_source(spec, Source::Rows(data), options)
}

/// [`attribute`] for a spec and its data's [`Source`]: rows in memory, or a table of a
/// query engine ([`crate::source::EngineTable`]) where the aggregation runs. On an engine the
/// parts that read individual rows (the random-subset refuter, the decomposition) are
/// reported as not run, with the reason.
pub fn attribute_source<'s>(
    spec: ReleaseSpec,
    source: impl Into<Source<'s>>,
    options: &AttributeOptions,
) -> Result<Attribution> {
    let source: Source = source.into();
    options.check()?;
    spec.design.as_ref().ok_or_else(|| AttributionError::Spec {
        file: spec.file.clone(),
        key: "design".into(),
        message: "give a [design] section (kind = randomised, rollout or single-unit)".into(),
    })?;
    let fit = fit_design(&spec, source, options, true).map_err(|e| e.in_spec(&spec))?;
    let mut warnings = fit.warnings.clone();
    warnings.extend(cross_check_warnings(&fit));
    let (tree, value, top_node) = match &spec.value {
        Some(section) => {
            let tree = ValueTree::from_spec(section, &spec.kpi_names())
                .map_err(|e| e.with_file(&spec.file))?
                .with_bootstrap(options.bootstrap_draws, options.seed);
            let changes = tree.changes(&fit.effects, &BTreeMap::new(), options.alpha)?;
            for c in &changes {
                if let Some(w) = bootstrap_disagreement(c) {
                    warnings.push(w);
                }
            }
            let top = tree.roots().last().cloned();
            (Some(tree), Some(changes), top)
        }
        None => (None, None, None),
    };
    let refuters = if options.refute {
        run_refuters(&spec, source, &fit, options)?
    } else {
        Vec::new()
    };
    let decomposition = match source.rows("the decomposition") {
        Err(why) => Part::NotRun(why),
        Ok(data) => {
            let v = decompose_spec(
                &spec,
                data,
                &DecomposeOptions {
                    alpha: options.alpha,
                    seed: options.seed,
                    ..DecomposeOptions::default()
                },
            )?;
            if v.get("applies").and_then(Value::as_bool) == Some(false) {
                Part::NotApplicable(
                    v.get("reason")
                        .and_then(Value::as_str)
                        .unwrap_or("the decomposition does not apply to this design")
                        .to_string(),
                )
            } else {
                Part::Done(v)
            }
        }
    };
    let (cumulative, cumulative_series) =
        match cumulative_part(&spec, source, tree.as_ref(), options) {
            Ok(p) => p,
            Err(e) => {
                let why = format!("the cumulative series could not be computed: {e}");
                warnings.push(why.clone());
                (Part::Failed(why), None)
            }
        };
    Ok(Attribution {
        spec,
        fit,
        tree,
        value,
        top_node,
        refuters_run: options.refute,
        refuters,
        decomposition,
        cumulative,
        cumulative_series,
        options: *options,
        data_source: source.describe(),
        warnings,
    })
}

/// The design's fit, dispatched on the kind: randomised → the A/B engine
/// ([`crate::randomised::fit`]), rollout → Callaway-Sant'Anna ([`crate::rollout::fit`]),
/// single-unit → synthetic DiD ([`crate::single_unit::fit`]; `cross_check` runs its
/// synthetic-control cross-check, which the refuters' refits skip).
pub fn fit_design<'s>(
    spec: &ReleaseSpec,
    source: impl Into<Source<'s>>,
    options: &AttributeOptions,
    cross_check: bool,
) -> Result<DesignFit> {
    let source: Source = source.into();
    let d = crate::design_panel::design(spec)?;
    match d.kind {
        DesignKind::Randomised => crate::randomised::fit(spec, source, &options.fit_options()),
        DesignKind::Rollout => crate::rollout::fit(
            spec,
            source,
            &RolloutOptions {
                alpha: options.alpha,
            },
        ),
        DesignKind::SingleUnit => crate::single_unit::fit(
            spec,
            source,
            &SingleUnitOptions {
                alpha: options.alpha,
                cross_check,
            },
        ),
    }
}

/// The refuters, in order: the placebo release date (rollout, single-unit; not applicable to
/// a randomised design), then [`crate::refute::refute_all`] (placebo KPIs, random subsets,
/// SRM, covariate balance) with the design's own fit as the refit (seeded by
/// `options.seed`).
pub fn run_refuters<'s>(
    spec: &ReleaseSpec,
    source: impl Into<Source<'s>>,
    fit: &DesignFit,
    options: &AttributeOptions,
) -> Result<Vec<RefuterResult>> {
    let source: Source = source.into();
    let d = crate::design_panel::design(spec)?;
    let placebo_date = match d.kind {
        DesignKind::Randomised => RefuterResult {
            name: "placebo release date".into(),
            rule: format!(
                "the placebo effect's {}% CI covers 0 for every KPI",
                fmt_value((1.0 - options.alpha) * 100.0)
            ),
            outcome: RefuterOutcome::NotApplicable,
            detail: "a randomised design compares arms running side by side; it has no release date inside a pre-period to move".into(),
        },
        DesignKind::Rollout => crate::rollout::placebo_release_date(
            spec,
            source,
            &RolloutOptions {
                alpha: options.alpha,
            },
        )?,
        DesignKind::SingleUnit => crate::single_unit::placebo_release_date(
            spec,
            source,
            &SingleUnitOptions {
                alpha: options.alpha,
                cross_check: false,
            },
        )?,
    };
    let refit = |s: &ReleaseSpec, d: Source| fit_design(s, d, options, false);
    let mut out = vec![placebo_date];
    out.extend(refute_all(
        spec,
        source,
        fit,
        &refit,
        &RefuteOptions {
            seed: options.seed,
            ..RefuteOptions::default()
        },
    )?);
    Ok(out)
}

/// The cumulative view ([`crate::cumulative`]): the design's running effects turned into
/// running money through the value tree; money accrues per elapsed analysis period as
/// `period_width × time_unit` over the `[value] period` when the effect recurs. Not
/// applicable to a randomised design without `design.time`. Returns the diagnostics' part
/// and the series.
pub fn cumulative_part<'s>(
    spec: &ReleaseSpec,
    source: impl Into<Source<'s>>,
    tree: Option<&ValueTree>,
    options: &AttributeOptions,
) -> Result<(Part, Option<crate::cumulative::CumulativeSeries>)> {
    let source: Source = source.into();
    let d = crate::design_panel::design(spec)?;
    if d.kind == DesignKind::Randomised && d.time.is_none() {
        return Ok((
            Part::NotApplicable(
                "a randomised design needs `design.time` (the period column) for the cumulative view"
                    .into(),
            ),
            None,
        ));
    }
    let (axis, method, path) = running_effects(spec, source, options.alpha)?;
    let unit_days = d.width() as f64 * d.time_period().days();
    let fraction = match tree {
        Some(t) if t.recurring() => Some(unit_days / t.period().days()),
        _ => None,
    };
    // Only the delta-method change is shown per point: a small bootstrap keeps it cheap.
    let light = tree.map(|t| t.clone().with_bootstrap(200, options.seed));
    let money = |e: &KpiEffects| -> Result<Vec<Effect>> {
        match &light {
            Some(t) => Ok(t
                .changes(e, &BTreeMap::new(), options.alpha)?
                .into_iter()
                .map(|c| c.change)
                .collect()),
            None => Ok(Vec::new()),
        }
    };
    let series = accumulate(&axis, &method, &path, money, fraction)?;
    let mut v = series.to_json();
    if let Value::Object(m) = &mut v {
        m.insert("period_length_days".into(), json!(unit_days));
        m.insert(
            "accrual".into(),
            json!(match (tree, fraction) {
                (None, _) => "no [value] section: running KPI effects only".to_string(),
                (Some(_), None) => "one-off effect ([value] recurring = false): money is not accrued over time".to_string(),
                (Some(t), Some(f)) => format!(
                    "money accrued since the release = the node's change per {} at the running effect x elapsed periods x {} (one analysis period of {} day(s) over the {})",
                    t.period().name(),
                    fmt_value(f),
                    fmt_value(unit_days),
                    t.period().name()
                ),
            }),
        );
    }
    Ok((Part::Done(v), Some(series)))
}

/// Where the main estimator's and the cross-check's intervals do not overlap, a warning per
/// KPI naming both.
pub fn cross_check_warnings(fit: &DesignFit) -> Vec<String> {
    let Some(cc) = &fit.cross_check else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (a, b) in fit.effects.effects.iter().zip(&cc.effects) {
        if let (Some(al), Some(ah), Some(bl), Some(bh)) = (a.ci_low, a.ci_high, b.ci_low, b.ci_high)
        {
            if ah < bl || bh < al {
                out.push(format!(
                    "{}: {} gives {} [{}, {}] but the cross-check ({}) gives {} [{}, {}]: the intervals do not overlap",
                    a.label,
                    fit.estimator,
                    fmt_value(a.estimate),
                    fmt_value(al),
                    fmt_value(ah),
                    cc.estimator,
                    fmt_value(b.estimate),
                    fmt_value(bl),
                    fmt_value(bh)
                ));
            }
        }
    }
    out
}

/// A warning when a node's bootstrap interval and delta-method interval differ by more than a
/// quarter of the delta interval's width at either end (the delta method's normal
/// approximation is then doubtful for that node: a strongly non-linear node or skewed draws).
fn bootstrap_disagreement(c: &NodeChange) -> Option<String> {
    let (lo, hi) = (c.change.ci_low?, c.change.ci_high?);
    let (bl, bh) = (c.bootstrap.ci_low?, c.bootstrap.ci_high?);
    let width = hi - lo;
    if width <= 0.0 {
        return None;
    }
    if (bl - lo).abs() > 0.25 * width || (bh - hi).abs() > 0.25 * width {
        Some(format!(
            "value:{}: the bootstrap interval [{}, {}] differs from the delta-method interval [{}, {}] by more than a quarter of its width; read the bootstrap interval",
            c.name,
            fmt_value(bl),
            fmt_value(bh),
            fmt_value(lo),
            fmt_value(hi)
        ))
    } else {
        None
    }
}

impl Attribution {
    /// The checks that failed: refuters with outcome `fail`, and the design's alarms (sample
    /// ratio mismatch, estimator disagreement).
    pub fn failed_checks(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .refuters
            .iter()
            .filter(|r| r.outcome == RefuterOutcome::Fail)
            .map(|r| format!("{} ({})", r.name, r.detail))
            .collect();
        if self
            .fit
            .diagnostics
            .get("srm")
            .and_then(|s| s.get("mismatch"))
            .and_then(Value::as_bool)
            == Some(true)
        {
            out.push("sample ratio mismatch".into());
        }
        if !cross_check_warnings(&self.fit).is_empty() {
            out.push("estimator and cross-check disagree".into());
        }
        out
    }

    /// The money waterfall of the top node, when it is a signed sum of other nodes: each
    /// part's signed change with its delta-method interval (the interval flips with a minus
    /// sign), then the top node's change. The parts add up to the total exactly.
    pub fn waterfall(&self) -> Option<(Vec<MoneyBar>, MoneyBar)> {
        let tree = self.tree.as_ref()?;
        let top = self.top_change()?;
        let parts = tree.additive_parts(&top.name)?;
        let changes = self.value.as_ref()?;
        let bar = |c: &NodeChange, sign: f64| {
            let (l, h) = (c.change.ci_low? * sign, c.change.ci_high? * sign);
            Some(MoneyBar {
                label: if sign < 0.0 {
                    format!("-{}", c.name)
                } else {
                    c.name.clone()
                },
                value: c.change.estimate * sign,
                ci: (l.min(h), l.max(h)),
            })
        };
        let bars = parts
            .iter()
            .map(|(n, s)| {
                changes
                    .iter()
                    .find(|c| &c.name == n)
                    .and_then(|c| bar(c, *s))
            })
            .collect::<Option<Vec<_>>>()?;
        Some((bars, bar(top, 1.0)?))
    }

    /// Plain-text tables under the effects table: every value node's views (over the period,
    /// relative, per day, annualised) and its bootstrap cross-check; the cross-check
    /// estimator's KPI effects.
    pub fn detail_tables(&self) -> String {
        use causalkit_stats::text::plain_table;
        let mut s = String::new();
        let level = fmt_value((1.0 - self.options.alpha) * 100.0);
        if let Some(changes) = &self.value {
            let show = |v: Option<crate::value::ViewValue>, money: bool| match v {
                None => "-".to_string(),
                Some(v) if money => format!(
                    "{} [{}, {}]",
                    fmt_money(v.estimate),
                    fmt_money(v.ci_low),
                    fmt_money(v.ci_high)
                ),
                Some(v) => format!(
                    "{:.2}% [{:.2}%, {:.2}%]",
                    100.0 * v.estimate,
                    100.0 * v.ci_low,
                    100.0 * v.ci_high
                ),
            };
            let period = changes
                .first()
                .map(|c| c.views.period.name())
                .unwrap_or("period");
            s += &format!(
                "
Value nodes ({level}% delta-method intervals; money per {period}):
"
            );
            let rows: Vec<Vec<String>> = changes
                .iter()
                .map(|c| {
                    vec![
                        c.name.clone(),
                        fmt_money(c.without),
                        fmt_money(c.with),
                        show(Some(c.views.over_period), true),
                        show(c.views.relative, false),
                        show(c.views.per_day, true),
                        show(c.views.annualised, true),
                    ]
                })
                .collect();
            s += &plain_table(
                &[
                    "node", "without", "with", "change", "relative", "per day", "per year",
                ],
                &rows,
            );
            s += &format!(
                "
Bootstrap cross-check ({level}% percentile intervals):
"
            );
            let rows: Vec<Vec<String>> = changes
                .iter()
                .map(|c| {
                    let b = &c.bootstrap;
                    vec![
                        c.name.clone(),
                        match (b.ci_low, b.ci_high) {
                            (Some(l), Some(h)) => format!("[{}, {}]", fmt_money(l), fmt_money(h)),
                            _ => "-".into(),
                        },
                        b.draws.to_string(),
                    ]
                })
                .collect();
            s += &plain_table(&["node", "interval", "draws"], &rows);
            if let Some(c) = changes.first() {
                s += &format!(
                    "({})
",
                    c.bootstrap.method
                );
            }
        }
        if let Some(cc) = &self.fit.cross_check {
            s += &format!(
                "
Cross-check: {}
",
                cc.estimator
            );
            let rows: Vec<Vec<String>> = cc
                .effects
                .iter()
                .map(|e| {
                    vec![
                        e.label.clone(),
                        format!("{:.6}", e.estimate),
                        e.ci_low.map_or("-".into(), |v| format!("{v:.6}")),
                        e.ci_high.map_or("-".into(), |v| format!("{v:.6}")),
                    ]
                })
                .collect();
            s += &plain_table(&["kpi", "estimate", "ci_low", "ci_high"], &rows);
        }
        s += &self.refuters_table();
        s += &part_tables(&self.decomposition, "Decomposition", decomposition_table);
        s += &part_tables(&self.cumulative, "Cumulative", cumulative_table);
        s
    }

    /// The refuters as a table (name, outcome, what was seen), then each one's pass rule.
    fn refuters_table(&self) -> String {
        use causalkit_stats::text::plain_table;
        if !self.refuters_run {
            return "\nRefuters: not run (--no-refute)\n".into();
        }
        let outcome = |o: RefuterOutcome| match o {
            RefuterOutcome::Pass => "pass",
            RefuterOutcome::Fail => "FAIL",
            RefuterOutcome::NotApplicable => "not applicable",
            RefuterOutcome::NotRun => "not run",
        };
        let rows: Vec<Vec<String>> = self
            .refuters
            .iter()
            .map(|r| vec![r.name.clone(), outcome(r.outcome).into()])
            .collect();
        let mut s = "\nRefuters:\n".to_string();
        s += &plain_table(&["refuter", "outcome"], &rows);
        for r in &self.refuters {
            s += &format!("- {}: {}\n  rule: {}\n", r.name, r.detail, r.rule);
        }
        s
    }

    /// The top node's change, if there is a value tree.
    pub fn top_change(&self) -> Option<&NodeChange> {
        let name = self.top_node.as_ref()?;
        self.value.as_ref()?.iter().find(|c| &c.name == name)
    }

    /// The verdict in one line: failed checks first; then whether the top node's interval
    /// excludes zero and, when the node says which direction is better, whether the release
    /// helps or hurts.
    pub fn verdict(&self) -> String {
        let failed = self.failed_checks();
        let level = fmt_value((1.0 - self.options.alpha) * 100.0);
        let core = match self.top_change() {
            None => {
                let sig: Vec<&str> = self
                    .fit
                    .effects
                    .effects
                    .iter()
                    .filter(|e| excludes_zero(e))
                    .map(|e| e.label.as_str())
                    .collect();
                if sig.is_empty() {
                    format!("inconclusive: no KPI effect's {level}% interval excludes zero")
                } else {
                    format!("the release moves {} ({level}% intervals exclude zero); no [value] section to price it", sig.join(", "))
                }
            }
            Some(c) => {
                let better = self
                    .spec
                    .value
                    .as_ref()
                    .and_then(|v| v.node.iter().find(|n| n.name == c.name))
                    .and_then(|n| n.better);
                if !excludes_zero(&c.change) {
                    format!(
                        "inconclusive: the {level}% interval of value:{} includes zero",
                        c.name
                    )
                } else {
                    let up = c.change.estimate > 0.0;
                    match better {
                        Some(Better::Higher) if up => format!("the release pays: value:{} rises ({level}% interval excludes zero)", c.name),
                        Some(Better::Lower) if !up => format!("the release pays: value:{} falls ({level}% interval excludes zero)", c.name),
                        Some(_) => format!("the release costs: value:{} moves the wrong way ({level}% interval excludes zero)", c.name),
                        None => format!(
                            "value:{} {} ({level}% interval excludes zero; give the node `better` to judge it)",
                            c.name,
                            if up { "rises" } else { "falls" }
                        ),
                    }
                }
            }
        };
        if failed.is_empty() {
            core
        } else {
            format!("checks failed ({}) — {core}", failed.join("; "))
        }
    }

    /// The executive summary the table starts with: the top node's money with its interval
    /// (over the period, and annualised when recurring), the verdict, the failed checks.
    pub fn executive_summary(&self) -> String {
        let level = fmt_value((1.0 - self.options.alpha) * 100.0);
        let mut s = format!("Release: {}\n", self.spec.release.name);
        let failed = self.failed_checks();
        if !failed.is_empty() {
            s += &format!("FAILED CHECKS: {}\n", failed.join("; "));
        }
        if !self.refuters_run {
            s += "Refuters: not run (switched off)\n";
        }
        if let Some(c) = self.top_change() {
            let v = &c.views;
            s += &format!(
                "value:{} changes by {} per {} ({level}% CI {} to {})",
                c.name,
                fmt_money(c.change.estimate),
                v.period.name(),
                fmt_money(c.change.ci_low.unwrap_or(f64::NAN)),
                fmt_money(c.change.ci_high.unwrap_or(f64::NAN)),
            );
            if let Some(a) = v.annualised {
                if v.period.name() != "year" {
                    s += &format!(
                        "; {} per year ({} to {})",
                        fmt_money(a.estimate),
                        fmt_money(a.ci_low),
                        fmt_money(a.ci_high)
                    );
                }
            } else {
                s += "; one-off, not annualised";
            }
            s += "\n";
        }
        s += &format!("Verdict: {}\n", self.verdict());
        s
    }

    fn cross_check_json(&self) -> Value {
        match &self.fit.cross_check {
            None => json!({"status": "not applicable", "why": self.fit.reason}),
            Some(cc) => {
                let disagree = cross_check_warnings(&self.fit);
                json!({
                    "estimator": cc.estimator,
                    "effects": cc.effects,
                    "agrees": disagree.is_empty(),
                    "rule": "the main and cross-check intervals overlap for every KPI",
                })
            }
        }
    }

    fn refuters_json(&self) -> Value {
        if !self.refuters_run {
            return json!({"status": "not run", "why": "switched off (AttributeOptions::refute = false, `--no-refute`)", "results": []});
        }
        json!({"results": self.refuters})
    }

    fn value_json(&self) -> Value {
        match (&self.value, &self.spec.value) {
            (Some(changes), Some(section)) => json!({
                "period": section.period,
                "recurring": section.recurring.unwrap_or(true),
                "top_node": self.top_node,
                "delta_method": "gradient of the node at the KPI levels with the release, joint covariance of the KPI effects; baselines held fixed",
                "nodes": changes,
                // Which direction of each node is good, where the spec says (for readers
                // such as the HTML report's headline).
                "better": section
                    .node
                    .iter()
                    .filter_map(|n| n.better.map(|b| (n.name.clone(), json!(match b {
                        Better::Lower => "lower",
                        Better::Higher => "higher",
                    }))))
                    .collect::<Map<String, Value>>(),
            }),
            _ => json!({"status": "not applicable", "why": "the spec has no [value] section"}),
        }
    }
}

fn excludes_zero(e: &Effect) -> bool {
    match (e.ci_low, e.ci_high) {
        (Some(l), Some(h)) => l > 0.0 || h < 0.0,
        _ => false,
    }
}

/// Money with thousands separators and two decimals below 1000 in magnitude.
fn fmt_money(x: f64) -> String {
    if !x.is_finite() {
        return fmt_value(x);
    }
    if x.abs() < 1000.0 {
        return format!("{x:.2}");
    }
    let neg = x < 0.0;
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if neg {
        format!("-{out}")
    } else {
        out
    }
}

impl Report for Attribution {
    fn result(&self) -> EstimationResult {
        let design = self
            .spec
            .design
            .as_ref()
            .map(|d| d.kind.name())
            .unwrap_or("-");
        let period = self
            .spec
            .value
            .as_ref()
            .map(|v| v.period.as_str())
            .unwrap_or("period");
        let mut r = EstimationResult::new(
            format!("release attribution: {}", self.fit.estimator),
            format!(
                "effect of the release `{}` on each KPI (absolute, KPI units) and on each value node (money per {period})",
                self.spec.release.name
            ),
        );
        r.effects = self.fit.effects.effects.clone();
        if let Some(v) = &self.value {
            r.effects.extend(v.iter().map(|c| c.change.clone()));
        }
        let mut d = Map::new();
        d.insert("release".into(), json!(self.spec.release.name));
        d.insert("design".into(), json!(design));
        d.insert("data".into(), json!(self.data_source));
        d.insert("estimator".into(), json!(self.fit.estimator));
        d.insert("reason".into(), json!(self.fit.reason));
        d.insert("cross_check".into(), self.cross_check_json());
        d.insert(
            "covariance_source".into(),
            json!(self.fit.effects.covariance_source),
        );
        let names = self.spec.kpi_names();
        d.insert(
            "kpi_baselines".into(),
            Value::Object(
                names
                    .iter()
                    .zip(&self.fit.effects.baseline)
                    .map(|(n, b)| (n.clone(), json!(b)))
                    .collect(),
            ),
        );
        d.insert(
            "kpi_covariance".into(),
            json!((0..names.len())
                .map(|i| (0..names.len())
                    .map(|j| self.fit.effects.covariance[(i, j)])
                    .collect::<Vec<f64>>())
                .collect::<Vec<_>>()),
        );
        d.insert(
            "design_diagnostics".into(),
            Value::Object(self.fit.diagnostics.clone()),
        );
        d.insert("refuters".into(), self.refuters_json());
        d.insert("decomposition".into(), self.decomposition.to_json());
        d.insert("cumulative".into(), self.cumulative.to_json());
        d.insert("value".into(), self.value_json());
        d.insert("alpha".into(), json!(self.options.alpha));
        d.insert("seed".into(), json!(self.options.seed));
        d.insert("verdict".into(), json!(self.verdict()));
        r.diagnostics = d;
        r.warnings = self.warnings.clone();
        r
    }

    /// The executive summary, then the generic table.
    fn summary(&self) -> String {
        self.executive_summary() + "\n" + &self.result().to_table()
    }
}

/// A part's table under its title, or one line saying why it is absent.
fn part_tables(part: &Part, title: &str, table: fn(&Value) -> String) -> String {
    match part {
        Part::Done(v) => format!("\n{title}:\n{}", table(v)),
        Part::NotApplicable(why) => format!("\n{title}: not applicable: {why}\n"),
        Part::NotRun(why) => format!("\n{title}: not run: {why}\n"),
        Part::Failed(why) => format!("\n{title}: failed: {why}\n"),
    }
}

/// An effect's estimate and interval from its JSON, as `estimate [low, high]`.
fn effect_cell(e: &Value) -> String {
    let num = |k: &str| e.get(k).and_then(Value::as_f64);
    match (num("estimate"), num("ci_low"), num("ci_high")) {
        (Some(x), Some(l), Some(h)) => {
            format!("{x:.6} [{l:.6}, {h:.6}]")
        }
        (Some(x), _, _) => format!("{x:.6}"),
        _ => "-".into(),
    }
}

/// The decomposition's parts per KPI (total, log numerator/denominator, rate and mix).
fn decomposition_table(v: &Value) -> String {
    use causalkit_stats::text::plain_table;
    if v.get("applies").and_then(Value::as_bool) == Some(false) {
        let why = v.get("why").and_then(Value::as_str).unwrap_or("");
        return format!("not applicable: {why}\n");
    }
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    if let Some(kpis) = v.get("kpis").and_then(Value::as_object) {
        for (kpi, d) in kpis {
            for p in d
                .get("parts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let label = p.get("label").and_then(Value::as_str).unwrap_or(kpi);
                rows.push(vec![label.to_string(), effect_cell(p)]);
            }
            for n in d
                .get("notes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(n) = n.as_str() {
                    notes.push(format!("- {n}\n"));
                }
            }
            if let Some(why) = d.get("why").and_then(Value::as_str) {
                notes.push(format!("- {kpi}: {why}\n"));
            }
        }
    }
    let mut s = plain_table(&["part", "estimate [CI]"], &rows);
    for n in notes {
        s += &n;
    }
    s
}

/// The running effect and money at the last period (the whole series is in the JSON).
fn cumulative_table(v: &Value) -> String {
    use causalkit_stats::text::plain_table;
    let points = v.get("points").and_then(Value::as_array);
    let Some(last) = points.and_then(|p| p.last()) else {
        return "no periods\n".into();
    };
    let period = last.get("period").map_or("-".into(), |p| p.to_string());
    let n = points.map_or(0, Vec::len);
    let mut s = format!("{n} periods; at the last ({period}):\n");
    let mut rows: Vec<Vec<String>> = Vec::new();
    for e in last
        .get("effects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let label = e.get("label").and_then(Value::as_str).unwrap_or("-");
        rows.push(vec![label.to_string(), effect_cell(e), "-".into()]);
    }
    for m in last
        .get("money")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let node = m.get("node").and_then(Value::as_str).unwrap_or("-");
        let cell = |k: &str| m.get(k).map_or("-".into(), effect_cell);
        rows.push(vec![format!("value:{node}"), cell("rate"), cell("accrued")]);
    }
    s += &plain_table(
        &["effect", "running effect / rate [CI]", "accrued [CI]"],
        &rows,
    );
    if let Some(a) = v.get("accrual").and_then(Value::as_str) {
        s += &format!("({a})\n");
    }
    s
}

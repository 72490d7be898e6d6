//! The unit × period KPI panel shared by the panel designs (rollout, single-unit): every
//! `[[kpi]]` evaluated on the same cells, so that the KPI effects of one design share their
//! units (and their influence functions or placebo draws can be combined across KPIs).

use crate::source::EngineTable;
use crate::spec::{DesignSection, ReleaseSpec};
use crate::{AttributionError, Result};
use causalkit_data::{DataError, Dataset, Kpi, MissingPolicy, Panel};
use causalkit_stats::{dist, Effect, EffectKey, EffectKind};
use causalkit_warehouse::{run_panel, PanelCells, PanelRequest};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Every KPI of the spec on the unit × period cells of the data, sorted by unit then period.
#[derive(Debug, Clone)]
pub(crate) struct KpiPanel {
    /// Unit label per cell.
    pub unit: Vec<String>,
    /// Period per cell.
    pub period: Vec<i64>,
    /// KPI names, in spec order.
    pub names: Vec<String>,
    /// Cell values per KPI (`values[k][cell]`).
    pub values: Vec<Vec<f64>>,
    /// Rows the data layer dropped for missing values (0: missing values are an error).
    pub dropped_rows: usize,
    /// How the cells were built, for the diagnostics.
    pub description: String,
    /// With `design.period_width` > 1: the first period of the data and the width; the
    /// panel's periods are then blocks numbered from 1 ([`KpiPanel::block_of`]).
    pub block: Option<(i64, i64)>,
}

/// A spec error naming the key (the spec's file is not known here, so the release names it).
pub(crate) fn spec_error(
    spec: &ReleaseSpec,
    key: &str,
    message: impl Into<String>,
) -> AttributionError {
    AttributionError::Spec {
        file: format!("release spec `{}`", spec.release.name),
        key: key.to_string(),
        message: message.into(),
    }
}

/// The `[design]` section, or a spec error.
pub(crate) fn design(spec: &ReleaseSpec) -> Result<&DesignSection> {
    spec.design
        .as_ref()
        .ok_or_else(|| spec_error(spec, "design", "the [design] section is missing"))
}

/// A required string key of `[design]`, or a spec error naming it.
pub(crate) fn required<'a>(
    spec: &ReleaseSpec,
    value: &'a Option<String>,
    key: &str,
    why: &str,
) -> Result<&'a str> {
    value
        .as_deref()
        .ok_or_else(|| spec_error(spec, key, format!("is required {why}")))
}

impl KpiPanel {
    /// Builds the panel: with `events = true` each KPI's numerator and denominator are summed
    /// within unit × period cells (the data layer's `Panel::from_events`, as `causalkit did
    /// --events`); otherwise the rows must already be one per unit × period (a duplicate is a
    /// [`DataError::DuplicateUnitPeriod`] naming both rows) and each cell's value is the KPI's
    /// row value.
    pub fn build(spec: &ReleaseSpec, data: &Dataset, unit: &str, time: &str) -> Result<KpiPanel> {
        let d = design(spec)?;
        if spec.kpi.is_empty() {
            return Err(spec_error(spec, "kpi", "at least one [[kpi]] is required"));
        }
        data.require(&[unit, time])?;
        let kpis: Vec<Kpi> = spec
            .kpi
            .iter()
            .map(|k| format!("{}={}", k.name, k.expr).parse::<Kpi>())
            .collect::<std::result::Result<_, _>>()?;
        // The unit and period of every row must be present.
        for col in [unit, time] {
            let present = data.present(col)?;
            if let Some(first) = present.iter().position(|p| !p) {
                return Err(DataError::MissingValues {
                    column: col.to_string(),
                    count: present.iter().filter(|p| !**p).count(),
                    first_row: first,
                }
                .into());
            }
        }
        // Events without a KPI's value (e.g. contacts not surveyed for CSAT) are not part of
        // that KPI's cells; a cell row without one is an error.
        let mut without_value = Vec::new();
        if d.events {
            for k in &kpis {
                let n = k.row_values(data, MissingPolicy::Drop)?.dropped;
                if n > 0 {
                    without_value.push(format!("{}: {n}", k.name));
                }
            }
        } else {
            check_one_row_per_cell(data, unit, time)?;
        }
        let policy = if d.events {
            MissingPolicy::Drop
        } else {
            MissingPolicy::Error
        };
        // Blocks of `period_width` periods (events only; checked by the spec's validation).
        let width = d.width();
        let mut block = None;
        let blocked;
        let data = if width > 1 {
            if !d.events {
                return Err(spec_error(
                    spec,
                    "design.period_width",
                    "blocks of periods are formed from event rows: set `events = true`",
                ));
            }
            let raw = data.numeric(time)?;
            let mut first = i64::MAX;
            for (row, t) in raw.iter().enumerate() {
                match t {
                    Some(t) if t.is_finite() && t.fract() == 0.0 => first = first.min(*t as i64),
                    Some(t) => return Err(DataError::OutOfRange {
                        column: time.to_string(),
                        row,
                        value: *t,
                        expected:
                            "a whole-number period (to group into blocks of design.period_width)"
                                .into(),
                    }
                    .into()),
                    None => {}
                }
            }
            block = Some((first, width));
            let blocks = raw
                .iter()
                .map(|t| t.map(|t| block_number(Some((first, width)), t as i64) as f64))
                .collect();
            blocked = data.with_numeric_column(time, blocks)?;
            &blocked
        } else {
            data
        };
        let panel = Panel::from_events(data, unit, time, &kpis, policy)?;
        let names: Vec<String> = spec.kpi.iter().map(|k| k.name.clone()).collect();
        let values = names.iter().map(|n| panel.values[n].clone()).collect();
        let description = if d.events {
            format!(
                "{} event rows averaged into {} {unit} x {time} cells per KPI (unweighted cells){}; {}",
                data.height(),
                panel.len(),
                if without_value.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; events without the KPI's value left out of its cells ({})",
                        without_value.join(", ")
                    )
                },
                panel.balance.describe()
            )
            + &blocks_note(block, time)
        } else {
            format!(
                "{} rows, one per {unit} x {time} cell; {}",
                data.height(),
                panel.balance.describe()
            )
        };
        Ok(KpiPanel {
            unit: panel.unit,
            period: panel.period,
            names,
            values,
            dropped_rows: panel.dropped_rows,
            description,
            block,
        })
    }

    /// The panel of [`KpiPanel::build`] aggregated by a query engine: one unit × period
    /// `GROUP BY` per KPI (`causalkit_warehouse::run_panel`, event rows summed per cell exactly
    /// as the data layer's `Panel::from_events` sums them), the small cell tables joined here.
    /// Every KPI must have the same cells (a cell without usable events of one KPI is an
    /// error, as in process); with `events = false` each cell must hold one row. Blocks of
    /// `period_width` periods are formed here from the engine's cells (numerators and
    /// denominators summed per block, counted from the earliest period of the cells). With
    /// `cohort`, each unit's first treated period (`None`: never treated; 0 or missing in the
    /// table), checked constant within the unit by the engine query.
    pub fn from_engine(
        spec: &ReleaseSpec,
        engine: &EngineTable,
        unit: &str,
        time: &str,
        cohort: Option<&str>,
    ) -> Result<(KpiPanel, BTreeMap<String, Option<i64>>)> {
        let d = design(spec)?;
        if spec.kpi.is_empty() {
            return Err(spec_error(spec, "kpi", "at least one [[kpi]] is required"));
        }
        let width = d.width();
        if width > 1 && !d.events {
            return Err(spec_error(
                spec,
                "design.period_width",
                "blocks of periods are formed from event rows: set `events = true`",
            ));
        }
        let kpis = spec.parsed_kpis()?;
        let mut tables = Vec::with_capacity(kpis.len());
        for (i, k) in kpis.iter().enumerate() {
            let mut req = PanelRequest::new(
                engine.table().clone(),
                unit,
                time,
                crate::source::metric_of(&k.kpi),
            );
            req.drop_missing = d.events;
            if i == 0 {
                req.cohort = cohort.map(str::to_string);
            }
            tables.push(engine.once(&req, run_panel)?);
        }
        let first_cells = &tables[0];
        let cells_of = |t: &PanelCells| -> BTreeSet<(String, i64)> {
            t.unit
                .iter()
                .cloned()
                .zip(t.period.iter().copied())
                .collect()
        };
        for (k, t) in kpis.iter().zip(&tables) {
            if t.unit != first_cells.unit || t.period != first_cells.period {
                // A cell one KPI has and the other does not.
                let (u, p) = cells_of(first_cells)
                    .symmetric_difference(&cells_of(t))
                    .next()
                    .cloned()
                    .unwrap_or_default();
                return Err(DataError::EmptyGroup(format!(
                    "KPI `{}` (or `{}`) has no usable events for unit `{u}` in period {p} in {}; drop the cell or choose a coarser period",
                    k.kpi.name,
                    kpis[0].kpi.name,
                    engine.describe()
                ))
                .into());
            }
            if !d.events {
                if let Some(c) = t.events.iter().position(|e| *e > 1) {
                    return Err(spec_error(
                        spec,
                        "design.events",
                        format!(
                            "unit `{}` has {} rows in period {} of {}; rows that are events (several per unit x period) need `events = true`",
                            t.unit[c],
                            t.events[c],
                            t.period[c],
                            engine.describe()
                        ),
                    ));
                }
            }
        }
        let events: u64 = first_cells.events.iter().sum();
        let dropped_rows = tables.iter().map(|t| t.dropped_rows).max().unwrap_or(0);
        let cohorts: BTreeMap<String, Option<i64>> = match &first_cells.cohort {
            Some(c) => first_cells
                .unit
                .iter()
                .cloned()
                .zip(c.iter().copied())
                .collect(),
            None => BTreeMap::new(),
        };
        // Cells, or blocks of `width` periods counted from the earliest period.
        let block = (width > 1).then(|| {
            let first = first_cells.period.iter().copied().min().unwrap_or(0);
            (first, width)
        });
        let mut cells: BTreeMap<(String, i64), Vec<(f64, f64)>> = BTreeMap::new();
        for (k, t) in tables.iter().enumerate() {
            for i in 0..t.len() {
                let e = cells
                    .entry((t.unit[i].clone(), block_number(block, t.period[i])))
                    .or_insert_with(|| vec![(0.0, 0.0); tables.len()]);
                e[k].0 += t.value[i] * t.weight[i];
                e[k].1 += t.weight[i];
            }
        }
        let (unit_v, period_v): (Vec<String>, Vec<i64>) = cells.keys().cloned().unzip();
        let values: Vec<Vec<f64>> = (0..tables.len())
            .map(|k| cells.values().map(|c| c[k].0 / c[k].1).collect())
            .collect();
        let balance = causalkit_data::Balance::of(&unit_v, &period_v).describe();
        let description = if d.events {
            format!(
                "{events} event rows of {} summed by the engine into {} {unit} x {time} cells per KPI (unweighted cells){}; {balance}",
                engine.describe(),
                unit_v.len(),
                if dropped_rows > 0 {
                    format!("; {dropped_rows} rows without a KPI's value left out of its cells")
                } else {
                    String::new()
                },
            ) + &blocks_note(block, time)
        } else {
            format!(
                "{} rows of {}, one per {unit} x {time} cell; {balance}",
                unit_v.len(),
                engine.describe()
            )
        };
        Ok((
            KpiPanel {
                unit: unit_v,
                period: period_v,
                names: spec.kpi.iter().map(|k| k.name.clone()).collect(),
                values,
                dropped_rows,
                description,
                block,
            },
            cohorts,
        ))
    }

    /// The analysis period holding a period of the time column as the spec writes it (the
    /// period itself without `period_width`; otherwise its block).
    pub fn block_of(&self, t: i64) -> i64 {
        block_number(self.block, t)
    }

    /// A note when `t` (an adoption or start period) does not start a block.
    pub fn block_note(&self, what: &str, t: i64) -> Option<String> {
        let (first, w) = self.block?;
        ((t - first).rem_euclid(w) != 0).then(|| {
            format!(
                "{what} {t} does not start a block of {w} periods: block {} is counted as treated although part of it is not",
                self.block_of(t)
            )
        })
    }

    /// Keeps the cells `keep` (same order).
    pub fn subset(&self, keep: impl Fn(&str, i64) -> bool) -> KpiPanel {
        let idx: Vec<usize> = (0..self.unit.len())
            .filter(|&i| keep(&self.unit[i], self.period[i]))
            .collect();
        KpiPanel {
            unit: idx.iter().map(|&i| self.unit[i].clone()).collect(),
            period: idx.iter().map(|&i| self.period[i]).collect(),
            names: self.names.clone(),
            values: self
                .values
                .iter()
                .map(|v| idx.iter().map(|&i| v[i]).collect())
                .collect(),
            dropped_rows: self.dropped_rows,
            description: self.description.clone(),
            block: self.block,
        }
    }
}

/// The analysis period of period `t`: `t` itself without blocks; with blocks of `w` periods
/// counted from `first`, block `(t − first) div w + 1`.
fn block_number(block: Option<(i64, i64)>, t: i64) -> i64 {
    match block {
        Some((first, w)) => (t - first).div_euclid(w) + 1,
        None => t,
    }
}

/// The description's note on blocks of periods (`(first, width)`), empty without blocks.
fn blocks_note(block: Option<(i64, i64)>, time: &str) -> String {
    match block {
        Some((first, w)) => format!(
            "; periods are blocks of {w} periods of `{time}` counted from {first} (block k holds {first} + (k-1)*{w} .. {first} + k*{w} - 1)"
        ),
        None => String::new(),
    }
}

/// Rows that are not events must be one per unit × period.
fn check_one_row_per_cell(data: &Dataset, unit: &str, time: &str) -> Result<()> {
    let units = data.labels(unit)?;
    let times = data.numeric(time)?;
    let mut seen: HashMap<(&str, u64), usize> = HashMap::new();
    for (i, (u, t)) in units.iter().zip(&times).enumerate() {
        let (Some(u), Some(t)) = (u, t) else { continue };
        if let Some(first) = seen.insert((u.as_str(), t.to_bits()), i) {
            return Err(DataError::DuplicateUnitPeriod {
                unit: u.clone(),
                period: format!("{t}"),
                first_row: first,
                second_row: i,
            }
            .into());
        }
    }
    Ok(())
}

/// A KPI effect with a normal-theory interval: labelled with the KPI name, typed key
/// (metric = the KPI, kind `Att`).
pub(crate) fn kpi_effect(name: &str, estimate: f64, se: Option<f64>, alpha: f64) -> Effect {
    let z = dist::normal_quantile(1.0 - alpha / 2.0).unwrap_or(f64::NAN);
    let mut e = Effect::point(name, estimate)
        .with_key(EffectKey::kind(EffectKind::Att).metric(name.to_string()));
    if let Some(s) = se {
        e.std_error = Some(s);
        e.ci_low = Some(estimate - z * s);
        e.ci_high = Some(estimate + z * s);
        e.p_value = Some(if s > 0.0 {
            2.0 * dist::normal_sf((estimate / s).abs())
        } else {
            f64::NAN
        });
    }
    e
}

/// Whether two intervals do not overlap.
fn disjoint(a: &Effect, b: &Effect) -> bool {
    match (a.ci_low, a.ci_high, b.ci_low, b.ci_high) {
        (Some(al), Some(ah), Some(bl), Some(bh)) => ah < bl || bh < al,
        _ => false,
    }
}

/// The confidence level `1 - alpha` in percent, without trailing zeros (`95`, `97.5`).
fn level(alpha: f64) -> String {
    let s = format!("{:.4}", (1.0 - alpha) * 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The placebo-release-date refuter's name and its pass rule at level `1 - alpha`.
pub(crate) fn placebo_date_refuter(alpha: f64) -> (String, String) {
    (
        "placebo release date".to_string(),
        format!(
            "the placebo effect's {}% CI covers 0 for every KPI",
            level(alpha)
        ),
    )
}

/// One KPI's placebo effect as the placebo-release-date refuter states it, and whether its
/// interval covers 0 (an effect without an interval does not).
pub(crate) fn placebo_part(kpi: &str, estimate: f64, ci: Option<(f64, f64)>) -> (bool, String) {
    let covers = ci.is_some_and(|(lo, hi)| lo <= 0.0 && 0.0 <= hi);
    let part = match ci {
        Some((lo, hi)) => format!(
            "{kpi}: {estimate:.6} [{lo:.6}, {hi:.6}]{}",
            if covers { "" } else { " (excludes 0)" }
        ),
        None => format!("{kpi}: {estimate:.6} (no interval)"),
    };
    (covers, part)
}

/// The cross-check warning of KPI `kpi` when the main estimator's effect `a` (named `a_name`)
/// and the cross-check's `b` (named `b_name`) have disjoint intervals; `None` when they
/// overlap or either has no interval.
pub(crate) fn disagreement(
    kpi: &str,
    a_name: &str,
    a: &Effect,
    b_name: &str,
    b: &Effect,
    alpha: f64,
) -> Option<String> {
    disjoint(a, b).then(|| {
        format!(
            "KPI `{kpi}`: {a_name} ({:.6} [{:.6}, {:.6}]) and {b_name} ({:.6} [{:.6}, {:.6}]) disagree beyond their {}% intervals",
            a.estimate,
            a.ci_low.unwrap_or(f64::NAN),
            a.ci_high.unwrap_or(f64::NAN),
            b.estimate,
            b.ci_low.unwrap_or(f64::NAN),
            b.ci_high.unwrap_or(f64::NAN),
            level(alpha)
        )
    })
}

/// The number of periods the placebo release date is moved back from the first real one:
/// a third of the pre-period (at least 1), so the placebo has twice as many pre-periods as
/// post-periods.
pub(crate) fn placebo_shift(pre_periods: usize) -> usize {
    (pre_periods / 3).max(1)
}

//! Column roles of a unit × period design, read once: the library path behind
//! difference-in-differences, synthetic control and any caller that needs a unit × period
//! KPI panel (the attribution layer's rollout and single-unit designs).
//!
//! A caller declares which column plays which role in a [`PanelRoles`] (unit, time, outcome
//! or KPI expression, cohort or treatment indicator, weight, cluster, covariates, and whether
//! the rows are events) and calls [`PanelRoles::read`]. The data layer checks that no column
//! plays two roles, applies the missing-value policy once, validates every value for its role
//! (whole-number periods, 0/1 indicators, positive weights, cohorts) and returns the
//! [`PanelColumns`]: one entry per kept row, or with `events` one entry per unit × period cell
//! (the KPI's numerator and denominator summed within the cell, the summed denominator — the
//! event count for a mean — as the cell weight). Errors are [`DataError`]s naming the column,
//! the row (1-based, with its CSV line) and the value.
//!
//! [`kpi_panel`] is the one-call form for a KPI panel: given a [`Dataset`], the unit and time
//! columns and a KPI expression of the data layer's grammar (`mean(col)`, `ratio(a, b)`,
//! `proportion(col)`, ...), it returns the unit × period [`Panel`].
//!
//! Covariates of a synthetic-control panel are read as unit × period matrices in a given
//! unit and period order by [`covariate_cells`], and averaged over pre-periods by
//! [`pre_period_means`].

use crate::dataset::{Dataset, MissingPolicy};
use crate::error::{DataError, Result};
use crate::kpi::{Kpi, KpiKind};
use crate::panel::Panel;
use crate::roles::{
    check_constant_within_units, check_distinct_roles, check_unique_unit_periods, MaskedColumns,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How the weight column is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightRule {
    /// Analytic (regression) weights: every weight must be positive.
    #[default]
    Positive,
    /// Sampling weights checked by the estimator (e.g. Callaway–Sant'Anna, which allows
    /// zero): only read as numbers.
    Numeric,
}

/// The columns a unit × period design uses, by role. Column names are the user's; the role
/// names in errors (e.g. "the outcome (--outcome)") follow the CLI's flags, which are also
/// the field names here.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelRoles {
    /// The unit column (site, state, agent). Needed for panels and for `events`.
    pub unit: Option<String>,
    /// The period column: whole numbers (day index, year), or dates/datetimes (a Parquet
    /// `Date`/`Timestamp` column or ISO `YYYY-MM-DD` text), which become integer periods of
    /// `period_width` days counted from the earliest date ([`Dataset::periods`]).
    pub time: Option<String>,
    /// The outcome: a numeric column name, or (with `events`) a KPI expression of the data
    /// layer's grammar (`aht=mean(handle_seconds)`, `ratio(resolved, count)`, ...); a bare
    /// column name with `events` means the mean of that column.
    pub outcome: String,
    /// First treated period of each unit (constant within the unit; 0 or missing means never
    /// treated). For a date time column, a date (its period under the same origin and width).
    pub cohort: Option<String>,
    /// A 0/1 treated column: the treated group of a 2×2 design, or the treated unit-periods
    /// of a synthetic-control design. With `events`, a cell is treated if any event is.
    pub treated: Option<String>,
    /// A 0/1 post-period column (2×2 design).
    pub post: Option<String>,
    /// A weight column, checked by `weight_rule`.
    pub weight: Option<String>,
    /// How the weights are checked.
    pub weight_rule: WeightRule,
    /// Cluster columns (text labels).
    pub cluster: Vec<String>,
    /// Numeric covariate columns.
    pub covariates: Vec<String>,
    /// The rows are events (contacts, orders): the outcome KPI is aggregated to unit × period
    /// cells, whose weight is the KPI's summed denominator (the event count for a mean).
    /// Needs `unit` and `time`; takes no weight, cluster, covariate or post column.
    pub events: bool,
    /// Period width. For a date time column, days per period (default 1). For a
    /// whole-number time column with `events`, blocks of this many periods counted from the
    /// first period: block `k` (from 1) holds periods `first + (k-1)·width .. first + k·width
    /// − 1`, and a cohort becomes the block holding its first treated period (a note names
    /// cohorts that do not start a block). Without `events`, a whole-number time column
    /// takes no width.
    pub period_width: Option<i64>,
    /// Missing values in the used columns: an error naming the column and first row, or
    /// dropped (counted in [`PanelColumns::dropped`]). A missing cohort always means never
    /// treated.
    pub policy: MissingPolicy,
}

impl PanelRoles {
    /// Roles with only an outcome; set the other fields (they are public) as needed.
    pub fn new(outcome: impl Into<String>) -> Self {
        PanelRoles {
            unit: None,
            time: None,
            outcome: outcome.into(),
            cohort: None,
            treated: None,
            post: None,
            weight: None,
            weight_rule: WeightRule::Positive,
            cluster: Vec::new(),
            covariates: Vec::new(),
            events: false,
            period_width: None,
            policy: MissingPolicy::Error,
        }
    }

    /// The outcome as a KPI: the expression parsed, or a bare column name as its mean
    /// (named after the column).
    pub fn outcome_kpi(&self) -> Result<Kpi> {
        let s = self.outcome.trim();
        if s.contains('(') {
            s.parse()
        } else {
            Ok(Kpi {
                name: self.outcome.clone(),
                kind: KpiKind::Mean {
                    column: self.outcome.clone(),
                },
            })
        }
    }

    /// The name of the outcome as reported (the KPI's name, or the column).
    pub fn outcome_name(&self) -> Result<String> {
        Ok(self.outcome_kpi()?.name)
    }

    /// Checks that no column plays two of the roles outcome, unit, period, cohort, covariate
    /// and weight, and that the treated indicator is neither the outcome nor a covariate
    /// ([`DataError::ColumnInTwoRoles`]).
    pub fn check_distinct(&self) -> Result<()> {
        let kpi = self.outcome_kpi()?;
        let mut roles: Vec<(&str, &str)> = kpi
            .columns()
            .into_iter()
            .map(|c| ("the outcome (--outcome)", c))
            .collect();
        // A KPI reading one column twice (a composite) is not a conflict.
        roles.dedup();
        if let Some(u) = &self.unit {
            roles.push(("the unit (--unit)", u));
        }
        if let Some(t) = &self.time {
            roles.push(("the period (--time)", t));
        }
        if let Some(c) = &self.cohort {
            roles.push(("the cohort (--cohort)", c));
        }
        for c in &self.covariates {
            roles.push(("a covariate (--covariates)", c));
        }
        if let Some(w) = &self.weight {
            roles.push(("the weight (--weights)", w));
        }
        check_distinct_roles(&roles)?;
        // The treatment indicator may not be the outcome or a covariate; other misuses (e.g.
        // the period column as the indicator) fail its 0/1 check, which names the values.
        if let Some(t) = &self.treated {
            let mut roles: Vec<(&str, &str)> = kpi
                .columns()
                .into_iter()
                .map(|c| ("the outcome (--outcome)", c))
                .collect();
            roles.dedup();
            for c in &self.covariates {
                roles.push(("a covariate (--covariates)", c));
            }
            roles.push(("the treatment indicator (--treated)", t));
            check_distinct_roles(&roles)?;
        }
        Ok(())
    }

    /// Reads and validates the columns (see the module docs): one entry per kept row, or with
    /// `events` one per unit × period cell in (unit, period) order.
    pub fn read(&self, data: &Dataset) -> Result<PanelColumns> {
        self.check_distinct()?;
        if self.events {
            return self.read_events(data);
        }
        let kpi = self.outcome_kpi()?;
        if !matches!(kpi.kind, KpiKind::Mean { .. }) || kpi.name != self.outcome {
            return Err(DataError::InvalidKpi {
                spec: self.outcome.clone(),
                reason: "a KPI expression needs event rows aggregated to unit x period cells (--events); without them the outcome is a numeric column".into(),
            });
        }
        let mut used: Vec<&str> = vec![self.outcome.as_str()];
        used.extend(self.unit.as_deref());
        used.extend(self.time.as_deref());
        used.extend(self.treated.as_deref());
        used.extend(self.post.as_deref());
        used.extend(self.covariates.iter().map(String::as_str));
        used.extend(self.weight.as_deref());
        used.extend(self.cluster.iter().map(String::as_str));
        let optional: Vec<&str> = self.cohort.iter().map(String::as_str).collect();
        let m = MaskedColumns::new(data, &used, &optional, self.policy)?;
        let clock = match &self.time {
            Some(t) => Some(Clock::of(data, t, self.period_width, false)?),
            None => None,
        };
        let time = match (&self.time, &clock) {
            (Some(t), Some(c)) => Some(c.periods_on(data, t, &m.rows)?),
            _ => None,
        };
        let cohort = match &self.cohort {
            Some(g) => Some(match &clock {
                Some(c) => c.cohorts_on(data, g, &m.rows)?,
                None => m.cohorts(g)?,
            }),
            None => None,
        };
        Ok(PanelColumns {
            outcome_name: self.outcome.clone(),
            unit: self.unit.as_deref().map(|c| m.labels(c)).transpose()?,
            time,
            outcome: m.numeric(&self.outcome)?,
            cohort,
            treated: self.treated.as_deref().map(|c| m.binary(c)).transpose()?,
            post: self.post.as_deref().map(|c| m.binary(c)).transpose()?,
            covariates: self
                .covariates
                .iter()
                .map(|c| Ok((c.clone(), m.numeric(c)?)))
                .collect::<Result<_>>()?,
            weights: match (&self.weight, self.weight_rule) {
                (None, _) => None,
                (Some(w), WeightRule::Numeric) => Some(m.numeric(w)?),
                (Some(w), WeightRule::Positive) => Some(m.weights(w)?),
            },
            cluster: self
                .cluster
                .iter()
                .map(|c| Ok((c.clone(), m.labels(c)?)))
                .collect::<Result<_>>()?,
            dropped: m.dropped,
            notes: Vec::new(),
            rows: m.rows.clone(),
            events: None,
            clock: clock.unwrap_or_default(),
            block: None,
        })
    }

    /// Event rows aggregated to unit × period cells of the outcome KPI.
    fn read_events(&self, data: &Dataset) -> Result<PanelColumns> {
        let (Some(unit), Some(time)) = (self.unit.as_deref(), self.time.as_deref()) else {
            return Err(DataError::EmptyGroup(
                "event rows need a unit and a period column (--unit, --time) to be aggregated into unit x period cells".into(),
            ));
        };
        if !self.covariates.is_empty()
            || self.weight.is_some()
            || !self.cluster.is_empty()
            || self.post.is_some()
        {
            let (column, role) = if let Some(c) = self.covariates.first() {
                (c.clone(), "a covariate (--covariates)")
            } else if let Some(w) = &self.weight {
                (w.clone(), "the weight (--weights)")
            } else if let Some(c) = self.cluster.first() {
                (c.clone(), "a cluster (--cluster)")
            } else {
                (
                    self.post.clone().unwrap_or_default(),
                    "the post period (--post)",
                )
            };
            return Err(DataError::ColumnInTwoRoles {
                column,
                first: role.into(),
                second: "an input of event rows (--events), which are aggregated to unit x period cells where this role is not defined; aggregate the file first".into(),
            });
        }
        let kpi = self.outcome_kpi()?;
        let mut required = vec![unit, time];
        required.extend(kpi.columns());
        required.extend(self.cohort.as_deref());
        required.extend(self.treated.as_deref());
        data.require(&required)?;
        let clock = Clock::of(data, time, self.period_width, true)?;
        let day_periods = clock.periods_all(data, time)?;
        let panel = Panel::from_period_rows(
            data,
            unit,
            time,
            &day_periods,
            std::slice::from_ref(&kpi),
            self.policy,
        )?;
        let labels = data.labels(unit)?;
        // Cohort per unit: constant within the unit's events.
        let cohort_of: Option<BTreeMap<String, Option<i64>>> = match &self.cohort {
            Some(g) => {
                let all: Vec<usize> = (0..data.height()).collect();
                let gs = clock.cohorts_on(data, g, &all)?;
                let mut first: BTreeMap<String, (Option<i64>, usize)> = BTreeMap::new();
                for (i, l) in labels.iter().enumerate() {
                    let Some(l) = l else { continue };
                    let (prev, row) = *first.entry(l.clone()).or_insert((gs[i], i));
                    if prev != gs[i] {
                        let show =
                            |v: Option<i64>| v.map_or("never treated".into(), |g| g.to_string());
                        return Err(DataError::NotConstantWithinUnit {
                            column: g.clone(),
                            unit: l.clone(),
                            first: show(prev),
                            first_row: row,
                            second: show(gs[i]),
                            second_row: i,
                        });
                    }
                }
                Some(first.into_iter().map(|(u, (g, _))| (u, g)).collect())
            }
            None => None,
        };
        // Treated cells: any event of the cell is treated (every event needs a value).
        let treated_cells: Option<Vec<f64>> = match &self.treated {
            Some(t) => {
                let m = MaskedColumns::new(data, &[t.as_str()], &[], MissingPolicy::Error)?;
                let v = m.binary(t)?;
                let mut any: HashMap<(&str, i64), bool> = HashMap::new();
                for (&row, &x) in m.rows.iter().zip(&v) {
                    if let (Some(u), Some(p)) = (labels[row].as_deref(), day_periods[row]) {
                        *any.entry((u, p)).or_insert(false) |= x > 0.5;
                    }
                }
                Some(
                    panel
                        .unit
                        .iter()
                        .zip(&panel.period)
                        .map(|(u, p)| {
                            let d = any.get(&(u.as_str(), *p)).copied().unwrap_or(false);
                            f64::from(u8::from(d))
                        })
                        .collect(),
                )
            }
            None => None,
        };
        let name = kpi.name.clone();
        let mut cols = PanelColumns {
            outcome_name: name.clone(),
            unit: Some(panel.unit.clone()),
            time: Some(panel.period.clone()),
            outcome: panel.values[&name].clone(),
            cohort: cohort_of
                .as_ref()
                .map(|c| panel.unit.iter().map(|u| c[u]).collect()),
            treated: treated_cells,
            post: None,
            covariates: Vec::new(),
            weights: Some(panel.weights[&name].clone()),
            cluster: Vec::new(),
            dropped: panel.dropped_rows,
            notes: Vec::new(),
            rows: Vec::new(),
            events: Some(panel.len()),
            clock,
            block: None,
        };
        if let (Some(width), false) = (self.period_width, clock.dated) {
            cols.into_blocks(width)?;
        }
        Ok(cols)
    }
}

/// Unit × period cells of an outcome KPI aggregated elsewhere (a SQL engine:
/// `causalkit_warehouse::run_panel`), as [`PanelColumns::from_cells`] takes them: one entry
/// per cell, the KPI value (Σ numerator / Σ denominator over the cell's events) and the cell
/// weight (the summed denominator, the number of events for a mean).
#[derive(Debug, Clone, PartialEq)]
pub struct EventCells {
    /// Unit label per cell.
    pub unit: Vec<String>,
    /// Period per cell (for dates: days from `dates.0` divided by `dates.1`, rounded down).
    pub period: Vec<i64>,
    /// The KPI value per cell.
    pub value: Vec<f64>,
    /// The cell weight (positive).
    pub weight: Vec<f64>,
    /// The first treated period of each cell's unit (None: never treated), with a cohort.
    pub cohort: Option<Vec<Option<i64>>>,
    /// 1 if any event of the cell is treated, with a treated column.
    pub treated: Option<Vec<f64>>,
    /// For a date time column: its earliest day (days since 1970-01-01) and the period width
    /// in days.
    pub dates: Option<(i64, i64)>,
    /// Event rows dropped for missing values.
    pub dropped: usize,
}

impl PanelColumns {
    /// The columns of event rows whose unit × period cells were aggregated elsewhere: what
    /// [`PanelRoles::read`] returns for `roles` with `events` on the same rows (a whole-number
    /// time column with a `period_width` is grouped into blocks here, by
    /// [`PanelColumns::into_blocks`], as in process). The cells are checked: equal lengths,
    /// each (unit, period) once and sorted, values finite, weights positive.
    pub fn from_cells(roles: &PanelRoles, cells: EventCells) -> Result<PanelColumns> {
        let n = cells.unit.len();
        let lengths_ok = cells.period.len() == n
            && cells.value.len() == n
            && cells.weight.len() == n
            && cells.cohort.as_ref().is_none_or(|c| c.len() == n)
            && cells.treated.as_ref().is_none_or(|t| t.len() == n);
        if !lengths_ok || n == 0 {
            return Err(DataError::EmptyGroup(format!(
                "the aggregated cells need one unit, period, value and weight per cell ({n} units)"
            )));
        }
        for i in 1..n {
            if (&cells.unit[i - 1], cells.period[i - 1]) >= (&cells.unit[i], cells.period[i]) {
                return Err(DataError::DuplicateUnitPeriod {
                    unit: cells.unit[i].clone(),
                    period: cells.period[i].to_string(),
                    first_row: i - 1,
                    second_row: i,
                });
            }
        }
        let outcome_name = roles.outcome_name()?;
        for (row, (&v, &w)) in cells.value.iter().zip(&cells.weight).enumerate() {
            if !v.is_finite() {
                return Err(DataError::OutOfRange {
                    column: outcome_name.clone(),
                    row,
                    value: v,
                    expected: "a finite cell value".into(),
                });
            }
            if !(w.is_finite() && w > 0.0) {
                return Err(DataError::OutOfRange {
                    column: outcome_name.clone(),
                    row,
                    value: w,
                    expected: "a positive cell weight (the summed KPI denominator)".into(),
                });
            }
        }
        let clock = match cells.dates {
            Some((origin, width)) => Clock {
                dated: true,
                width,
                origin,
            },
            None => Clock::default(),
        };
        let mut cols = PanelColumns {
            outcome_name,
            unit: Some(cells.unit),
            time: Some(cells.period),
            outcome: cells.value,
            cohort: cells.cohort,
            treated: cells.treated,
            post: None,
            covariates: Vec::new(),
            weights: Some(cells.weight),
            cluster: Vec::new(),
            dropped: cells.dropped,
            notes: Vec::new(),
            rows: Vec::new(),
            events: Some(n),
            clock,
            block: None,
        };
        if let (Some(width), false) = (roles.period_width, clock.dated) {
            cols.into_blocks(width)?;
        }
        Ok(cols)
    }
}

/// How a time column becomes integer periods: the numbers themselves, or dates in periods of
/// `width` days counted from the earliest date of the time column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Clock {
    /// Whether the time column holds dates.
    dated: bool,
    /// Days per period (dates only).
    width: i64,
    /// The earliest day (days since 1970-01-01) of a dated time column.
    origin: i64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            dated: false,
            width: 1,
            origin: 0,
        }
    }
}

impl Clock {
    fn of(data: &Dataset, time: &str, width: Option<i64>, events: bool) -> Result<Clock> {
        let dated = data.is_date_like(time)?;
        if let Some(w) = width {
            if w < 1 {
                return Err(DataError::PeriodWidth {
                    column: time.to_string(),
                    reason: format!("{w} is not a positive number of periods or days"),
                });
            }
            if !dated && !events {
                return Err(DataError::PeriodWidth {
                    column: time.to_string(),
                    reason: format!(
                        "the column holds numbers (type {}), which are the periods themselves; a width applies to date columns, or to event rows (--events) grouped into blocks of periods",
                        data.dtype(time)?
                    ),
                });
            }
        }
        let origin = if dated {
            data.days(time)?.into_iter().flatten().min().unwrap_or(0)
        } else {
            0
        };
        Ok(Clock {
            dated,
            width: if dated { width.unwrap_or(1) } else { 1 },
            origin,
        })
    }

    /// The period of a day.
    fn period(&self, day: i64) -> i64 {
        (day - self.origin).div_euclid(self.width)
    }

    /// The periods of every row of the time column (missing values as `None`).
    fn periods_all(&self, data: &Dataset, time: &str) -> Result<Vec<Option<i64>>> {
        if self.dated {
            Ok(data
                .days(time)?
                .into_iter()
                .map(|d| d.map(|d| self.period(d)))
                .collect())
        } else {
            data.periods(time, 1)
        }
    }

    /// The periods of the given rows (which hold no missing value).
    fn periods_on(&self, data: &Dataset, time: &str, rows: &[usize]) -> Result<Vec<i64>> {
        if !self.dated {
            return MaskedColumns::rows_of(data, rows).periods(time);
        }
        let all = self.periods_all(data, time)?;
        rows.iter()
            .map(|&r| {
                all[r].ok_or(DataError::MissingValues {
                    column: time.to_string(),
                    count: 1,
                    first_row: r,
                })
            })
            .collect()
    }

    /// A cohort column on the given rows: 0 or missing is never treated; for a dated time
    /// column the cohort holds dates, in the time column's periods.
    fn cohorts_on(&self, data: &Dataset, cohort: &str, rows: &[usize]) -> Result<Vec<Option<i64>>> {
        if !self.dated {
            let m = MaskedColumns::rows_of(data, rows);
            return m.cohorts(cohort);
        }
        // A date column, or text holding ISO dates with 0 or empty for never treated.
        let days: Vec<Option<i64>> = if data.is_temporal(cohort)? {
            data.days(cohort)?
        } else {
            let text = data.labels(cohort)?;
            let mut out = Vec::with_capacity(text.len());
            for (row, t) in text.iter().enumerate() {
                out.push(match t.as_deref().map(str::trim) {
                    None | Some("") | Some("0") => None,
                    Some(t) => Some(crate::dataset::parse_iso_day(t).ok_or_else(|| {
                        DataError::NotADate {
                            column: cohort.to_string(),
                            row,
                            value: format!(
                                "{t} (the time column holds dates, so the cohort is the first treated date, or 0 / empty for never treated)"
                            ),
                        }
                    })?),
                });
            }
            out
        };
        Ok(rows
            .iter()
            .map(|&r| days[r].map(|d| self.period(d)))
            .collect())
    }
}

/// The columns of a design, validated and masked (see [`PanelRoles::read`]).
///
/// Invariant: entry `i` of every vector is the same row (or, for event rows, the same unit ×
/// period cell, unique and sorted by unit then period); each value passed its role's check
/// (whole-number periods, 0/1 indicators, weights positive or, with [`WeightRule::Numeric`],
/// numbers; cohorts whole and non-negative). Rows read as given are not yet checked for
/// duplicate unit-periods or cohorts varying within a unit — repeated cross-sections are
/// allowed — until [`PanelColumns::check_panel`]. Not an estimator input: the CLI converts it
/// into DiD's `StaggeredPanel`/`CsData` or synthetic control's `SynthPanel`.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelColumns {
    /// The outcome's name (the column, or the KPI's name).
    pub outcome_name: String,
    /// Unit labels, when a unit column is named.
    pub unit: Option<Vec<String>>,
    /// Integer periods, when a time column is named.
    pub time: Option<Vec<i64>>,
    /// The outcome (for event rows: the cell's KPI value).
    pub outcome: Vec<f64>,
    /// First treated period (None: never treated), when a cohort column is named.
    pub cohort: Option<Vec<Option<i64>>>,
    /// The 0/1 treated indicator, when named (for event rows: 1 if any event is treated).
    pub treated: Option<Vec<f64>>,
    /// The 0/1 post indicator, when named.
    pub post: Option<Vec<f64>>,
    /// Covariates, by name.
    pub covariates: Vec<(String, Vec<f64>)>,
    /// Weights: the weight column, or for event rows the cell's summed KPI denominator (the
    /// number of events for a mean).
    pub weights: Option<Vec<f64>>,
    /// Cluster labels, by column.
    pub cluster: Vec<(String, Vec<String>)>,
    /// Rows dropped for missing values.
    pub dropped: usize,
    /// Notes for the user (e.g. cohorts that do not start a period block).
    pub notes: Vec<String>,
    /// The data row (0-based) of each entry; empty for event rows (entries are cells).
    pub rows: Vec<usize>,
    /// For event rows: the number of unit × period cells the events were averaged into
    /// (before any blocking into wider periods); None for rows read as given.
    pub events: Option<usize>,
    /// How the time column became periods.
    clock: Clock,
    /// Blocks of periods (first period, width) after [`PanelColumns::into_blocks`].
    block: Option<(i64, i64)>,
}

impl PanelColumns {
    /// Groups unit × period cells into blocks of `width` periods counted from the first
    /// period (block `k`, from 1, holds periods `first + (k-1)·width .. first + k·width −
    /// 1`): the outcome becomes the weight-weighted mean of the cells within each unit ×
    /// block, the weights their sum, a cohort the block holding its first treated period,
    /// a treated indicator 1 if any cell is. A note names each cohort that does not start a
    /// block (part of its first block is counted as treated although it is not).
    pub fn into_blocks(&mut self, width: i64) -> Result<()> {
        if width < 1 {
            return Err(DataError::PeriodWidth {
                column: "time".into(),
                reason: format!("{width} is not a positive number of periods"),
            });
        }
        let (Some(units), Some(periods)) = (&self.unit, &self.time) else {
            return Ok(());
        };
        let Some(&first) = periods.iter().min() else {
            return Ok(());
        };
        let ones = vec![1.0; self.outcome.len()];
        let weights = self.weights.as_ref().unwrap_or(&ones);
        let cohort: Vec<Option<i64>> = self
            .cohort
            .clone()
            .unwrap_or_else(|| vec![None; self.outcome.len()]);
        let block = |t: i64| (t - first).div_euclid(width) + 1;
        // Event-weighted means of the cells within each unit x block.
        // Per unit x block: (weighted outcome sum, weight sum, cohort block, any treated).
        type Block = (f64, f64, Option<i64>, bool);
        let mut acc: BTreeMap<(String, i64), Block> = BTreeMap::new();
        for i in 0..self.outcome.len() {
            let e = acc.entry((units[i].clone(), block(periods[i]))).or_insert((
                0.0,
                0.0,
                cohort[i].map(block),
                false,
            ));
            e.0 += self.outcome[i] * weights[i];
            e.1 += weights[i];
            if let Some(t) = &self.treated {
                e.3 |= t[i] > 0.5;
            }
        }
        for g in cohort.iter().flatten().collect::<BTreeSet<_>>() {
            if (g - first).rem_euclid(width) != 0 {
                self.notes.push(format!(
                    "cohort {g} does not start a block of {width} periods: block {} is counted as treated although part of it is not",
                    block(*g)
                ));
            }
        }
        self.unit = Some(acc.keys().map(|k| k.0.clone()).collect());
        self.time = Some(acc.keys().map(|k| k.1).collect());
        self.outcome = acc.values().map(|v| v.0 / v.1).collect();
        self.weights = Some(acc.values().map(|v| v.1).collect());
        if self.cohort.is_some() {
            self.cohort = Some(acc.values().map(|v| v.2).collect());
        }
        if self.treated.is_some() {
            self.treated = Some(acc.values().map(|v| f64::from(u8::from(v.3))).collect());
        }
        self.rows.clear();
        self.block = Some((first, width));
        Ok(())
    }

    /// For a date time column, how its dates became periods (e.g. "`day` holds dates: period
    /// k covers the 7 day(s) from 2024-01-01 + 7k days"); None for a column of numbers.
    pub fn period_note(&self, time: &str) -> Option<String> {
        self.clock.dated.then(|| {
            format!(
                "`{time}` holds dates: period k covers the {} day(s) from {} + {}k days",
                self.clock.width,
                crate::dataset::format_iso_day(self.clock.origin),
                self.clock.width
            )
        })
    }

    /// Whether the time column holds dates (then the periods are counted in days of
    /// [`PanelRoles::period_width`] from the earliest date).
    pub fn dated(&self) -> bool {
        self.clock.dated
    }

    /// The period of a value of the time column as a user writes it: a whole number for a
    /// column of numbers, an ISO date (`YYYY-MM-DD`) for a date column; after
    /// [`PanelColumns::into_blocks`], the block holding it. None if the text is neither.
    pub fn period_of(&self, text: &str) -> Option<i64> {
        let t = if self.clock.dated {
            self.clock.period(crate::dataset::parse_iso_day(text)?)
        } else {
            let x: f64 = text.trim().parse().ok()?;
            if !x.is_finite() || x.fract() != 0.0 || x.abs() > 9.0e15 {
                return None;
            }
            x as i64
        };
        Some(match self.block {
            Some((first, width)) => (t - first).div_euclid(width) + 1,
            None => t,
        })
    }

    /// A treated indicator from treated units and a first treated period (a synthetic
    /// control design given as `--treated-unit NAME --treatment-start T`): entry `i` is 1
    /// when its unit is one of `names` and its period is at or after `start` (a value of the
    /// time column as the user writes it, see [`PanelColumns::period_of`]). A name that is not
    /// a unit, or a start that is not a period of the data, is a [`DataError::UnknownValue`]
    /// listing what exists. `roles` gives the column names for the errors.
    pub fn treated_from_units(
        &self,
        roles: &PanelRoles,
        names: &[String],
        start: &str,
    ) -> Result<Vec<f64>> {
        let (Some(units), Some(time)) = (&self.unit, &self.time) else {
            return Err(DataError::EmptyGroup(
                "treated units need a unit and a period column".into(),
            ));
        };
        let unit_col = roles.unit.clone().unwrap_or_default();
        let time_col = roles.time.clone().unwrap_or_default();
        let known: BTreeSet<&str> = units.iter().map(String::as_str).collect();
        for name in names {
            if !known.contains(name.as_str()) {
                return Err(DataError::UnknownValue {
                    what: "the treated unit (--treated-unit)".into(),
                    value: name.clone(),
                    column: unit_col,
                    known: known.iter().map(|s| s.to_string()).collect(),
                });
            }
        }
        let periods: BTreeSet<i64> = time.iter().copied().collect();
        let start_period = self.period_of(start).filter(|p| periods.contains(p));
        let Some(start_period) = start_period else {
            return Err(DataError::UnknownValue {
                what: "the first treated period (--treatment-start)".into(),
                value: start.to_string(),
                column: time_col,
                known: periods.iter().map(|p| self.period_label(*p)).collect(),
            });
        };
        Ok(units
            .iter()
            .zip(time)
            .map(|(u, &t)| f64::from(u8::from(t >= start_period && names.contains(u))))
            .collect())
    }

    /// A period as a user reads it: the number, or for a date column the first date of the
    /// period (`YYYY-MM-DD`).
    pub fn period_label(&self, period: i64) -> String {
        match (self.clock.dated, self.block) {
            (true, None) => {
                crate::dataset::format_iso_day(self.clock.origin + period * self.clock.width)
            }
            _ => period.to_string(),
        }
    }

    /// Checks a panel (rows read as given, not event cells) with the user's names, values
    /// and rows: each (unit, period) occurs once unless `repeated_cross_section`; the cohort
    /// is constant within each unit; and the cluster columns listed in `constant_clusters`
    /// are constant within each unit. Needs unit and time.
    pub fn check_panel(
        &self,
        roles: &PanelRoles,
        repeated_cross_section: bool,
        constant_clusters: bool,
    ) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let (Some(unit), Some(time)) = (&self.unit, &self.time) else {
            return Ok(());
        };
        if !repeated_cross_section {
            check_unique_unit_periods(unit, time, &self.rows)?;
        }
        if let (Some(g), Some(cohort)) = (&roles.cohort, &self.cohort) {
            check_constant_within_units(g, unit, cohort, &self.rows, |v| {
                v.map_or("never treated".into(), |g| g.to_string())
            })?;
        }
        if constant_clusters {
            let unit_col = roles.unit.as_deref().unwrap_or_default();
            for (n, v) in &self.cluster {
                if n != unit_col {
                    check_constant_within_units(n, unit, v, &self.rows, |x| format!("`{x}`"))?;
                }
            }
        }
        Ok(())
    }

    /// The cohort of each entry from the 2×2 indicators: units with treated = 1 on any row
    /// are first treated in the first period with post = 1, other units never. Needs unit,
    /// time, treated and post; an error if no row has post = 1.
    pub fn cohort_from_treated_post(&self) -> Result<Vec<Option<i64>>> {
        let (Some(unit), Some(time), Some(tr), Some(po)) =
            (&self.unit, &self.time, &self.treated, &self.post)
        else {
            return Err(DataError::EmptyGroup(
                "deriving cohorts needs unit, time, treated and post columns".into(),
            ));
        };
        let first_post = (0..time.len())
            .filter(|&i| po[i] > 0.5) // validated 0/1 indicators
            .map(|i| time[i])
            .min()
            .ok_or_else(|| DataError::EmptyGroup("no row has post = 1".into()))?;
        let treated_units: BTreeSet<&String> = (0..time.len())
            .filter(|&i| tr[i] > 0.5) // validated 0/1 indicators
            .map(|i| &unit[i])
            .collect();
        Ok(unit
            .iter()
            .map(|u| treated_units.contains(u).then_some(first_post))
            .collect())
    }
}

/// The unit × period panel of one KPI from event rows, in one call: `kpi` is an expression
/// of the data layer's grammar (`aht=mean(handle_seconds)`, `ratio(resolved, count)`,
/// `proportion(converted)`, ...; a bare column name is its mean); each cell's value is the
/// KPI's summed numerator over its summed denominator and its weight the summed denominator
/// (see [`Panel::from_events`]). The time column holds whole numbers, or dates grouped into
/// periods of `period_width_days` days from the earliest date (`None`: 1 day; a width with a
/// whole-number column is an error). Missing values follow `policy`.
///
/// ```
/// use causalkit_data::{design::kpi_panel, Dataset, MissingPolicy};
/// # let dir = std::env::temp_dir().join(format!("ck_kpi_panel_{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("events.csv");
/// std::fs::write(&path, "site,day,seconds\na,1,10\na,1,20\na,2,30\nb,1,40\n").unwrap();
/// let data = Dataset::read(&path).unwrap();
/// let p = kpi_panel(&data, "site", "day", "aht=mean(seconds)", None, MissingPolicy::Error).unwrap();
/// assert_eq!(p.unit, ["a", "a", "b"]);
/// assert_eq!(p.period, [1, 2, 1]);
/// assert_eq!(p.values["aht"], [15.0, 30.0, 40.0]);
/// assert_eq!(p.weights["aht"], [2.0, 1.0, 1.0]);
/// ```
pub fn kpi_panel(
    data: &Dataset,
    unit: &str,
    time: &str,
    kpi: &str,
    period_width_days: Option<i64>,
    policy: MissingPolicy,
) -> Result<Panel> {
    let mut roles = PanelRoles::new(kpi);
    roles.unit = Some(unit.to_string());
    roles.time = Some(time.to_string());
    roles.events = true;
    roles.policy = policy;
    roles.check_distinct()?;
    let kpi = roles.outcome_kpi()?;
    let mut required = vec![unit, time];
    required.extend(kpi.columns());
    data.require(&required)?;
    if period_width_days.is_some() && !data.is_date_like(time)? {
        return Err(DataError::PeriodWidth {
            column: time.to_string(),
            reason: format!(
                "the column holds numbers (type {}), which are the periods themselves; a width in days applies to date columns only",
                data.dtype(time)?
            ),
        });
    }
    let clock = Clock::of(data, time, period_width_days, true)?;
    let periods = clock.periods_all(data, time)?;
    Panel::from_period_rows(data, unit, time, &periods, &[kpi], policy)
}

/// Unit × period matrices of covariate columns, in a given unit and period order.
#[derive(Debug, Clone, PartialEq)]
pub struct CellMatrix {
    /// The covariate column.
    pub column: String,
    /// Rows (units) of the matrix.
    pub n_units: usize,
    /// Columns (periods) of the matrix.
    pub n_periods: usize,
    /// Values in row-major order (unit `i`, period `j` at `i * n_periods + j`); NaN where a
    /// cell is not observed and not needed.
    pub values: Vec<f64>,
}

impl CellMatrix {
    /// The value of unit `i` in period `j`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.values[i * self.n_periods + j]
    }
}

/// Reads covariate columns into unit × period matrices: `units` and `periods` give the
/// matrix order (the unit labels and the periods, as [`PanelRoles::read`] returns them for
/// `roles`' unit and time columns). Every cell whose period index `j` has `needed(j)` true
/// must be observed; a missing value there is a [`DataError::MissingCell`] naming the column,
/// row, unit and period, with `why` saying why it is needed. Other cells may be missing (NaN).
/// Rows whose unit or period is missing, or not in `units`/`periods`, are skipped.
pub fn covariate_cells(
    data: &Dataset,
    roles: &PanelRoles,
    units: &[String],
    periods: &[i64],
    needed: impl Fn(usize) -> bool,
    why: &str,
) -> Result<Vec<CellMatrix>> {
    let (Some(unit), Some(time)) = (roles.unit.as_deref(), roles.time.as_deref()) else {
        return Err(DataError::EmptyGroup(
            "covariate matrices need a unit and a period column".into(),
        ));
    };
    let cols: Vec<&str> = roles.covariates.iter().map(String::as_str).collect();
    data.require(&cols)?;
    let labels = data.labels(unit)?;
    let clock = Clock::of(data, time, roles.period_width, roles.events)?;
    let time_values = clock.periods_all(data, time)?;
    let urow: HashMap<&str, usize> = units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.as_str(), i))
        .collect();
    let tcol: HashMap<i64, usize> = periods.iter().enumerate().map(|(i, &p)| (p, i)).collect();
    let (n, t) = (units.len(), periods.len());
    let mut out = Vec::with_capacity(cols.len());
    for c in &roles.covariates {
        let vals = data.numeric(c)?;
        let mut m = vec![f64::NAN; n * t];
        for (r, v) in vals.into_iter().enumerate() {
            let (Some(u), Some(tm)) = (labels[r].as_deref(), time_values[r]) else {
                continue;
            };
            let (Some(&i), Some(&j)) = (urow.get(u), tcol.get(&tm)) else {
                continue;
            };
            match v {
                Some(x) => m[i * t + j] = x,
                None if !needed(j) => {}
                None => {
                    return Err(DataError::MissingCell {
                        what: "covariate",
                        column: c.clone(),
                        row: r,
                        unit: u.to_string(),
                        period: tm.to_string(),
                        why: why.to_string(),
                    })
                }
            }
        }
        out.push(CellMatrix {
            column: c.clone(),
            n_units: n,
            n_periods: t,
            values: m,
        });
    }
    Ok(out)
}

/// Each unit's mean of each covariate over the first `t0` periods (the fixed covariates of
/// augmented synthetic control, as augsynth's default `cov_agg`): a units × covariates
/// matrix in row-major order. The cells must be observed (read them with
/// [`covariate_cells`] and `needed = |j| j < t0`).
pub fn pre_period_means(cells: &[CellMatrix], t0: usize) -> Vec<f64> {
    let n = cells.first().map_or(0, |c| c.n_units);
    let k = cells.len();
    let mut out = vec![0.0; n * k];
    for i in 0..n {
        for (c, m) in cells.iter().enumerate() {
            out[i * k + c] = (0..t0).map(|j| m.get(i, j)).sum::<f64>() / t0 as f64;
        }
    }
    out
}

/// A time column as numbers for a chart or a running view (e.g. the cumulative A/B effect):
/// a column of numbers as its values (`period_width` must be `None` or 1); a date column
/// (Parquet `Date`/`Timestamp`, ISO text) as integer periods of `period_width` days (one
/// day by default) counted from the earliest date ([`Dataset::periods`]). Missing values are
/// an error naming the first row.
pub fn time_values(data: &Dataset, column: &str, period_width: Option<i64>) -> Result<Vec<f64>> {
    let v: Vec<Option<f64>> = if data.is_date_like(column)? {
        data.periods(column, period_width.unwrap_or(1))?
            .into_iter()
            .map(|p| p.map(|p| p as f64))
            .collect()
    } else {
        if let Some(w) = period_width.filter(|&w| w != 1) {
            return Err(DataError::PeriodWidth {
                column: column.to_string(),
                reason: format!(
                    "the column holds numbers (type {}), which are the times themselves; a width of {w} days applies to date columns only",
                    data.dtype(column)?
                ),
            });
        }
        data.numeric(column)?
    };
    if let Some(row) = v.iter().position(Option::is_none) {
        return Err(DataError::MissingValues {
            column: column.to_string(),
            count: v.iter().filter(|x| x.is_none()).count(),
            first_row: row,
        });
    }
    Ok(v.into_iter().flatten().collect())
}

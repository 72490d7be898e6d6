//! What the aggregation computes: the same statistics as the in-process A/B scan
//! (`causalkit_data::ab_stats::ab_statistics`), described without any data.

use crate::error::{Result, WarehouseError};
use std::collections::{BTreeMap, BTreeSet};

pub use causalkit_stats::kpi::Denominator;
/// How a metric's per-row numerator and denominator come from the row: the data layer's KPI
/// kinds (one definition, in `causalkit_stats::kpi`, shared with `causalkit_data::KpiKind`).
pub use causalkit_stats::kpi::KpiKind as MetricKind;

/// A named metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// The name, as the result's `metric` column holds it.
    pub name: String,
    /// How it is computed.
    pub kind: MetricKind,
}

impl Metric {
    /// The columns the metric reads.
    pub fn columns(&self) -> Vec<&str> {
        self.kind.columns()
    }

    /// The column winsorisation caps: a mean's column or a ratio's numerator (None for the
    /// other kinds).
    pub fn winsor_column(&self) -> Option<&str> {
        match &self.kind {
            MetricKind::Mean { column } => Some(column),
            MetricKind::Ratio { numerator, .. } => Some(numerator),
            _ => None,
        }
    }

    /// True for a ratio whose denominator is a column.
    pub fn has_denominator_column(&self) -> bool {
        self.kind.is_ratio()
    }
}

/// Variance reduction with pre-period data, the same for every metric (the CLI's
/// `--covariate`).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Adjustment {
    /// No covariate.
    #[default]
    None,
    /// CUPED with one pre-period covariate column (`covariate_*` columns). Not for ratio
    /// metrics nor with a unit (their single-covariate cross-product with the denominator has
    /// no GrowthBook column); use [`Adjustment::RatioCuped`] there.
    Cuped(String),
    /// GrowthBook's ratio regression adjustment: the pre-period ratio NUM/DEN (`covariate_*`
    /// for NUM, `denominator_pre_*` for DEN and the four cross-products).
    RatioCuped {
        /// The pre-period numerator column.
        numerator: String,
        /// The pre-period denominator.
        denominator: Denominator,
    },
}

/// Constants subtracted from each unit-level value before it is summed and squared, and added
/// back in the final SELECT, so sums of squares of large-mean metrics keep their digits
/// (Σx² = Σ(x−c)² + 2cΣ(x−c) + nc²). Any constant gives the same statistics; one near the
/// mean keeps the most digits. See [`crate::engine::pilot_shifts`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Shift {
    /// For the numerator.
    pub numerator: f64,
    /// For the denominator.
    pub denominator: f64,
    /// For the covariate (the pre-period numerator with ratio CUPED).
    pub covariate: f64,
    /// For the pre-period denominator (ratio CUPED).
    pub denominator_pre: f64,
}

impl Shift {
    /// The shift of variable `i` (numerator, denominator, covariate, denominator_pre).
    pub fn get(&self, i: usize) -> f64 {
        [
            self.numerator,
            self.denominator,
            self.covariate,
            self.denominator_pre,
        ][i]
    }
}

/// Winsorisation of one metric (`ab --winsorize`): its row values — a mean's column or a
/// ratio's numerator — capped at percentiles of the rows the metric uses, pooled over the
/// arms (as `causalkit_ab::winsor::winsorize` does in process).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Winsor {
    /// The lower percentile level in [0, 1] (None: the lower tail is left alone).
    pub lower: Option<f64>,
    /// The upper percentile level in [0, 1].
    pub upper: Option<f64>,
    /// The cap values once known (from [`crate::sql::caps_sql`]'s pre-query, see
    /// [`crate::engine::winsor_caps`]); None: the statement computes them in scalar
    /// subqueries (what `--explain` prints).
    pub caps: Option<Caps>,
}

/// The cap values of a [`Winsor`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Caps {
    /// The lower cap (the lower-level percentile), if the lower tail is capped.
    pub lower: Option<f64>,
    /// The upper cap.
    pub upper: Option<f64>,
    /// The number of values the percentiles were taken over.
    pub rows: f64,
}

/// A table name: its parts (`schema.table` or `catalog.schema.table`), each quoted on its
/// own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName(pub Vec<String>);

impl TableName {
    /// Splits a dotted name (`analytics.events`) into its parts. A part in backticks may
    /// hold dots (a doubled backtick is one backtick), so a Spark file source reads as
    /// ``parquet.`/data/ab.parquet` `` (parts `parquet` and `/data/ab.parquet`).
    pub fn parse(s: &str) -> Result<TableName> {
        let bad = |reason: String| WarehouseError::InvalidRequest {
            field: "table".into(),
            reason,
        };
        let mut parts = Vec::new();
        let mut chars = s.chars().peekable();
        loop {
            let mut part = String::new();
            if chars.peek() == Some(&'`') {
                chars.next();
                loop {
                    match chars.next() {
                        Some('`') if chars.peek() == Some(&'`') => {
                            chars.next();
                            part.push('`');
                        }
                        Some('`') => break,
                        Some(c) => part.push(c),
                        None => return Err(bad(format!("`{s}` has an unclosed backtick"))),
                    }
                }
                if !matches!(chars.peek(), None | Some('.')) {
                    return Err(bad(format!(
                        "`{s}`: a backticked part must be followed by a dot or the end"
                    )));
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == '.' {
                        break;
                    }
                    part.push(c);
                    chars.next();
                }
            }
            if part.is_empty() {
                return Err(bad(format!(
                    "`{s}` has an empty part; give NAME, SCHEMA.NAME or CATALOG.SCHEMA.NAME"
                )));
            }
            parts.push(part);
            if chars.next().is_none() {
                break;
            }
        }
        Ok(TableName(parts))
    }
}

/// Written as [`TableName::parse`] reads it: a part that is not a plain identifier (letters,
/// digits, `_`) is put in backticks (a backtick doubled), so ``parquet.`/data/ab.parquet` ``
/// shows as given and parses back to the same parts.
impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, part) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            if part.is_empty() || !part.chars().all(|c| c.is_alphanumeric() || c == '_') {
                write!(f, "`{}`", part.replace('`', "``"))?;
            } else {
                f.write_str(part)?;
            }
        }
        Ok(())
    }
}

/// The statistics of an A/B review: for every metric, per arm (and arm × segment), the
/// count and sums of squares and cross-products of numerator, denominator and covariates —
/// what `causalkit_data::ab_stats::ab_statistics` computes in process, as rows with
/// GrowthBook's column names (Deng et al. 2013 for CUPED; GrowthBook's
/// `RegressionAdjustedRatioStatistic` for ratio CUPED).
#[derive(Debug, Clone, PartialEq)]
pub struct StatsRequest {
    /// The table holding unit (or event) rows.
    pub table: TableName,
    /// The arm column.
    pub arm: String,
    /// Per-segment rows from this column too (the overall cells are their merge).
    pub segment: Option<String>,
    /// The analysis unit: rows are summed per unit first (units are nested in segments, as
    /// in process).
    pub unit: Option<String>,
    /// The metrics (unique names).
    pub metrics: Vec<Metric>,
    /// The covariate adjustment.
    pub adjustment: Adjustment,
    /// Drop rows with a missing value in a used column (otherwise the result counts them in
    /// `rows_missing` and running it is an error).
    pub drop_missing: bool,
    /// Shift constants per metric name (absent: 0).
    pub shifts: BTreeMap<String, Shift>,
    /// Winsorisation per metric name (mean and ratio metrics only).
    pub winsor: BTreeMap<String, Winsor>,
}

impl StatsRequest {
    /// A request with no segment, unit, covariate or shift.
    pub fn new(table: TableName, arm: &str, metrics: Vec<Metric>) -> StatsRequest {
        StatsRequest {
            table,
            arm: arm.to_string(),
            segment: None,
            unit: None,
            metrics,
            adjustment: Adjustment::None,
            drop_missing: false,
            shifts: BTreeMap::new(),
            winsor: BTreeMap::new(),
        }
    }

    /// The covariate columns of the adjustment (a `count` denominator is no column).
    pub fn covariate_columns(&self) -> Vec<&str> {
        match &self.adjustment {
            Adjustment::None => vec![],
            Adjustment::Cuped(c) => vec![c],
            Adjustment::RatioCuped {
                numerator,
                denominator,
            } => match denominator {
                Denominator::Count => vec![numerator],
                Denominator::Column(d) => vec![numerator, d],
            },
        }
    }

    /// Columns that must be numeric: every metric's and covariate's.
    pub fn numeric_columns(&self) -> BTreeSet<&str> {
        let mut s: BTreeSet<&str> = self.metrics.iter().flat_map(|m| m.columns()).collect();
        s.extend(self.covariate_columns());
        s
    }

    /// The grouping columns: arm, then segment.
    pub fn group_columns(&self) -> Vec<&str> {
        let mut g = vec![self.arm.as_str()];
        if let Some(s) = &self.segment {
            g.push(s);
        }
        g
    }

    /// Every column the request reads.
    pub fn all_columns(&self) -> BTreeSet<&str> {
        let mut s = self.numeric_columns();
        s.extend(self.group_columns());
        if let Some(u) = &self.unit {
            s.insert(u);
        }
        s
    }

    /// Whether metric `m`'s rows carry denominator statistics (a ratio column, a unit, or
    /// ratio CUPED; otherwise the denominator is 1 per unit and left out).
    pub fn has_denominator(&self, m: &Metric) -> bool {
        m.has_denominator_column()
            || self.unit.is_some()
            || matches!(self.adjustment, Adjustment::RatioCuped { .. })
    }

    /// Checks what the SQL and the `--stats` reader can express.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, reason: String| {
            Err(WarehouseError::InvalidRequest {
                field: field.into(),
                reason,
            })
        };
        if self.metrics.is_empty() {
            return bad("metrics", "give at least one metric".into());
        }
        let mut seen = BTreeSet::new();
        for m in &self.metrics {
            if m.name.is_empty() {
                return bad("metrics", "a metric name is empty".into());
            }
            if !seen.insert(m.name.as_str()) {
                return bad("metrics", format!("metric `{}` is given twice", m.name));
            }
            if let MetricKind::TopBox { threshold, .. } = &m.kind {
                if !threshold.is_finite() {
                    return bad(
                        "metrics",
                        format!("metric `{}`: threshold {threshold} is not finite", m.name),
                    );
                }
            }
            if let MetricKind::Composite { terms } = &m.kind {
                if terms.is_empty() || terms.iter().any(|(_, w)| !w.is_finite()) {
                    return bad(
                        "metrics",
                        format!(
                            "metric `{}`: a composite needs terms with finite weights",
                            m.name
                        ),
                    );
                }
            }
        }
        for (name, w) in &self.winsor {
            let Some(m) = self.metrics.iter().find(|m| &m.name == name) else {
                return bad("winsorize", format!("no metric named `{name}`"));
            };
            if m.winsor_column().is_none() {
                return bad(
                    "winsorize",
                    format!("metric `{name}` is not a mean or ratio metric; winsorising caps a mean's column or a ratio's numerator"),
                );
            }
            let ok = |q: Option<f64>| q.is_none_or(|q| (0.0..=1.0).contains(&q));
            let ordered = match (w.lower, w.upper) {
                (None, None) => false,
                (Some(l), Some(u)) => l < u,
                _ => true,
            };
            if !ok(w.lower) || !ok(w.upper) || !ordered {
                return bad(
                    "winsorize",
                    format!("metric `{name}`: levels must be in [0, 1], at least one given, the lower below the upper"),
                );
            }
            if let Some(c) = w.caps {
                if [c.lower, c.upper].iter().flatten().any(|x| !x.is_finite()) {
                    return bad("winsorize", format!("metric `{name}`: a cap is not finite"));
                }
            }
        }
        for (name, s) in &self.shifts {
            if (0..4).any(|i| !s.get(i).is_finite()) {
                return bad("shifts", format!("metric `{name}`: a shift is not finite"));
            }
        }
        for c in self.all_columns() {
            if c.is_empty() {
                return bad("columns", "a column name is empty".into());
            }
        }
        if self.segment.as_deref() == Some(self.arm.as_str()) {
            return bad("segment", "the segment column is the arm column".into());
        }
        match &self.adjustment {
            Adjustment::Cuped(c) => {
                if let Some(m) = self.metrics.iter().find(|m| m.has_denominator_column()) {
                    return bad(
                        "covariate",
                        format!("`{c}` adjusts the ratio metric `{}` with one covariate, which GrowthBook's columns cannot express; give the pre-period ratio NUM/DEN", m.name),
                    );
                }
                if let Some(u) = &self.unit {
                    return bad(
                        "covariate",
                        format!("`{c}` with the unit `{u}` makes every metric a ratio per unit, which one covariate cannot adjust in GrowthBook's columns; give the pre-period ratio NUM/DEN (e.g. {c}/count)"),
                    );
                }
            }
            Adjustment::RatioCuped { numerator, .. } => {
                if let Some(m) = self
                    .metrics
                    .iter()
                    .find(|m| !matches!(m.kind, MetricKind::Ratio { .. }))
                {
                    return bad(
                        "covariate",
                        format!("the pre-period ratio `{numerator}/...` adjusts ratio metrics; `{}` is not a ratio metric", m.name),
                    );
                }
            }
            Adjustment::None => {}
        }
        Ok(())
    }
}

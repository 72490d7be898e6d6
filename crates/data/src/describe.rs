//! Column and KPI summaries of a dataset (`causalkit describe`).

use crate::aggregate::kpi_moments;
use crate::dataset::{Dataset, MissingPolicy};
use crate::error::Result;
use crate::kpi::Kpi;
use serde::Serialize;

/// Summary of one column.
///
/// In JSON, `min` and `max` of an integer (or boolean) column are integers (`"min": 2003`),
/// as are the counts; the mean and standard deviation are numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSummary {
    /// Column name.
    pub name: String,
    /// Data type as read.
    pub dtype: String,
    /// Missing values.
    pub missing: usize,
    /// Distinct non-missing values.
    pub distinct: usize,
    /// Mean (numeric columns).
    pub mean: Option<f64>,
    /// Sample standard deviation (numeric columns).
    pub std: Option<f64>,
    /// Minimum (numeric columns).
    pub min: Option<f64>,
    /// Maximum (numeric columns).
    pub max: Option<f64>,
    /// Whether the column holds integers (any integer width, or booleans as 0/1): its
    /// minimum and maximum are whole numbers and are shown as integers.
    pub integer: bool,
}

/// A statistic as shown: an integer for integer columns' minimum and maximum.
#[derive(Serialize)]
#[serde(untagged)]
enum Stat {
    Int(i64),
    Float(f64),
}

impl Serialize for ColumnSummary {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            name: &'a str,
            dtype: &'a str,
            missing: usize,
            distinct: usize,
            mean: Option<f64>,
            std: Option<f64>,
            min: Option<Stat>,
            max: Option<Stat>,
        }
        let stat = |x: Option<f64>| {
            x.map(|v| match self.integer.then(|| whole(v)).flatten() {
                Some(i) => Stat::Int(i),
                None => Stat::Float(v),
            })
        };
        Shown {
            name: &self.name,
            dtype: &self.dtype,
            missing: self.missing,
            distinct: self.distinct,
            mean: self.mean,
            std: self.std,
            min: stat(self.min),
            max: stat(self.max),
        }
        .serialize(s)
    }
}

/// `v` as an integer when it is one (and within the range where f64 holds integers exactly).
fn whole(v: f64) -> Option<i64> {
    (v.fract() == 0.0 && v.abs() <= 9.0e15).then_some(v as i64)
}

impl ColumnSummary {
    /// The minimum or maximum `v` of this column as text: an integer for integer columns
    /// (`2003`), else with `decimals` decimals.
    pub fn show_stat(&self, v: Option<f64>, decimals: usize) -> String {
        match v {
            None => String::new(),
            Some(x) => match self.integer.then(|| whole(x)).flatten() {
                Some(i) => i.to_string(),
                None => format!("{x:.decimals$}"),
            },
        }
    }
}

/// A KPI's value in one group, with its standard error (delta method for ratios).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KpiSummary {
    /// KPI name.
    pub kpi: String,
    /// Group label (`"all"` without grouping).
    pub group: String,
    /// Analysis units in the group.
    pub n: u64,
    /// The KPI value (ratio of sums).
    pub value: f64,
    /// Its standard error over units.
    pub std_error: f64,
    /// Rows dropped for missing values (with dropping enabled).
    pub dropped_rows: usize,
}

/// The description of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Description {
    /// Where the data came from.
    pub source: String,
    /// Number of rows.
    pub rows: usize,
    /// One summary per column.
    pub columns: Vec<ColumnSummary>,
    /// KPI summaries, when KPIs were given.
    pub kpis: Vec<KpiSummary>,
}

/// Summarises every column, and each KPI per group of `by` (optional) at the analysis unit
/// `unit` (optional).
pub fn describe(
    data: &Dataset,
    kpis: &[Kpi],
    by: Option<&str>,
    unit: Option<&str>,
    policy: MissingPolicy,
) -> Result<Description> {
    let mut columns = Vec::new();
    for name in data.column_names() {
        let dtype = data.dtype(&name)?;
        let missing = data.null_count(&name)?;
        let labels = data.labels(&name)?;
        let distinct = labels
            .iter()
            .flatten()
            .collect::<std::collections::HashSet<_>>()
            .len();
        // Text, dictionary text (cat, enum) and dates or times are summarised by their
        // missing and distinct values only.
        let numeric_type = !["str", "String", "cat", "enum", "date", "time"]
            .iter()
            .any(|t| dtype.contains(t));
        let (mut mean, mut std, mut min, mut max) = (None, None, None, None);
        if numeric_type {
            if let Ok(v) = data.numeric(&name) {
                let xs: Vec<f64> = v.into_iter().flatten().collect();
                if !xs.is_empty() {
                    let n = xs.len() as f64;
                    let m = xs.iter().sum::<f64>() / n;
                    mean = Some(m);
                    if xs.len() > 1 {
                        std = Some(
                            (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt(),
                        );
                    }
                    min = xs.iter().copied().reduce(f64::min);
                    max = xs.iter().copied().reduce(f64::max);
                }
            }
        }
        let integer = numeric_type && data.is_integer(&name)?;
        columns.push(ColumnSummary {
            integer,
            name,
            dtype,
            missing,
            distinct,
            mean,
            std,
            min,
            max,
        });
    }
    let mut out = Vec::new();
    let groups: Vec<&str> = by.into_iter().collect();
    for kpi in kpis {
        let gm = kpi_moments(data, kpi, &groups, unit, &[], policy)?;
        for (key, m) in &gm.groups {
            let (value, se) = m.ratio(0, 1)?;
            out.push(KpiSummary {
                kpi: kpi.name.clone(),
                group: if key.is_empty() {
                    "all".into()
                } else {
                    key.join("/")
                },
                n: m.n(),
                value,
                std_error: se,
                dropped_rows: gm.dropped_rows,
            });
        }
    }
    Ok(Description {
        source: data.source().to_string(),
        rows: data.height(),
        columns,
        kpis: out,
    })
}

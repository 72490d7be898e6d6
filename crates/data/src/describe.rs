//! Column and KPI summaries of a dataset (`causalkit describe`).

use crate::aggregate::kpi_moments;
use crate::dataset::{Dataset, MissingPolicy};
use crate::error::Result;
use crate::kpi::Kpi;
use serde::Serialize;

/// Summary of one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
        columns.push(ColumnSummary {
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

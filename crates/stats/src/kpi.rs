//! What a KPI computes from a row, as data: the kinds of the data layer's KPI grammar
//! (`causalkit_data::Kpi`, which parses and applies them) and of the warehouse's SQL metrics
//! (`causalkit_warehouse::Metric`, which turns them into SQL). Defined here, without any data
//! frame, so that both use one definition and the warehouse stays free of polars.

use serde::{Deserialize, Serialize};

/// The denominator of a ratio KPI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Denominator {
    /// The number of rows (e.g. contacts).
    Count,
    /// The sum of a column.
    Column(String),
}

/// How a KPI is computed from rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KpiKind {
    /// Mean of a numeric column (e.g. CSAT).
    Mean {
        /// The column.
        column: String,
    },
    /// Share of rows with a 0/1 column equal to 1 (e.g. FCR, conversion).
    Proportion {
        /// The 0/1 column.
        column: String,
    },
    /// Ratio of sums (e.g. AHT = handle seconds / contacts, AOV = revenue / orders).
    Ratio {
        /// Numerator column.
        numerator: String,
        /// Denominator.
        denominator: Denominator,
    },
    /// Net promoter score from a 0–10 score: share 9–10 minus share 0–6.
    Nps {
        /// The 0–10 score column.
        column: String,
    },
    /// Share of rows whose value is at least `threshold` (e.g. CSAT 4–5).
    TopBox {
        /// The column.
        column: String,
        /// The smallest value that counts as top box.
        threshold: f64,
    },
    /// A weighted sum of columns per row, averaged (e.g. `0.1 click + 0.3 add_to_cart`).
    Composite {
        /// (column, weight) terms.
        terms: Vec<(String, f64)>,
    },
}

impl KpiKind {
    /// The columns a KPI of this kind reads.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            KpiKind::Mean { column }
            | KpiKind::Proportion { column }
            | KpiKind::Nps { column }
            | KpiKind::TopBox { column, .. } => vec![column],
            KpiKind::Ratio {
                numerator,
                denominator,
            } => match denominator {
                Denominator::Count => vec![numerator],
                Denominator::Column(d) => vec![numerator, d],
            },
            KpiKind::Composite { terms } => terms.iter().map(|(c, _)| c.as_str()).collect(),
        }
    }

    /// Whether this is a ratio of two column sums (its variance needs the delta method even at
    /// the row level).
    pub fn is_ratio(&self) -> bool {
        matches!(
            self,
            KpiKind::Ratio {
                denominator: Denominator::Column(_),
                ..
            }
        )
    }
}

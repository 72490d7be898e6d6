//! # causalkit-data — the shared data layer
//!
//! Turns files and frames into estimator inputs. This is the only crate that depends on
//! polars; estimator crates consume what it produces (slices, [`Factor`]s, [`Moments`],
//! [`Panel`]s) through `causalkit-stats` types.
//!
//! - [`Dataset`]: CSV/Parquet reading with typed, validated column access.
//! - [`Kpi`]: KPI definitions as data (mean, proportion, ratio of sums, NPS, top-box,
//!   weighted composite).
//! - [`kpi_moments`] / [`moments_from_stats_rows`]: mergeable per-group sufficient statistics,
//!   from unit rows or from pre-aggregated rows; [`kpi_moments_scan`]: the same from a file
//!   in one pass (direct Parquet reader or polars' streaming engine), in bounded memory;
//!   [`kpi_moments_scan_many`] / [`kpi_moments_many`]: several KPIs ([`KpiRequest`]s) at once,
//!   from one pass over the file.
//! - [`Panel`]: event rows → unit × period panels with counts as weights; validation of
//!   given panels (duplicates, balance).
//! - [`PanelRoles`]: the column roles of a unit × period design (DiD, synthetic control,
//!   attribution) read once into validated, masked [`PanelColumns`] (rows, or event rows
//!   aggregated to unit × period cells); [`kpi_panel`] builds a KPI's unit × period panel
//!   from event rows in one call.
//! - [`ColumnRoles`]: the user's column roles (unit, time, arm, KPIs, covariates, cluster,
//!   weight), validated once.
//! - [`describe()`]: column and KPI summaries.
//! - [`winsor`]: winsorising a review's KPIs on the rows (caps pooled over the arms).
//!
//! Errors are [`DataError`]s that name the column, row and value at fault.
#![warn(missing_docs)]
#![deny(clippy::float_cmp)]

pub mod ab_stats;
pub mod aggregate;
pub mod dataset;
pub mod describe;
pub mod design;
pub mod error;
pub mod kpi;
pub mod panel;
pub mod roles;
pub mod scan_moments;
pub mod winsor;

pub use aggregate::{
    kpi_moments, kpi_moments_many, moments_from_stats_rows, moments_from_stats_rows_for, GroupKey,
    GroupedMoments,
};
pub use causalkit_stats::{Factor, Moments};
pub use dataset::{check_csv, scan, Dataset, MissingPolicy};
pub use describe::{describe, Description};
pub use design::{kpi_panel, PanelColumns, PanelRoles, WeightRule};
pub use error::{DataError, Result};
pub use kpi::{Denominator, Kpi, KpiKind, OutOfRangeInput};
pub use panel::{Balance, Panel};
pub use roles::{ColumnRoles, RoleReport};
pub use scan_moments::{
    kpi_moments_scan, kpi_moments_scan_many, kpi_moments_scan_many_with, kpi_moments_scan_with,
    KpiRequest, ScanReader,
};

/// Builds a [`Factor`] from a label column (missing labels are an error naming the row).
pub fn factor(data: &Dataset, column: &str) -> Result<Factor> {
    let labels = data.labels(column)?;
    let present: Vec<bool> = labels.iter().map(Option::is_some).collect();
    dataset::missing_mask(&[(column, present)], labels.len(), MissingPolicy::Error)?;
    let labels: Vec<String> = labels.into_iter().flatten().collect();
    Ok(Factor::from_labels(column, &labels))
}

/// A numeric column with no missing values allowed.
pub fn numeric_column(data: &Dataset, column: &str) -> Result<Vec<f64>> {
    let v = data.numeric(column)?;
    let present: Vec<bool> = v.iter().map(Option::is_some).collect();
    dataset::missing_mask(&[(column, present)], v.len(), MissingPolicy::Error)?;
    Ok(v.into_iter().flatten().collect())
}

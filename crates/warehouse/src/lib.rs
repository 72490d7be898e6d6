//! causalkit-warehouse: the A/B aggregation runs where the rows live.
//!
//! Warehouse-native experimentation platforms (GrowthBook, Statsig, Eppo, Spotify
//! Confidence) push one sufficient-statistics query to the warehouse and do the small
//! algebra themselves; every A/B estimator causalkit has (means, proportions, ratio metrics
//! by the delta method, CUPED — Deng, Xu, Kohavi & Walker 2013 — and GrowthBook's ratio
//! regression adjustment) needs only per-group counts, sums and cross-products. This crate
//! turns a [`StatsRequest`] (arms, segments, metrics in the data layer's KPI grammar,
//! covariates, the analysis unit, shift constants) into SQL for seven dialects
//! ([`Dialect`]), runs it on an [`Engine`] (PostgreSQL behind the `postgres` feature, Spark Connect — Spark
//! clusters and Databricks — behind the `spark` feature), and
//! returns rows with GrowthBook's column names (`count`/`users`, `main_sum`,
//! `main_sum_squares`, `denominator_sum`, ..., `covariate_*`), which the `--stats` reader of
//! `causalkit_data` reads unchanged.
//!
//! The crate has no polars and no estimator: it only writes SQL and moves numbers.
#![deny(clippy::float_cmp)]
#![warn(missing_docs)]

pub mod dialect;
pub mod engine;
pub mod error;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod request;
#[cfg(feature = "spark")]
pub mod spark;
pub mod sql;

pub use dialect::Dialect;
pub use engine::{run_stats, Cell, ColumnType, Engine, Table};
pub use error::{Result, WarehouseError};
pub use request::{Adjustment, Denominator, Metric, MetricKind, Shift, StatsRequest, TableName};
pub use sql::stats_sql;

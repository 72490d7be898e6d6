//! causalkit-warehouse: the A/B aggregation runs where the rows live.
//!
//! Warehouse-native experimentation platforms (GrowthBook, Statsig, Eppo, Spotify
//! Confidence) push one sufficient-statistics query to the warehouse and do the small
//! algebra themselves; every A/B estimator causalkit has (means, proportions, ratio metrics
//! by the delta method, CUPED — Deng, Xu, Kohavi & Walker 2013 — and GrowthBook's ratio
//! regression adjustment) needs only per-group counts, sums and cross-products. This crate
//! turns a [`StatsRequest`] (arms, segments, metrics in the data layer's KPI grammar,
//! covariates, the analysis unit, shift constants) into SQL for seven dialects
//! ([`Dialect`]), runs it on an [`Engine`] ([`connect()`] opens one from its address:
//! PostgreSQL behind the `postgres` feature, Spark Connect behind `spark`), and
//! returns rows with GrowthBook's column names (`count`/`users`, `main_sum`,
//! `main_sum_squares`, `denominator_sum`, ..., `covariate_*`), which the `--stats` reader of
//! `causalkit_data` reads unchanged.
//!
//! The same for the unit × period panel of difference-in-differences and synthetic control:
//! a [`PanelRequest`] (events → unit × period KPI cells with their weights, cohort and
//! treated indicator) becomes one `GROUP BY` per dialect ([`panel_sql`]) and [`run_panel`]
//! returns the small [`PanelCells`].
//!
//! For the joint covariance of several KPIs' effects (release attribution), a
//! [`MomentsRequest`] becomes one statement ([`moments_sql`]) returning per arm each KPI's unit
//! count and sums and the centred cross-products of every KPI pair over shared units;
//! [`run_moments`] returns them as [`UnitMoments`].
//!
//! The crate has no polars and no estimator: it only writes SQL and moves numbers.
#![deny(clippy::float_cmp)]
#![warn(missing_docs)]

pub mod connect;
pub mod dialect;
pub mod engine;
pub mod error;
pub mod moments;
pub mod panel;
pub mod periods;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod request;
#[cfg(feature = "spark")]
pub mod spark;
pub mod sql;

pub use connect::connect;
pub use dialect::Dialect;
pub use engine::{run_stats, Cell, ColumnType, Engine, Table};
pub use error::{Result, WarehouseError};
pub use moments::{
    moments_check_sql, moments_sql, run_moments, CovariateMoments, MomentsRequest, UnitMoments,
};
pub use panel::{panel_sql, run_panel, PanelCells, PanelRequest, PanelTime};
pub use periods::{periods_sql, run_periods, PeriodArm, PeriodSums};
pub use request::{
    Adjustment, Caps, Denominator, Metric, MetricKind, Shift, StatsRequest, TableName, Winsor,
};
pub use sql::stats_sql;

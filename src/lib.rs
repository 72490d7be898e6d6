//! # causalkit
//!
//! Causal inference and experiment analysis in Rust: one data layer that feeds every
//! estimator, and one report. This facade re-exports the workspace crates for library users:
//!
//! - [`stats`]: the numeric core (least squares with fixed effects and robust/clustered
//!   variances, logistic regression, distributions, multiple testing, resampling,
//!   sufficient statistics, the common result type).
//! - [`data`]: the data layer (CSV/Parquet, KPI definitions, grouped sufficient statistics,
//!   panels, typed validation errors).
//! - [`report`]: plots (SVG/PNG with a bundled font).
//! - [`ab`]: A/B test analysis on sufficient statistics.
//! - [`did`]: difference-in-differences and staggered adoption.
//! - [`synth`]: synthetic control, synthetic DiD, augmented SC.
//! - [`uplift`]: uplift modelling (evaluation metrics, uplift trees and forests, gradient
//!   boosting, meta-learners).
//! - [`attribution`]: release attribution (a release spec and raw logs -> KPI effects -> money
//!   through a value tree; model errors ranked by money).
//! - [`warehouse`]: the A/B aggregation as SQL for warehouses (Spark SQL, PostgreSQL, BigQuery,
//!   Snowflake, Trino, DuckDB, ClickHouse).
//!
//! ```
//! use causalkit::stats::{LinearModel, Vcov, Report};
//! let fit = LinearModel::new("y", vec![1.0, 2.9, 5.2, 7.1, 8.8])
//!     .regressor("x", vec![0.0, 1.0, 2.0, 3.0, 4.0])
//!     .fit()
//!     .unwrap();
//! let table = fit.inference(&Vcov::Hc1, 0.05).unwrap();
//! assert!(table.result().to_json().contains("\"label\": \"x\""));
//! ```
//!
//! ## An A/B review in a few lines
//!
//! The data layer turns the rows into per-arm sufficient statistics for every metric at once;
//! the A/B crate's validated specification fits them (CUPED on the pre-period covariate,
//! guardrail, SRM check, verdict):
//!
//! ```
//! use causalkit::ab::review::{AbData, AbSpec, Guardrail, MetricCells, MetricData, MetricSpec};
//! use causalkit::ab::MetricType;
//! use causalkit::data::ab_stats::{ab_statistics, AbSource, AbStatsRequest};
//! use causalkit::data::{Dataset, Kpi, MissingPolicy};
//! use causalkit::stats::Report;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let rows = Dataset::read("datasets/contact-centre/ab_contacts.csv".as_ref())?;
//! let kpis: Vec<Kpi> = vec![
//!     "aht=ratio(handle_seconds, count)".parse()?,
//!     "repeat=proportion(repeat_contact)".parse()?,
//! ];
//! let request = AbStatsRequest {
//!     arm: "arm",
//!     segment: None,
//!     stratify: None,
//!     unit: None,
//!     covariates: &["pre_handle_seconds"],
//!     policy: MissingPolicy::Error,
//! };
//! let cells = ab_statistics(AbSource::Rows(&rows), &[&kpis[0], &kpis[1]], &request)?;
//!
//! let mut spec = AbSpec::new(vec![
//!     MetricSpec::new("aht", MetricType::Ratio),
//!     MetricSpec::new("repeat", MetricType::Proportion),
//! ]);
//! spec.set_lower_is_better(&["aht", "repeat"])?;
//! spec.primary = Some("aht".into());
//! spec.guardrails.push(Guardrail { metric: "repeat".into(), margin: 0.02 });
//! let review = spec.validate()?;
//! let data = AbData {
//!     metrics: kpis
//!         .iter()
//!         .zip(cells)
//!         .map(|(k, c)| MetricData::new(k.name.clone(), MetricCells::moments(c.segments)))
//!         .collect(),
//! };
//! let fit = review.fit(&data)?;
//! // Handle time fell by about 28 s per contact (the simulator's truth is 25 s).
//! let aht = &fit.comparisons[0].comparison.absolute;
//! assert!((aht.estimate + 28.29).abs() < 0.01);
//! assert_eq!(fit.verdict.as_ref().unwrap().decision.to_string(), "ship");
//! assert!(!fit.srm.as_ref().unwrap().mismatch);
//! println!("{}", fit.summary());
//! # Ok(()) }
//! ```
//!
//! ## Staggered adoption: Callaway & Sant'Anna
//!
//! ```
//! use causalkit::data::{numeric_column, Dataset};
//! use causalkit::did::cs::{att_gt, Aggregation, CsData, CsOptions};
//! use causalkit::stats::Report;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let d = Dataset::read("datasets/mpdta.csv".as_ref())?;
//! let unit: Vec<usize> = numeric_column(&d, "countyreal")?.iter().map(|&u| u as usize).collect();
//! let year: Vec<i64> = numeric_column(&d, "year")?.iter().map(|&t| t as i64).collect();
//! let cohort: Vec<i64> = numeric_column(&d, "first.treat")?.iter().map(|&g| g as i64).collect();
//! let lemp = numeric_column(&d, "lemp")?;
//! let data = CsData {
//!     unit: &unit,
//!     period: &year,
//!     cohort: &cohort,
//!     outcome: &lemp,
//!     covariates: vec![],
//!     weights: None,
//!     cluster: None,
//! };
//! let fit = att_gt(&data, &CsOptions::default())?;
//! let simple = fit.aggregate(&Aggregation::Simple)?;
//! // R `did`'s simple aggregation on mpdta: -0.0400.
//! assert!((simple.overall.estimate + 0.0400).abs() < 5e-4);
//! println!("{}", fit.summary());
//! # Ok(()) }
//! ```
//!
//! ## One treated unit: synthetic difference-in-differences
//!
//! ```
//! use causalkit::data::{numeric_column, Dataset};
//! use causalkit::synth::panel::SynthPanel;
//! use causalkit::synth::sdid::{sdid, SdidOptions};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let d = Dataset::read("datasets/california_prop99.csv".as_ref())?;
//! let state: Vec<String> = d.labels("State")?.into_iter().map(Option::unwrap_or_default).collect();
//! let year = numeric_column(&d, "Year")?;
//! let packs = numeric_column(&d, "PacksPerCapita")?;
//! let treated: Vec<bool> = state
//!     .iter()
//!     .zip(&year)
//!     .map(|(s, y)| s == "California" && *y >= 1989.0)
//!     .collect();
//! let panel = SynthPanel::from_long(&state, &year, &packs, &treated)?;
//! let fit = sdid(&panel, &SdidOptions::default())?;
//! // Arkhangelsky et al. (2021), Table 1 / R synthdid: -15.6.
//! assert!((fit.estimate + 15.6038).abs() < 1e-3);
//! # Ok(()) }
//! ```
//!
//! ## A release, attributed in money
//!
//! A release spec (TOML) names the data, the design, the KPIs and the value tree; one call
//! fits the design's estimator and turns the KPI effects into money with intervals:
//!
//! ```
//! use causalkit::attribution::{attribute, AttributeOptions};
//! use causalkit::stats::Report;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let spec = std::path::Path::new("datasets/intent-release/randomised.toml");
//! let review = attribute(spec, &AttributeOptions::default())?;
//! let result = review.result();
//! let aht = result.effects.iter().find(|e| e.label == "aht").unwrap();
//! // The simulator's true effect on handle time is -18.8 s (datasets/intent-release/truth.json).
//! assert!(aht.ci_low.unwrap() < -18.8 && -18.8 < aht.ci_high.unwrap());
//! # Ok(()) }
//! ```
#![warn(missing_docs)]
#![deny(clippy::float_cmp)]

pub use causalkit_ab as ab;
pub use causalkit_attribution as attribution;
pub use causalkit_data as data;
pub use causalkit_did as did;
pub use causalkit_report as report;
pub use causalkit_stats as stats;
pub use causalkit_synth as synth;
pub use causalkit_uplift as uplift;
pub use causalkit_warehouse as warehouse;

/// The README's Rust examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

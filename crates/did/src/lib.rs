//! # causalkit-did
//!
//! Difference-in-differences for a model release rolled out to sites at different dates:
//!
//! - [`twfe`]: the 2×2 regression and two-way fixed effects, CRV1 (one- and two-way)
//!   standard errors with fixest's conventions and a wild cluster bootstrap ([`wild`]).
//! - [`event_study`]: TWFE event study with leads, lags, binned end points, a chosen
//!   reference period and a joint pre-trend Wald test.
//! - [`sunab`]: Sun & Abraham (2021) interaction-weighted estimator.
//! - [`imputation`]: Borusyak, Jaravel & Spiess (2024) imputation estimator.
//! - [`cs`]: Callaway & Sant'Anna (2021) group-time ATTs.
//!
//! All staggered estimators take a [`StaggeredPanel`] (unit, period, outcome, first treated
//! period per row) and return types implementing [`causalkit_stats::Report`].
#![warn(missing_docs)]
#![deny(clippy::float_cmp)]

pub mod cs;
pub mod error;
pub mod event_study;
pub mod imputation;
pub mod panel;
pub mod sunab;
pub mod twfe;
pub mod wild;

pub use error::{DidError, Result};
pub use panel::StaggeredPanel;

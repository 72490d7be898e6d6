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
//! The staggered estimators take a [`StaggeredPanel`] (unit, period, outcome, first treated
//! period per row), Callaway–Sant'Anna takes row-level [`cs::CsData`] (panels or repeated
//! cross-sections, with weights and clusters); all return types implementing
//! [`causalkit_stats::Report`]. Errors are [`DidError`] (naming unit labels and periods) and,
//! for Callaway–Sant'Anna, [`cs::CsError`] (naming rows), which converts into [`DidError`].
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

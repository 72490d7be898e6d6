//! # causalkit-synth
//!
//! Synthetic control family: classic Abadie–Diamond–Hainmueller SC ([`abadie`]), the
//! ridge-augmented SC of Ben-Michael, Feller & Rothstein ([`ascm`]), and
//! synthetic difference-in-differences with its SC and DiD special cases ([`sdid`](mod@sdid);
//! with time-varying covariates in [`sdid_cov`]), with
//! placebo, bootstrap and jackknife standard errors and staggered adoption. Estimators work on
//! a units × periods outcome matrix ([`panel::SynthPanel`]). The in-space placebo (one refit
//! per donor, the RMSPE-ratio rank test) is written once in [`placebo`].
#![warn(missing_docs)]
#![deny(clippy::float_cmp)]

pub mod abadie;
pub mod ascm;
pub mod error;
pub mod fit_report;
pub mod panel;
pub mod placebo;
pub mod sdid;
pub mod sdid_cov;
mod sdid_se;
mod units;

pub use error::{Result, SynthError};
/// The matrix type of the panels and covariates (re-exported so callers need not depend on
/// nalgebra).
pub use nalgebra::DMatrix;
pub use panel::SynthPanel;
pub use sdid::{
    bootstrap_replicate, in_space_placebos, placebo_replicate, placebo_se_exact, sdid,
    sdid_inference, sdid_se, GapPath, SdidFit, SdidMethod, SdidOptions, SdidReport, SeMethod,
};

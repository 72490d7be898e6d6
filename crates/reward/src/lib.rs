//! # causalkit-reward — reward design
//!
//! ML teams train recommenders and chatbots on a composite reward such as
//! `R = w1*click + w2*add_to_cart + w3*purchase − w4*return`. This crate answers whether R
//! moves long-term value and how to set the weights:
//!
//! - [`calibrate`](mod@calibrate): the surrogate index (Athey, Chetty, Imbens & Kang 2019, "The surrogate
//!   index", NBER w26463) — the expected long-term outcome given the short-term signals,
//!   linear by default (its coefficients are the calibrated weights, with robust standard
//!   errors, seeded bootstrap intervals and cross-validated fit) or boosted; saved as a
//!   versioned JSON file.
//! - [`evaluate`](mod@evaluate): a reward in an experiment — the effect on R, on every component and on the
//!   surrogate index, with the joint covariance of the components from per-unit influence
//!   functions (so the effect on R is exactly the weighted sum of the component effects, with
//!   standard error `√(wᵀVw)`), CUPED, SRM and guardrails as in the A/B engine, and the
//!   surrogacy validation where the long-term outcome was observed.
//! - [`sensitivity`]: where the verdict on R flips over ranges of weights (a grid).
//! - [`choose`](mod@choose): the weights a value model implies, the weights that maximise
//!   predicted long-term value with guardrail KPIs held within margins (a second-order-cone
//!   program solved by clarabel; the formulation is in the module docs), and the Pareto
//!   frontier between long-term value and one KPI.
//! - [`expr`]: the linear reward expression.
//!
//! Pure numerics: no data frames and no IO other than the calibration file; the CLI's
//! `causalkit reward` reads the data and prints.
#![warn(missing_docs)]
#![deny(clippy::float_cmp)]

pub mod calibrate;
pub mod choose;
pub mod error;
pub mod evaluate;
pub mod expr;
pub mod sensitivity;

pub use calibrate::{calibrate, CalibrateOptions, Calibration, CalibrationData, IndexKind};
pub use choose::{choose, implied_weights, pareto, ChoiceProblem, GuardrailModel};
pub use error::{Result, RewardError};
pub use evaluate::{evaluate, EvaluateOptions, Evaluation, ExperimentData, GuardrailSpec};
pub use expr::Reward;

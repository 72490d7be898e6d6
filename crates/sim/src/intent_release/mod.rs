//! Release of a new **intent-classification model** in a contact centre, with exact ground
//! truth for release attribution (issue 12): KPI effects per design, money per value node and
//! money per confusion cell.
//!
//! Every contact has a true intent (the agent's disposition) and the live model's predicted
//! intent; the contact is routed by the prediction. A misroute (true `k` routed to `j != k`)
//! costs known, cell-specific handle seconds, resolution probability and CSAT; a correct
//! routing costs nothing. The new model has a different (mostly better) confusion matrix
//! than the old one, so the release's effect on every KPI is exactly the change in the
//! misroute mix times the cell penalties. [`write_intent_release`] writes the three designs
//! (`randomised.csv`, `rollout.csv`, `single_site.csv`), a release spec per design in the
//! TOML format of issue 12 (`randomised.toml`, `rollout.toml`, `single_site.toml`),
//! `errors.toml` and `truth.json`; [`simulate_intent_design`] and [`intent_truth`] give the
//! same in memory.
//!
//! # Generative model
//!
//! Notation: day `t = 1..D` (day 1 a Monday, `dow(t) = (t-1) mod 7`), site `s`, entry queue
//! `q` (channel chosen before routing), customer `c` with tier `τ_c`, true intent `k`,
//! predicted intent `j`, model `v ∈ {old, new}`. `U(-h, h)` is uniform.
//!
//! **World** (stream 10 of the seed): a seeded permutation of the sites fills the rollout
//! cohorts (the rest never adopt); per site a volume share `w_s ∝ U(1-ρ, 1+ρ)`, handle shift
//! `α_s ~ U(±site_handle_spread)`, resolution shift `α^f_s ~ U(±site_fcr_spread)` and intent
//! mix `π_{s,k} ∝ π_k · U(1-m, 1+m)` (`m = site_mix_spread`); per day
//! `γ_t = trend·(t-1) + weekday[dow] + U(±day_shock)` (seconds), likewise `γ^f_t` for the
//! resolution probability, and `N_t = round(contacts_per_day · weekday_volume[dow])`
//! contacts in each design.
//!
//! **Customers** (stream 11): tier `τ_c ~ Cat(tier shares)`, handle multiplier
//! `e_c = exp(u_c) / mean_c' exp(u_c')` with `u_c ~ N(0, σ_u²)` (so `e_c` averages exactly 1
//! over the population), and `pre_aht_c = e_c · mean over 1 + Poisson(λ) pre-period contacts
//! of (b_k' + η_q' + β_τc) · exp(σ ε − σ²/2)`, `k' ~ Cat(π)`, `q' ~ Cat(ρ)`: a per-customer
//! pre-period handle time, fixed before the release (unaffected by treatment), correlated with
//! handle time through `e_c` and `β_τ`.
//!
//! **Routing.** `P(j | k, q, v) = c_q · C^v[k][j]` for `j != k` and `1 − c_q (1 − C^v[k][k])`
//! on the diagonal: the base matrices `C^old`, `C^new` (row-stochastic, in the config) with the
//! off-diagonal scaled by the queue's `error_scale` `c_q`. Queues also shift handle time and
//! resolution, so the queue confounds a naive comparison of misrouted and correct contacts;
//! given the queue (and the true intent), the cell is independent of every other input.
//!
//! **Contacts** (design streams 12, 13, 14; a fixed number of draws per contact): on day `t`,
//! `N_t` contacts with site `s ~ Cat(w)`, customer uniform, queue `q ~ Cat(ρ)`, true intent
//! `k ~ Cat(π_s)`, the model `v` of the design (below), predicted `j ~ P(· | k, q, v)`, and
//!
//! * handle seconds `h = (b_k + α_s + γ_t + η_q + β_τ) · e_c · exp(σ ε − σ²/2) + P^h[k][j]`,
//!   `ε ~ N(0, 1)`; validation keeps the location positive, so `h > 0`;
//! * resolution `fcr ~ Bernoulli(p)`, `p = f_k + α^f_s + γ^f_t + η^f_q + β^f_τ − P^f[k][j]`;
//!   validation keeps `0 < p < 1` everywhere (no clipping);
//! * CSAT `= B − 1[not resolved] − 1[misrouted and U < Q[k][j]]` with the base score
//!   `B ∈ {3, 4, 5} ~ csat_base_k`, so `1 ≤ CSAT ≤ 5` and its mean is linear:
//!   `E = M_k − (1 − p) − Q[k][j]`, `M_k = E[B]`; observed (non-empty) iff surveyed,
//!   `Bernoulli(survey_rate)` independent of everything;
//! * repeat contact `~ Bernoulli(r_1)` if resolved, `Bernoulli(r_0)` if not.
//!
//! Penalties `P^h`, `P^f`, `Q` are 0 on the diagonal. Designs: **randomised** — each contact
//! independently in `treatment` (new model) with probability `treatment_probability`, else
//! `control`; **rollout** — site `s` runs the new model from its cohort's adoption day on;
//! **single site** — site `single_site` runs it from `single_site_start` on; every other
//! contact runs the old model.
//!
//! # Truth (expected values, never sample means)
//!
//! Expected KPIs at site `s`, day `t`, model `v` (all inputs are independent given `s`, `t`):
//!
//! ```text
//! pen_x(s, v) = Σ_k π_{s,k} Σ_q ρ_q Σ_{j≠k} P(j | k, q, v) X[k][j]          (X = P^h, P^f, Q)
//! aht(s,t,v)  = Σ_k π_{s,k} b_k + α_s + γ_t + Σ_q ρ_q η_q + mean_c(β_τc e_c) + pen_h(s, v)
//! fcr(s,t,v)  = Σ_k π_{s,k} f_k + α^f_s + γ^f_t + Σ_q ρ_q η^f_q + mean_c β^f_τc − pen_f(s, v)
//! csat(s,t,v) = Σ_k π_{s,k} M_k − 1 + fcr(s,t,v) − pen_Q(s, v)
//! repeat      = r_0 + fcr · (r_1 − r_0)
//! ```
//!
//! The release's effect at site `s` is `kpi(s,t,new) − kpi(s,t,old)`, the same every day
//! (only the misroute mix changes). Every untreated expectation is a site part plus a day
//! part, so **parallel trends hold in levels** for every KPI. Per design (`truth.json`):
//!
//! * `randomised`: levels over all contacts (weights `N_t w_s`); control = old, treatment = new.
//! * `rollout`: the ATT Callaway–Sant'Anna's simple aggregation targets on the site × day
//!   panel — equal weight per treated site-day, adoption day to day `D` —, the contact-weighted
//!   ATT, and per cohort (equal weight per site-day of the cohort).
//! * `single_site`: the switching site over days `single_site_start..=D`, equal weight per day.
//!
//! Money per value node is `node(levels_with) − node(levels_without)` with the specs'
//! constants (`handle_cost = contacts·aht·cost_per_second`, `followup_cost =
//! contacts·(1 − fcr)·cost_per_unresolved`, `total_cost` their sum), per `period`.
//! Per confusion cell (the errors spec reads `randomised.csv`, both arms): the expected share
//! of contacts in the cell, `Σ_s w_s π_{s,k} Σ_q ρ_q [(1−p_T) P(j|k,q,old) + p_T P(j|k,q,new)]`,
//! and the saving per period if they were routed correctly, `total_cost(levels) −
//! total_cost(levels with the cell fixed)` = `share · contacts · (P^h cost_per_second +
//! P^f cost_per_unresolved)`; cells are ranked by it.
//!
//! # Determinism
//!
//! `ChaCha8Rng::seed_from_u64(seed)` with streams 10–14 (disjoint from the contact-centre
//! simulator's 0–4); the same config gives byte-identical files.

mod config;
mod model;
mod truth;
mod write;

pub use config::{
    IntentParams, IntentReleaseConfig, QueueParams, RolloutCohort, TierParams, ValueConstants,
};
pub use model::{IntentContact, IntentDesign};
pub use truth::{
    CellPenalty, CellTruth, ConfusionTruth, DesignTruth, ErrorsTruth, FixTopK, IntentCohortTruth,
    IntentRolloutTruth, IntentSingleSiteTruth, IntentSiteTruth, IntentTruth, KpiValues, NodeMoney,
};
pub use write::{
    intent_spec_toml, write_intent_csv, write_intent_release, IntentWritten, ERRORS_SPEC_FILE,
    INTENT_COMMON_COLUMNS, INTENT_TRUTH_FILE, RANDOMISED_FILE, ROLLOUT_FILE,
    SINGLE_SITE_INTENT_FILE, VALUE_NODES,
};

use crate::error::SimError;

/// Simulates one design's contacts in memory (the rows of its CSV file).
pub fn simulate_intent_design(
    config: &IntentReleaseConfig,
    design: IntentDesign,
) -> Result<Vec<IntentContact>, SimError> {
    config.validate()?;
    let world = model::IntentWorld::new(config);
    let customers = model::IntentCustomers::new(config);
    Ok(model::simulate_design(config, &world, &customers, design))
}

/// The exact truth written to `truth.json`.
pub fn intent_truth(config: &IntentReleaseConfig) -> Result<IntentTruth, SimError> {
    config.validate()?;
    let world = model::IntentWorld::new(config);
    let customers = model::IntentCustomers::new(config);
    Ok(truth::intent_truth_from(config, &world, &customers))
}

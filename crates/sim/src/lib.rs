//! Simulator of contact-centre operational data with **known ground truth**, for
//! testing causal estimators (A/B analysis, CUPED, staggered difference-in-differences).
//!
//! Contacts (calls/chats) are handled by agents at sites; a new intent-routing model is
//! released either by contact-level randomisation (A/B design) or site by site
//! (staggered rollout). [`write_contact_centre`] writes `ab_contacts.csv`,
//! `staggered_contacts.csv` and `truth.json`; [`simulate_ab`], [`simulate_staggered`]
//! and [`truth`] give the same data in memory. [`intent_release`] simulates the release of a
//! new intent-classification model (randomised, rollout and single-site designs, release
//! specs, and the true KPI effects, money per value node and per confusion cell).
//!
//! # Generative model
//!
//! Notation: day `t = 1..D` (day 1 is a Monday, `dow(t) = (t-1) mod 7`), site `s`,
//! agent `a` of site `s`, customer `c`, intent `k`, tier `τ`. `U(-h, h)` is uniform.
//!
//! **World** (drawn once per seed from its own stream, shared by both designs):
//! * site volume shares `w_s = ω_s / Σ ω`, `ω_s ~ U(1-ρ, 1+ρ)`;
//! * rollout cohorts: a random permutation of the sites is filled cohort by cohort
//!   (`rollout.cohorts[i].sites` each); the remaining sites are never treated;
//! * site shifts `α_s = U(-site_spread_seconds, site_spread_seconds) + sel_aht(g(s))` and
//!   `α^f_s = U(-site_spread, site_spread) + sel_fcr(g(s))`, where `sel_*` are the selection
//!   offsets of the site's rollout cohort (0 for never-treated sites);
//! * agent effects `λ_a ~ N(0, agent_log_sd²)` (log handle time) and resolution shifts
//!   `λ^f_a`, uniform and centred so that they average exactly zero within each site;
//! * day shifts `γ_t = trend·(t-1) + weekday[dow(t)] + U(-day_shock, day_shock)` for handle
//!   time (seconds) and `γ^f_t` likewise for the resolution probability;
//! * contacts per day `N_t = round(contacts_per_day · weekday_volume[dow(t)])`, `N = Σ N_t`.
//!
//! **Customers** (own stream, shared): tier `τ_c ~ Cat(tier_shares)`, log effect
//! `u_c ~ N(0, customer_log_sd²)`, and `pre_handle_seconds` = the mean over
//! `1 + Poisson(pre_contacts_mean)` pre-period contacts of
//! `F + β_τc + exp(μ_k + u_c + λ + σ ε)` with `k ~ Cat(π)`, `λ ~ N(0, agent_log_sd²)`,
//! `ε ~ N(0, 1)` (no site or day shifts in the pre-period). It is correlated with
//! `handle_seconds` through `u_c` and `β_τ` — a CUPED covariate unaffected by treatment.
//!
//! **Contacts** (own stream per design): on day `t`, `N_t` contacts, each with site
//! `s ~ Cat(w)`, agent uniform in `s`, customer uniform, intent `k ~ Cat(π)`. With `D_i`
//! the treatment indicator and `m_i` the effect multiplier (`m = 1` for treated A/B
//! contacts, `m = s_g · min(1, (e+1)/R)` for treated staggered contacts of cohort `g` at
//! event time `e = t - g`, `m = 0` when untreated):
//!
//! * handle time: `h = F + α_s + γ_t + β_τ + exp(μ_k + λ_a + u_c + σ ε) + m·δ`.
//!   Validation guarantees `F + min α + min γ + min(0, m·δ) > 0`, so `h > 0` without clipping.
//! * resolution: `fcr ~ Bernoulli(p)`, `p = b_k + α^f_s + γ^f_t + λ^f_a + m·d`; validation
//!   guarantees `0 < p < 1` for every combination, so no clipping.
//! * CSAT: score `S ~ P_{k,fcr}` (a distribution on 1..5 per intent and resolution status);
//!   then with probability `m·q` the score moves up one point if below 5. It is observed
//!   (the `csat` column is non-empty) iff the contact is surveyed, `Bernoulli(survey_rate)`
//!   independent of everything, so surveyed means equal population means.
//! * repeat contact: `Bernoulli(r_1)` if resolved, `Bernoulli(r_0)` if not.
//!
//! Every untreated expected outcome is additive in a site part and a day part
//! (`E[h | s, t] = const_s + γ_t`, `E[p | s, t] = const_s + γ^f_t`, and expected CSAT and
//! repeat rates are affine in `p`), so **parallel trends hold in levels**; the trend, the
//! weekly seasonality and the selection offsets of early cohorts bias naive before/after
//! and treated-vs-untreated comparisons, and cohort-specific, ramping effects bias
//! two-way fixed-effects regressions (with the default parameters, a contact-level TWFE
//! regression on `model_live` recovers only roughly 55–75% of the true overall ATT).
//!
//! # Files
//!
//! `ab_contacts.csv` and `staggered_contacts.csv` have a header row and the columns
//! [`COMMON_COLUMNS`] (`contact_id, day, site, queue, agent, intent, customer_id,
//! customer_tier, pre_handle_seconds, handle_seconds, fcr, csat, repeat_contact`) followed
//! by `arm` (`control`/`treatment`) or by `adoption_day` (0 = never) and `model_live`
//! (0/1). Rows are ordered by day; seconds have one decimal (the truth refers to the
//! unrounded values; rounding moves a mean by far less than its standard error); `fcr`,
//! `repeat_contact` and `model_live` are 0/1; `csat` is empty when not surveyed.
//! `truth.json` serialises [`Truth`]: `parameters` (the whole config, seed included),
//! `ab` ([`AbTruth`]), `staggered` ([`StaggeredTruth`]), and the drawn `sites` and `days`
//! effects.
//!
//! # True effects
//!
//! For a treated contact with multiplier `m`, exactly: AHT `m·δ` seconds, FCR `m·d`,
//! repeat contact `m·d·(r_1 - r_0)`. For CSAT, with `M_{k,r} = Σ_j j·P_{k,r}(j)`,
//! `T_{k,r} = 1 - P_{k,r}(5)` and `f̄_k` the mean untreated resolution probability of intent
//! `k` in the population considered (agents average out):
//!
//! ```text
//! τ_csat(m) = Σ_k π_k [ m·d·(M_{k,1} - M_{k,0})                                  (via FCR)
//!                     + m·q·((f̄_k + m·d)·T_{k,1} + (1 - f̄_k - m·d)·T_{k,0}) ]   (direct)
//! ```
//!
//! * A/B: `m = 1` and `f̄_k = b_k + Σ_s w_s α^f_s + Σ_t N_t γ^f_t / N`.
//! * Staggered cell (cohort `g`, event time `e`, day `t = g + e`):
//!   `m = s_g·min(1, (e+1)/R)` and `f̄_k = b_k + Σ_{s∈g} w_s α^f_s / W_g + γ^f_t`,
//!   `W_g = Σ_{s∈g} w_s`. The cell has `N_t·W_g` expected contacts; cohort, event-time and
//!   overall ATTs average cells with these weights (the ATT over treated contacts in
//!   expectation).
//!
//! See [`Truth`] for the fields written to `truth.json`.
//!
//! # Determinism
//!
//! All randomness comes from `ChaCha8Rng::seed_from_u64(seed)` with separate streams
//! (`set_stream`) for the world (0), customers (1), the A/B contacts (2) and the staggered
//! contacts (3); each contact consumes a fixed number of draws. The single-site release
//! design ([`single_site`], file `single_site_contacts.csv`, truth key `single_site`) uses
//! stream 4 only, so adding it left the other files and keys unchanged. The same config gives
//! byte-identical files.

#![warn(missing_docs)]
#![deny(clippy::float_cmp)]

mod config;
mod error;
pub mod intent_release;
mod model;
pub mod recommender;
mod record;
mod simulate;
pub mod single_site;
mod truth;
pub mod uplift;
mod write;

pub use config::{
    CohortSpec, ContactCentreConfig, HandleTimeModel, IntentSpec, ResolutionModel, RolloutSpec,
    TreatmentEffects,
};
pub use error::SimError;
pub use record::{site_label, Arm, Assignment, Contact, Tier};
pub use simulate::{simulate_ab, simulate_staggered};
pub use truth::{
    truth, AbTruth, CohortEventTruth, CohortTruth, DayTruth, Effects, EventTimeTruth, Means,
    OverallAtt, SiteTruth, StaggeredTruth, Truth,
};
pub use write::{
    write_contact_centre, write_contacts_csv, Written, AB_COLUMNS, AB_FILE, COMMON_COLUMNS,
    STAGGERED_COLUMNS, STAGGERED_FILE, TRUTH_FILE,
};

#[cfg(test)]
mod tests;

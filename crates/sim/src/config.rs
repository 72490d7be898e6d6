//! Simulation parameters and their validation.

use serde::{Deserialize, Serialize};

use crate::error::SimError;

/// One contact reason ("intent") with its own base rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentSpec {
    /// Intent label written to the `intent` column, e.g. `"billing_inquiry"`.
    pub name: String,
    /// Queue the intent is routed to, written to the `queue` column, e.g. `"billing"`.
    pub queue: String,
    /// Probability `π_k` that a contact has this intent (shares must sum to 1).
    pub share: f64,
    /// Base first-contact-resolution probability `b_k` before site, day and agent shifts.
    pub fcr_base: f64,
    /// Log-scale location `μ_k` of the lognormal part of handle time.
    pub handle_log_mean: f64,
    /// CSAT score distribution `P_{k,1}(s)`, s = 1..5, for resolved contacts.
    pub csat_if_resolved: [f64; 5],
    /// CSAT score distribution `P_{k,0}(s)`, s = 1..5, for unresolved contacts.
    pub csat_if_unresolved: [f64; 5],
}

/// Handle-time model (seconds) for untreated contacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandleTimeModel {
    /// Floor `F` added to every handle time (seconds); the lognormal part is added on top.
    pub floor_seconds: f64,
    /// Standard deviation `σ` of the contact-level log-normal noise.
    pub log_sd: f64,
    /// Standard deviation `σ_u` of the customer-level log effect `u_c` (drives the
    /// correlation between `pre_handle_seconds` and `handle_seconds`).
    pub customer_log_sd: f64,
    /// Standard deviation of the agent-level log effect `λ_a`.
    pub agent_log_sd: f64,
    /// Half-width of the uniform site effect on handle time (seconds).
    pub site_spread_seconds: f64,
    /// Additive tier effect `β_τ` (seconds) for bronze, silver, gold; must be `>= 0`.
    pub tier_seconds: [f64; 3],
    /// Linear day trend (seconds per day, applied as `trend * (day - 1)`).
    pub trend_seconds_per_day: f64,
    /// Weekly seasonality (seconds) by day of week, day 1 = Monday.
    pub weekday_seconds: [f64; 7],
    /// Half-width of the uniform common day shock (seconds).
    pub day_shock_seconds: f64,
}

/// First-contact-resolution and repeat-contact model for untreated contacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolutionModel {
    /// Half-width of the uniform site shift of the resolution probability.
    pub site_spread: f64,
    /// Half-width of the uniform agent shift, centred within each site (so the shifts
    /// of a site's agents average exactly zero; the bound used in validation is twice this).
    pub agent_spread: f64,
    /// Linear day trend of the resolution probability, applied as `trend * (day - 1)`.
    pub trend_per_day: f64,
    /// Weekly seasonality of the resolution probability by day of week, day 1 = Monday.
    pub weekday: [f64; 7],
    /// Half-width of the uniform common day shock of the resolution probability.
    pub day_shock: f64,
    /// Probability of a repeat contact when the contact was resolved (`r_1`).
    pub repeat_if_resolved: f64,
    /// Probability of a repeat contact when the contact was not resolved (`r_0`).
    pub repeat_if_unresolved: f64,
}

/// Long-run (full) treatment effect of the new intent-routing model on one contact.
///
/// The A/B design applies exactly these effects to every treated contact; the staggered
/// design multiplies them by the cohort's `effect_scale` and the ramp factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreatmentEffects {
    /// Additive shift `δ` of handle time, seconds (negative = faster).
    pub aht_seconds: f64,
    /// Additive shift `d` of the resolution probability.
    pub fcr: f64,
    /// Probability `q` that a treated contact's CSAT score moves up one point (if below 5).
    pub csat_uplift_prob: f64,
}

/// One adoption cohort of the staggered rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortSpec {
    /// First treated day `g` (1..=days) of every site in the cohort.
    pub adoption_day: u32,
    /// Number of sites in the cohort.
    pub sites: u32,
    /// Multiplier `s_g >= 0` of the long-run effects for this cohort (effect heterogeneity).
    pub effect_scale: f64,
    /// Time-invariant handle-time offset (seconds) of this cohort's sites: selection into
    /// adoption. It is part of the site baseline in both designs.
    pub selection_aht_seconds: f64,
    /// Time-invariant resolution-probability offset of this cohort's sites (selection).
    pub selection_fcr: f64,
}

/// Staggered rollout design: cohorts of sites adopting on different days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutSpec {
    /// Adoption cohorts (distinct adoption days); sites not in any cohort are never treated.
    pub cohorts: Vec<CohortSpec>,
    /// Ramp length `R >= 1` in days: at event time `e` the effect is `min(1, (e+1)/R)`
    /// of the cohort's long-run effect (`R = 1` means immediate full effect).
    pub ramp_days: u32,
}

/// All parameters of the contact-centre simulation.
///
/// `Default` gives the committed example data set: 56 days, 8 sites of 12 agents,
/// 360 contacts per day on average (20,160 contacts per design), 6,000 customers.
/// Use [`ContactCentreConfig::scaled`] or set `contacts_per_day` / `customers` to scale up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactCentreConfig {
    /// Seed of every random stream (world, customers, A/B, staggered).
    pub seed: u64,
    /// Number of days `D` (days are numbered 1..=D; day 1 is a Monday).
    pub days: u32,
    /// Average contacts per day in each design, before the weekday volume pattern.
    pub contacts_per_day: u32,
    /// Weekday volume multipliers `v` (Monday first): day `t` has
    /// `N_t = round(contacts_per_day * v[(t-1) mod 7])` contacts.
    pub weekday_volume: [f64; 7],
    /// Number of sites.
    pub sites: u32,
    /// Agents per site.
    pub agents_per_site: u32,
    /// Half-width `ρ` of the site volume weights `ω_s ~ U(1-ρ, 1+ρ)`, in `[0, 1)`.
    pub site_volume_spread: f64,
    /// Size of the customer population shared by both designs.
    pub customers: u32,
    /// Customer tier probabilities (bronze, silver, gold); must sum to 1.
    pub tier_shares: [f64; 3],
    /// Mean of the Poisson number of extra pre-period contacts per customer
    /// (each customer has `1 + Poisson(pre_contacts_mean)` pre-period contacts).
    pub pre_contacts_mean: f64,
    /// Probability that a contact is surveyed (CSAT observed), independent of everything.
    pub survey_rate: f64,
    /// Contact intents.
    pub intents: Vec<IntentSpec>,
    /// Handle-time model.
    pub handle: HandleTimeModel,
    /// Resolution and repeat-contact model.
    pub resolution: ResolutionModel,
    /// Long-run treatment effects.
    pub effects: TreatmentEffects,
    /// Staggered rollout design.
    pub rollout: RolloutSpec,
}

const RESOLVED_DEFAULT: [f64; 5] = [0.03, 0.05, 0.14, 0.36, 0.42];
const UNRESOLVED_DEFAULT: [f64; 5] = [0.22, 0.24, 0.28, 0.18, 0.08];

fn intent(
    name: &str,
    queue: &str,
    share: f64,
    fcr_base: f64,
    median_excess_seconds: f64,
    resolved: [f64; 5],
    unresolved: [f64; 5],
) -> IntentSpec {
    IntentSpec {
        name: name.to_string(),
        queue: queue.to_string(),
        share,
        fcr_base,
        handle_log_mean: median_excess_seconds.ln(),
        csat_if_resolved: resolved,
        csat_if_unresolved: unresolved,
    }
}

impl Default for ContactCentreConfig {
    fn default() -> Self {
        Self {
            seed: 20_240_601,
            days: 56,
            contacts_per_day: 360,
            weekday_volume: [1.15, 1.10, 1.05, 1.00, 0.95, 0.85, 0.90],
            sites: 8,
            agents_per_site: 12,
            site_volume_spread: 0.25,
            customers: 6_000,
            tier_shares: [0.6, 0.3, 0.1],
            pre_contacts_mean: 2.0,
            survey_rate: 0.30,
            intents: vec![
                intent(
                    "billing_inquiry",
                    "billing",
                    0.28,
                    0.76,
                    150.0,
                    RESOLVED_DEFAULT,
                    UNRESOLVED_DEFAULT,
                ),
                intent(
                    "payment_arrangement",
                    "billing",
                    0.17,
                    0.70,
                    220.0,
                    RESOLVED_DEFAULT,
                    UNRESOLVED_DEFAULT,
                ),
                intent(
                    "technical_fault",
                    "tech",
                    0.22,
                    0.58,
                    340.0,
                    [0.05, 0.07, 0.18, 0.36, 0.34],
                    [0.30, 0.26, 0.24, 0.14, 0.06],
                ),
                intent(
                    "device_setup",
                    "tech",
                    0.15,
                    0.66,
                    260.0,
                    RESOLVED_DEFAULT,
                    UNRESOLVED_DEFAULT,
                ),
                intent(
                    "plan_upgrade",
                    "sales",
                    0.18,
                    0.74,
                    190.0,
                    [0.02, 0.04, 0.12, 0.34, 0.48],
                    [0.15, 0.20, 0.30, 0.24, 0.11],
                ),
            ],
            handle: HandleTimeModel {
                floor_seconds: 120.0,
                log_sd: 0.35,
                customer_log_sd: 0.50,
                agent_log_sd: 0.12,
                site_spread_seconds: 25.0,
                tier_seconds: [0.0, 20.0, 40.0],
                trend_seconds_per_day: 0.6,
                weekday_seconds: [12.0, 6.0, 0.0, -3.0, -6.0, -10.0, 1.0],
                day_shock_seconds: 8.0,
            },
            resolution: ResolutionModel {
                site_spread: 0.04,
                agent_spread: 0.04,
                trend_per_day: -0.0006,
                weekday: [-0.01, 0.0, 0.005, 0.005, 0.0, -0.005, 0.005],
                day_shock: 0.015,
                repeat_if_resolved: 0.08,
                repeat_if_unresolved: 0.40,
            },
            effects: TreatmentEffects {
                aht_seconds: -25.0,
                fcr: 0.05,
                csat_uplift_prob: 0.10,
            },
            rollout: RolloutSpec {
                cohorts: vec![
                    CohortSpec {
                        adoption_day: 15,
                        sites: 2,
                        effect_scale: 1.25,
                        selection_aht_seconds: 20.0,
                        selection_fcr: -0.02,
                    },
                    CohortSpec {
                        adoption_day: 29,
                        sites: 2,
                        effect_scale: 1.0,
                        selection_aht_seconds: 10.0,
                        selection_fcr: -0.01,
                    },
                    CohortSpec {
                        adoption_day: 43,
                        sites: 2,
                        effect_scale: 0.6,
                        selection_aht_seconds: 0.0,
                        selection_fcr: 0.0,
                    },
                ],
                ramp_days: 14,
            },
        }
    }
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> SimError {
    SimError::InvalidConfig {
        field: field.into(),
        reason: reason.into(),
    }
}

fn check_finite(field: &str, x: f64) -> Result<(), SimError> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(invalid(field, format!("must be finite, got {x}")))
    }
}

fn check_prob(field: &str, x: f64) -> Result<(), SimError> {
    if (0.0..=1.0).contains(&x) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("must be a probability in [0, 1], got {x}"),
        ))
    }
}

fn check_distribution(field: &str, probs: &[f64]) -> Result<(), SimError> {
    for (i, &p) in probs.iter().enumerate() {
        check_prob(&format!("{field}[{i}]"), p)?;
    }
    let sum: f64 = probs.iter().sum();
    if (sum - 1.0).abs() > 1e-9 {
        return Err(invalid(field, format!("must sum to 1, sums to {sum}")));
    }
    Ok(())
}

/// Contacts `N_t` on day `t` (1-based): the daily volume times the weekday's multiplier,
/// rounded (both simulators' volume rule).
pub(crate) fn contacts_on_day(per_day: u32, weekday_volume: &[f64; 7], day: u32) -> u32 {
    let v = weekday_volume[((day - 1) % 7) as usize];
    (f64::from(per_day) * v).round() as u32
}

/// `Σ_t N_t` over days `1..=days` (see [`contacts_on_day`]).
pub(crate) fn contacts_over_days(per_day: u32, weekday_volume: &[f64; 7], days: u32) -> u64 {
    (1..=days)
        .map(|t| u64::from(contacts_on_day(per_day, weekday_volume, t)))
        .sum()
}

impl ContactCentreConfig {
    /// Returns a copy with `contacts_per_day` and `customers` multiplied by `factor`
    /// (so contacts per customer stay the same); everything else is unchanged.
    pub fn scaled(&self, factor: u32) -> Self {
        let mut c = self.clone();
        c.contacts_per_day = c.contacts_per_day.saturating_mul(factor);
        c.customers = c.customers.saturating_mul(factor);
        c
    }

    /// Returns a copy with a different seed.
    pub fn with_seed(&self, seed: u64) -> Self {
        let mut c = self.clone();
        c.seed = seed;
        c
    }

    /// Number of contacts `N_t` on day `t` (1-based) in each design.
    pub fn contacts_on_day(&self, day: u32) -> u32 {
        contacts_on_day(self.contacts_per_day, &self.weekday_volume, day)
    }

    /// Total number of contacts in each design, `Σ_t N_t` (deterministic).
    pub fn contacts_per_design(&self) -> u64 {
        contacts_over_days(self.contacts_per_day, &self.weekday_volume, self.days)
    }

    /// Largest effect multiplier any treated contact can receive:
    /// `max(1, max_g s_g)` (the A/B design uses 1).
    pub(crate) fn max_effect_scale(&self) -> f64 {
        self.rollout
            .cohorts
            .iter()
            .map(|c| c.effect_scale)
            .fold(1.0, f64::max)
    }

    /// Bounds (min, max) of the deterministic-plus-shock day shift of handle time.
    fn day_aht_bounds(&self) -> (f64, f64) {
        let h = &self.handle;
        day_bounds(
            self.days,
            h.trend_seconds_per_day,
            &h.weekday_seconds,
            h.day_shock_seconds,
        )
    }

    fn day_fcr_bounds(&self) -> (f64, f64) {
        let r = &self.resolution;
        day_bounds(self.days, r.trend_per_day, &r.weekday, r.day_shock)
    }

    /// Checks every parameter; the error names the offending field.
    ///
    /// Besides ranges of individual fields this verifies, from the parameters alone
    /// (conservative bounds valid for every seed), that handle times stay positive and
    /// that resolution probabilities stay strictly inside (0, 1) for treated and
    /// untreated contacts, so the true effects hold exactly without clipping.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.days == 0 {
            return Err(invalid("days", "must be at least 1"));
        }
        if self.contacts_per_day == 0 {
            return Err(invalid("contacts_per_day", "must be at least 1"));
        }
        for (i, &v) in self.weekday_volume.iter().enumerate() {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(
                    format!("weekday_volume[{i}]"),
                    format!("must be positive, got {v}"),
                ));
            }
        }
        if self.sites == 0 {
            return Err(invalid("sites", "must be at least 1"));
        }
        if self.agents_per_site == 0 {
            return Err(invalid("agents_per_site", "must be at least 1"));
        }
        if !(0.0..1.0).contains(&self.site_volume_spread) {
            return Err(invalid(
                "site_volume_spread",
                format!("must be in [0, 1), got {}", self.site_volume_spread),
            ));
        }
        if self.customers == 0 {
            return Err(invalid("customers", "must be at least 1"));
        }
        check_distribution("tier_shares", &self.tier_shares)?;
        if !(self.pre_contacts_mean.is_finite() && self.pre_contacts_mean > 0.0) {
            return Err(invalid(
                "pre_contacts_mean",
                format!("must be positive, got {}", self.pre_contacts_mean),
            ));
        }
        check_prob("survey_rate", self.survey_rate)?;
        if self.survey_rate == 0.0 {
            return Err(invalid("survey_rate", "must be positive"));
        }

        // Intents.
        if self.intents.is_empty() {
            return Err(invalid("intents", "must contain at least one intent"));
        }
        let mut share_sum = 0.0;
        for (i, it) in self.intents.iter().enumerate() {
            let f = |name: &str| format!("intents[{i}].{name}");
            if it.name.is_empty() || it.name.contains([',', '"', '\n', '\r']) {
                return Err(invalid(
                    f("name"),
                    "must be non-empty without , \" or newlines",
                ));
            }
            if it.queue.is_empty() || it.queue.contains([',', '"', '\n', '\r']) {
                return Err(invalid(
                    f("queue"),
                    "must be non-empty without , \" or newlines",
                ));
            }
            check_prob(&f("share"), it.share)?;
            share_sum += it.share;
            check_prob(&f("fcr_base"), it.fcr_base)?;
            check_finite(&f("handle_log_mean"), it.handle_log_mean)?;
            check_distribution(&f("csat_if_resolved"), &it.csat_if_resolved)?;
            check_distribution(&f("csat_if_unresolved"), &it.csat_if_unresolved)?;
        }
        if (share_sum - 1.0).abs() > 1e-9 {
            return Err(invalid(
                "intents[].share",
                format!("must sum to 1, sums to {share_sum}"),
            ));
        }

        // Handle-time model.
        let h = &self.handle;
        for (name, x) in [
            ("handle.floor_seconds", h.floor_seconds),
            ("handle.log_sd", h.log_sd),
            ("handle.customer_log_sd", h.customer_log_sd),
            ("handle.agent_log_sd", h.agent_log_sd),
            ("handle.site_spread_seconds", h.site_spread_seconds),
            ("handle.day_shock_seconds", h.day_shock_seconds),
        ] {
            if !(x.is_finite() && x >= 0.0) {
                return Err(invalid(name, format!("must be finite and >= 0, got {x}")));
            }
        }
        check_finite("handle.trend_seconds_per_day", h.trend_seconds_per_day)?;
        for (i, &x) in h.tier_seconds.iter().enumerate() {
            if !(x.is_finite() && x >= 0.0) {
                return Err(invalid(
                    format!("handle.tier_seconds[{i}]"),
                    format!("must be finite and >= 0, got {x}"),
                ));
            }
        }
        for (i, &x) in h.weekday_seconds.iter().enumerate() {
            check_finite(&format!("handle.weekday_seconds[{i}]"), x)?;
        }

        // Resolution model.
        let r = &self.resolution;
        for (name, x) in [
            ("resolution.site_spread", r.site_spread),
            ("resolution.agent_spread", r.agent_spread),
            ("resolution.day_shock", r.day_shock),
        ] {
            if !(x.is_finite() && x >= 0.0) {
                return Err(invalid(name, format!("must be finite and >= 0, got {x}")));
            }
        }
        check_finite("resolution.trend_per_day", r.trend_per_day)?;
        for (i, &x) in r.weekday.iter().enumerate() {
            check_finite(&format!("resolution.weekday[{i}]"), x)?;
        }
        check_prob("resolution.repeat_if_resolved", r.repeat_if_resolved)?;
        check_prob("resolution.repeat_if_unresolved", r.repeat_if_unresolved)?;

        // Rollout.
        let ro = &self.rollout;
        if ro.ramp_days == 0 {
            return Err(invalid("rollout.ramp_days", "must be at least 1"));
        }
        let mut cohort_sites: u64 = 0;
        for (i, c) in ro.cohorts.iter().enumerate() {
            let f = |name: &str| format!("rollout.cohorts[{i}].{name}");
            if c.adoption_day == 0 || c.adoption_day > self.days {
                return Err(invalid(
                    f("adoption_day"),
                    format!("must be in 1..={}, got {}", self.days, c.adoption_day),
                ));
            }
            if ro.cohorts[..i]
                .iter()
                .any(|o| o.adoption_day == c.adoption_day)
            {
                return Err(invalid(
                    f("adoption_day"),
                    format!("duplicates adoption day {}", c.adoption_day),
                ));
            }
            if c.sites == 0 {
                return Err(invalid(f("sites"), "must be at least 1"));
            }
            cohort_sites += u64::from(c.sites);
            if !(c.effect_scale.is_finite() && c.effect_scale >= 0.0) {
                return Err(invalid(
                    f("effect_scale"),
                    format!("must be finite and >= 0, got {}", c.effect_scale),
                ));
            }
            check_finite(&f("selection_aht_seconds"), c.selection_aht_seconds)?;
            check_finite(&f("selection_fcr"), c.selection_fcr)?;
        }
        if cohort_sites > u64::from(self.sites) {
            return Err(invalid(
                "rollout.cohorts[].sites",
                format!(
                    "cohorts use {cohort_sites} sites but only {} exist",
                    self.sites
                ),
            ));
        }

        // Effects.
        let e = &self.effects;
        check_finite("effects.aht_seconds", e.aht_seconds)?;
        check_finite("effects.fcr", e.fcr)?;
        check_prob("effects.csat_uplift_prob", e.csat_uplift_prob)?;
        let m = self.max_effect_scale();
        if e.csat_uplift_prob * m > 1.0 {
            return Err(invalid(
                "effects.csat_uplift_prob",
                format!(
                    "times the largest effect scale {m} must be <= 1, got {}",
                    e.csat_uplift_prob * m
                ),
            ));
        }

        // Positivity of handle time without clipping.
        let sel_aht_min = ro
            .cohorts
            .iter()
            .map(|c| c.selection_aht_seconds)
            .fold(0.0, f64::min);
        let (day_aht_min, _) = self.day_aht_bounds();
        let base_min = h.floor_seconds - h.site_spread_seconds + sel_aht_min + day_aht_min;
        if base_min <= 0.0 {
            return Err(invalid(
                "handle.floor_seconds",
                format!(
                    "floor {} minus site spread, selection offsets and day shifts must stay positive (lower bound {base_min})",
                    h.floor_seconds
                ),
            ));
        }
        let treated_min = base_min + (e.aht_seconds * m).min(0.0);
        if treated_min <= 0.0 {
            return Err(invalid(
                "effects.aht_seconds",
                format!(
                    "effect {} (x scale {m}) exceeds the handle-time floor margin {base_min}",
                    e.aht_seconds
                ),
            ));
        }

        // Resolution probabilities strictly inside (0, 1) without clipping.
        let sel_f_min = ro
            .cohorts
            .iter()
            .map(|c| c.selection_fcr)
            .fold(0.0, f64::min);
        let sel_f_max = ro
            .cohorts
            .iter()
            .map(|c| c.selection_fcr)
            .fold(0.0, f64::max);
        let (day_f_min, day_f_max) = self.day_fcr_bounds();
        let spread = r.site_spread + 2.0 * r.agent_spread;
        let (eff_lo, eff_hi) = ((e.fcr * m).min(0.0), (e.fcr * m).max(0.0));
        for (i, it) in self.intents.iter().enumerate() {
            let lo = it.fcr_base - spread + sel_f_min + day_f_min;
            let hi = it.fcr_base + spread + sel_f_max + day_f_max;
            if lo <= 0.0 || hi >= 1.0 {
                return Err(invalid(
                    format!("intents[{i}].fcr_base"),
                    format!("with site, agent, selection and day shifts the resolution probability ranges over [{lo}, {hi}], not inside (0, 1)"),
                ));
            }
            if lo + eff_lo <= 0.0 || hi + eff_hi >= 1.0 {
                return Err(invalid(
                    "effects.fcr",
                    format!(
                        "effect {} (x scale {m}) pushes the resolution probability of intent {} outside (0, 1)",
                        e.fcr, it.name
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Bounds of `trend*(t-1) + weekday[(t-1) mod 7] ± shock` over `t = 1..=days`.
fn day_bounds(days: u32, trend: f64, weekday: &[f64; 7], shock: f64) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for t in 1..=days {
        let x = trend * f64::from(t - 1) + weekday[((t - 1) % 7) as usize];
        lo = lo.min(x);
        hi = hi.max(x);
    }
    (lo - shock, hi + shock)
}

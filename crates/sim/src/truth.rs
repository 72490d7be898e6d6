//! Exact (analytic) treatment effects implied by the parameters.

use serde::{Deserialize, Serialize};

use crate::config::ContactCentreConfig;
use crate::model::{staggered_multiplier, Customers, World};
use crate::record::site_label;

/// True effects on the four outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Effects {
    /// Effect on mean handle seconds per contact.
    pub aht_seconds: f64,
    /// Effect on the first-contact-resolution rate.
    pub fcr: f64,
    /// Effect on mean CSAT among surveyed contacts.
    pub csat: f64,
    /// Effect on the repeat-contact rate.
    pub repeat_contact: f64,
}

/// Expected outcome means (not effects).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Means {
    /// Mean handle seconds per contact.
    pub aht_seconds: f64,
    /// First-contact-resolution rate.
    pub fcr: f64,
    /// Mean CSAT among surveyed contacts.
    pub csat: f64,
    /// Repeat-contact rate.
    pub repeat_contact: f64,
}

/// Truth for the A/B design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbTruth {
    /// How the effects are defined.
    pub definition: String,
    /// Number of contacts in the A/B file.
    pub contacts: u64,
    /// Probability that a contact is assigned to treatment.
    pub treatment_probability: f64,
    /// True effect on mean handle seconds per contact (`δ`).
    pub aht_seconds: f64,
    /// True effect on the resolution rate (`d`).
    pub fcr: f64,
    /// True effect on mean CSAT among surveyed contacts (`csat_via_fcr + csat_direct`).
    pub csat: f64,
    /// True effect on the repeat-contact rate (`d (r_1 - r_0)`).
    pub repeat_contact: f64,
    /// Part of the CSAT effect flowing through resolution: `Σ_k π_k d (M_{k,1} - M_{k,0})`.
    pub csat_via_fcr: f64,
    /// Part of the CSAT effect from the direct one-point uplift.
    pub csat_direct: f64,
    /// Expected control-arm means. The handle-time mean is exact given the drawn
    /// sites, agents, days and customers; the others are exact given the parameters
    /// and drawn shifts.
    pub control_means: Means,
    /// Expected treatment-arm means (`control_means` plus the effects).
    pub treatment_means: Means,
}

/// Truth for one cohort of the staggered design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortTruth {
    /// First treated day `g`.
    pub adoption_day: u32,
    /// Labels of the cohort's sites.
    pub sites: Vec<String>,
    /// Effect multiplier `s_g` of the long-run effects.
    pub effect_scale: f64,
    /// Share `W_g = Σ_{s in g} w_s` of contacts that go to the cohort's sites.
    pub volume_share: f64,
    /// Expected number of treated contacts of the cohort, `Σ_{t >= g} N_t W_g`.
    pub expected_treated_contacts: f64,
    /// Cohort ATT: average of the cell effects over all its treated days, weighted by
    /// expected contacts `N_t W_g`.
    pub att: Effects,
}

/// True effect of one (cohort, event time) cell of the staggered design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortEventTruth {
    /// Cohort adoption day `g`.
    pub adoption_day: u32,
    /// Event time `e = day - g >= 0`.
    pub event_time: u32,
    /// Calendar day `t = g + e`.
    pub day: u32,
    /// Effect multiplier `m = s_g min(1, (e+1)/R)` applied to the long-run effects.
    pub effect_multiplier: f64,
    /// Expected number of contacts in the cell, `N_t W_g`.
    pub expected_contacts: f64,
    /// The true effects in the cell.
    #[serde(flatten)]
    pub effects: Effects,
}

/// True effect at one event time, averaged over the cohorts observed there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventTimeTruth {
    /// Event time `e`.
    pub event_time: u32,
    /// Expected treated contacts at this event time, `Σ_g N_{g+e} W_g`.
    pub expected_contacts: f64,
    /// Contact-weighted average of the cell effects.
    #[serde(flatten)]
    pub effects: Effects,
}

/// Overall ATT of the staggered design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverallAtt {
    /// Expected number of treated contacts, `Σ_g Σ_{e} N_{g+e} W_g`.
    pub expected_treated_contacts: f64,
    /// Contact-weighted average of all cell effects.
    #[serde(flatten)]
    pub effects: Effects,
}

/// Truth for the staggered design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaggeredTruth {
    /// How the effects are defined.
    pub definition: String,
    /// Number of contacts in the staggered file.
    pub contacts: u64,
    /// Ramp length `R` in days.
    pub ramp_days: u32,
    /// Labels of the never-treated sites (`adoption_day = 0`).
    pub never_treated_sites: Vec<String>,
    /// One entry per cohort, in configuration order.
    pub cohorts: Vec<CohortTruth>,
    /// One row per cohort and event time `0..=days-g`, cohort-major.
    pub att_by_cohort_event_time: Vec<CohortEventTruth>,
    /// One row per event time `0..=days-min(g)`.
    pub att_by_event_time: Vec<EventTimeTruth>,
    /// Overall ATT over all treated contacts.
    pub att_overall: OverallAtt,
}

impl StaggeredTruth {
    /// Contact-weighted average effect of cohort `adoption_day` over event times
    /// `first..=last` (weights `N_{g+e} W_g`, i.e. `N_{g+e}`); `None` if the cohort does
    /// not exist or no event time of the window is observed.
    pub fn cohort_window_att(&self, adoption_day: u32, first: u32, last: u32) -> Option<Effects> {
        weighted(
            self.att_by_cohort_event_time
                .iter()
                .filter(|r| {
                    r.adoption_day == adoption_day && (first..=last).contains(&r.event_time)
                })
                .map(|r| (r.expected_contacts, r.effects)),
        )
        .map(|(_, e)| e)
    }
}

/// Fixed effects of one site (drawn from the seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteTruth {
    /// Site label.
    pub site: String,
    /// Adoption day in the staggered design, 0 = never.
    pub adoption_day: u32,
    /// Share `w_s` of contacts routed to the site.
    pub volume_share: f64,
    /// Site handle-time shift `α_s` in seconds (includes the cohort selection offset).
    pub aht_shift_seconds: f64,
    /// Site resolution-probability shift `α^f_s` (includes the cohort selection offset
    /// and the mean agent shift, which is zero up to rounding).
    pub fcr_shift: f64,
}

/// Common day effects (drawn from the seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayTruth {
    /// Day `t`.
    pub day: u32,
    /// Contacts `N_t` in each design.
    pub contacts: u32,
    /// Day handle-time shift `γ_t` in seconds (trend + weekday + shock).
    pub aht_shift_seconds: f64,
    /// Day resolution-probability shift `γ^f_t` (trend + weekday + shock).
    pub fcr_shift: f64,
}

/// Everything written to `truth.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// The full configuration, including the seed and the effect parameters.
    pub parameters: ContactCentreConfig,
    /// Truth for the A/B file.
    pub ab: AbTruth,
    /// Truth for the staggered file.
    pub staggered: StaggeredTruth,
    /// Drawn site effects (shared by both designs).
    pub sites: Vec<SiteTruth>,
    /// Drawn day effects (shared by both designs).
    pub days: Vec<DayTruth>,
    /// Truth of the single-site release design (`single_site_contacts.csv`, own stream 4;
    /// appended last so the keys above are unchanged).
    pub single_site: crate::single_site::SingleSiteTruth,
}

const AB_DEFINITION: &str = "Effect = E[Y | treatment] - E[Y | control] for one contact of the A/B population \
(day t with probability N_t/N, site s with probability w_s, agent uniform within site, intent k with probability pi_k, \
customer uniform). aht_seconds: mean handle_seconds per contact; fcr and repeat_contact: rates; csat: mean score among \
surveyed contacts (survey independent of everything). Treated contacts get the full long-run effects.";

const STAGGERED_DEFINITION: &str = "Cohort g = adoption_day; event time e = day - g >= 0. Cell effect tau(g,e) = \
E[Y(1) - Y(0)] for a contact at a site of cohort g on day g+e (site s with probability w_s/W_g), where the treated \
contact's effects are the long-run effects times m(g,e) = effect_scale_g * min(1, (e+1)/ramp_days). aht_seconds, fcr, \
repeat_contact: m*delta, m*d, m*d*(r1-r0) exactly; csat: mean score among surveyed contacts. Aggregates are averages of \
cells weighted by expected treated contacts N_{g+e} W_g (equivalently, expected surveyed contacts): cohort att over all \
e of the cohort, att_by_event_time over cohorts at e, att_overall over all treated cells = the ATT over treated \
contacts in expectation (ratio of expectations).";

/// Weighted average of effects; returns (total weight, average).
fn weighted(items: impl Iterator<Item = (f64, Effects)>) -> Option<(f64, Effects)> {
    let mut w = 0.0;
    let mut acc = Effects {
        aht_seconds: 0.0,
        fcr: 0.0,
        csat: 0.0,
        repeat_contact: 0.0,
    };
    for (wi, e) in items {
        w += wi;
        acc.aht_seconds += wi * e.aht_seconds;
        acc.fcr += wi * e.fcr;
        acc.csat += wi * e.csat;
        acc.repeat_contact += wi * e.repeat_contact;
    }
    if w > 0.0 {
        Some((
            w,
            Effects {
                aht_seconds: acc.aht_seconds / w,
                fcr: acc.fcr / w,
                csat: acc.csat / w,
                repeat_contact: acc.repeat_contact / w,
            },
        ))
    } else {
        None
    }
}

/// Mean score `M` and "room to move up" `T = 1 - P(5)` of a CSAT distribution.
fn score_moments(p: &[f64; 5]) -> (f64, f64) {
    let m = p
        .iter()
        .enumerate()
        .map(|(i, &pi)| (i as f64 + 1.0) * pi)
        .sum();
    (m, 1.0 - p[4])
}

/// CSAT effect split (via resolution, direct) for a population whose mean untreated
/// resolution probability for intent k is `fbar[k]`, at effect multiplier `m`.
pub(crate) fn csat_effect(config: &ContactCentreConfig, fbar: &[f64], m: f64) -> (f64, f64) {
    let d = m * config.effects.fcr;
    let q = m * config.effects.csat_uplift_prob;
    let mut via = 0.0;
    let mut direct = 0.0;
    for (k, it) in config.intents.iter().enumerate() {
        let (m1, t1) = score_moments(&it.csat_if_resolved);
        let (m0, t0) = score_moments(&it.csat_if_unresolved);
        let f1 = fbar[k] + d;
        via += it.share * d * (m1 - m0);
        direct += it.share * q * (f1 * t1 + (1.0 - f1) * t0);
    }
    (via, direct)
}

/// Expected untreated CSAT mean for a population with resolution means `fbar`.
fn csat_untreated(config: &ContactCentreConfig, fbar: &[f64]) -> f64 {
    config
        .intents
        .iter()
        .zip(fbar)
        .map(|(it, &f)| {
            let (m1, _) = score_moments(&it.csat_if_resolved);
            let (m0, _) = score_moments(&it.csat_if_unresolved);
            it.share * (f * m1 + (1.0 - f) * m0)
        })
        .sum()
}

fn cell_effects(config: &ContactCentreConfig, fbar: &[f64], m: f64) -> Effects {
    let (via, direct) = csat_effect(config, fbar, m);
    let r = &config.resolution;
    Effects {
        aht_seconds: m * config.effects.aht_seconds,
        fcr: m * config.effects.fcr,
        csat: via + direct,
        repeat_contact: m * config.effects.fcr * (r.repeat_if_resolved - r.repeat_if_unresolved),
    }
}

/// Computes the exact true effects of both designs (and the drawn site and day effects).
///
/// # Panics
/// If `config` is invalid (see [`ContactCentreConfig::validate`]).
pub fn truth(config: &ContactCentreConfig) -> Truth {
    if let Err(e) = config.validate() {
        panic!("{e}");
    }
    let world = World::new(config);
    let customers = Customers::new(config, &world);
    truth_from(config, &world, &customers)
}

pub(crate) fn truth_from(
    config: &ContactCentreConfig,
    world: &World,
    customers: &Customers,
) -> Truth {
    let n_sites = config.sites as usize;
    let n_total: f64 = world.day_contacts.iter().map(|&n| f64::from(n)).sum();
    let site_fcr: Vec<f64> = (0..n_sites)
        .map(|s| world.site_fcr[s] + world.agent_fcr_mean(s))
        .collect();

    // ---------- A/B ----------
    let day_fcr_mean: f64 = world
        .day_contacts
        .iter()
        .zip(&world.day_fcr)
        .map(|(&n, &g)| f64::from(n) * g)
        .sum::<f64>()
        / n_total;
    let day_aht_mean: f64 = world
        .day_contacts
        .iter()
        .zip(&world.day_aht)
        .map(|(&n, &g)| f64::from(n) * g)
        .sum::<f64>()
        / n_total;
    let site_fcr_mean: f64 = (0..n_sites)
        .map(|s| world.site_share[s] * site_fcr[s])
        .sum();
    let fbar_ab: Vec<f64> = config
        .intents
        .iter()
        .map(|it| it.fcr_base + site_fcr_mean + day_fcr_mean)
        .collect();
    let ab_effects = cell_effects(config, &fbar_ab, 1.0);
    let (via, direct) = csat_effect(config, &fbar_ab, 1.0);

    let h = &config.handle;
    let r = &config.resolution;
    let n_cust = customers.tier.len() as f64;
    let tier_mean = customers
        .tier
        .iter()
        .map(|t| h.tier_seconds[t.index()])
        .sum::<f64>()
        / n_cust;
    let cust_exp_mean = customers.log_effect.iter().map(|u| u.exp()).sum::<f64>() / n_cust;
    let intent_exp_mean: f64 = config
        .intents
        .iter()
        .map(|it| it.share * it.handle_log_mean.exp())
        .sum();
    let site_part: f64 = (0..n_sites)
        .map(|s| world.site_share[s] * world.site_aht[s])
        .sum();
    let agent_exp: f64 = (0..n_sites)
        .map(|s| world.site_share[s] * world.agent_exp_mean(s))
        .sum();
    let aht0 = h.floor_seconds
        + site_part
        + day_aht_mean
        + tier_mean
        + intent_exp_mean * agent_exp * cust_exp_mean * (0.5 * h.log_sd * h.log_sd).exp();
    let fcr0: f64 = config
        .intents
        .iter()
        .zip(&fbar_ab)
        .map(|(it, f)| it.share * f)
        .sum();
    let control = Means {
        aht_seconds: aht0,
        fcr: fcr0,
        csat: csat_untreated(config, &fbar_ab),
        repeat_contact: r.repeat_if_unresolved
            + (r.repeat_if_resolved - r.repeat_if_unresolved) * fcr0,
    };
    let ab = AbTruth {
        definition: AB_DEFINITION.to_string(),
        contacts: config.contacts_per_design(),
        treatment_probability: 0.5,
        aht_seconds: ab_effects.aht_seconds,
        fcr: ab_effects.fcr,
        csat: ab_effects.csat,
        repeat_contact: ab_effects.repeat_contact,
        csat_via_fcr: via,
        csat_direct: direct,
        control_means: control,
        treatment_means: Means {
            aht_seconds: control.aht_seconds + ab_effects.aht_seconds,
            fcr: control.fcr + ab_effects.fcr,
            csat: control.csat + ab_effects.csat,
            repeat_contact: control.repeat_contact + ab_effects.repeat_contact,
        },
    };

    // ---------- staggered ----------
    let mut cohorts = Vec::new();
    let mut rows = Vec::new();
    for (g, spec) in config.rollout.cohorts.iter().enumerate() {
        let members: Vec<usize> = (0..n_sites)
            .filter(|&s| world.site_cohort[s] == Some(g))
            .collect();
        let share: f64 = members.iter().map(|&s| world.site_share[s]).sum();
        let cohort_fcr: f64 = members
            .iter()
            .map(|&s| world.site_share[s] * site_fcr[s])
            .sum::<f64>()
            / share;
        let mut cohort_rows = Vec::new();
        for t in spec.adoption_day..=config.days {
            let e = t - spec.adoption_day;
            let m = staggered_multiplier(config, g, e);
            let fbar: Vec<f64> = config
                .intents
                .iter()
                .map(|it| it.fcr_base + cohort_fcr + world.day_fcr[(t - 1) as usize])
                .collect();
            cohort_rows.push(CohortEventTruth {
                adoption_day: spec.adoption_day,
                event_time: e,
                day: t,
                effect_multiplier: m,
                expected_contacts: f64::from(world.day_contacts[(t - 1) as usize]) * share,
                effects: cell_effects(config, &fbar, m),
            });
        }
        let (w, att) = weighted(cohort_rows.iter().map(|r| (r.expected_contacts, r.effects)))
            .expect("a cohort has at least one treated day");
        cohorts.push(CohortTruth {
            adoption_day: spec.adoption_day,
            sites: members.iter().map(|&s| site_label(s as u32 + 1)).collect(),
            effect_scale: spec.effect_scale,
            volume_share: share,
            expected_treated_contacts: w,
            att,
        });
        rows.extend(cohort_rows);
    }
    let max_e = rows.iter().map(|r| r.event_time).max();
    let by_event: Vec<EventTimeTruth> = max_e
        .map(|max_e| {
            (0..=max_e)
                .filter_map(|e| {
                    weighted(
                        rows.iter()
                            .filter(|r| r.event_time == e)
                            .map(|r| (r.expected_contacts, r.effects)),
                    )
                    .map(|(w, effects)| EventTimeTruth {
                        event_time: e,
                        expected_contacts: w,
                        effects,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let att_overall = match weighted(rows.iter().map(|r| (r.expected_contacts, r.effects))) {
        Some((w, effects)) => OverallAtt {
            expected_treated_contacts: w,
            effects,
        },
        None => OverallAtt {
            expected_treated_contacts: 0.0,
            effects: Effects {
                aht_seconds: 0.0,
                fcr: 0.0,
                csat: 0.0,
                repeat_contact: 0.0,
            },
        },
    };
    let staggered = StaggeredTruth {
        definition: STAGGERED_DEFINITION.to_string(),
        contacts: config.contacts_per_design(),
        ramp_days: config.rollout.ramp_days,
        never_treated_sites: (0..n_sites)
            .filter(|&s| world.site_cohort[s].is_none())
            .map(|s| site_label(s as u32 + 1))
            .collect(),
        cohorts,
        att_by_cohort_event_time: rows,
        att_by_event_time: by_event,
        att_overall,
    };

    let sites = (0..n_sites)
        .map(|s| SiteTruth {
            site: site_label(s as u32 + 1),
            adoption_day: world.site_adoption_day[s],
            volume_share: world.site_share[s],
            aht_shift_seconds: world.site_aht[s],
            fcr_shift: site_fcr[s],
        })
        .collect();
    let days = (0..config.days as usize)
        .map(|i| DayTruth {
            day: i as u32 + 1,
            contacts: world.day_contacts[i],
            aht_shift_seconds: world.day_aht[i],
            fcr_shift: world.day_fcr[i],
        })
        .collect();

    Truth {
        parameters: config.clone(),
        ab,
        staggered,
        sites,
        days,
        single_site: crate::single_site::single_site_truth(
            config,
            &crate::single_site::SingleSiteConfig::default(),
        ),
    }
}

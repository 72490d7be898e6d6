//! Contact-level simulation of both designs.

use rand::Rng;
use rand_distr::StandardNormal;

use crate::config::ContactCentreConfig;
use crate::model::{
    categorical, csat_score, resolved, staggered_multiplier, stream_rng, Customers, World,
    STREAM_AB, STREAM_STAGGERED,
};
use crate::record::{Arm, Assignment, Contact};

#[derive(Clone, Copy)]
enum Design {
    Ab,
    Staggered,
}

fn valid_or_panic(config: &ContactCentreConfig) {
    if let Err(e) = config.validate() {
        panic!("{e}");
    }
}

/// Simulates the A/B design: every contact is independently assigned to treatment with
/// probability 1/2; treated contacts receive the full effects (multiplier `m = 1`).
///
/// # Panics
/// If `config` is invalid (see [`ContactCentreConfig::validate`]).
pub fn simulate_ab(config: &ContactCentreConfig) -> Vec<Contact> {
    valid_or_panic(config);
    let world = World::new(config);
    let customers = Customers::new(config, &world);
    simulate(config, &world, &customers, Design::Ab)
}

/// Simulates the staggered rollout: a contact is treated when its site belongs to a cohort
/// and `day >= adoption_day`; its effects are multiplied by `s_g * min(1, (e+1)/R)` with
/// `e = day - adoption_day`.
///
/// # Panics
/// If `config` is invalid (see [`ContactCentreConfig::validate`]).
pub fn simulate_staggered(config: &ContactCentreConfig) -> Vec<Contact> {
    valid_or_panic(config);
    let world = World::new(config);
    let customers = Customers::new(config, &world);
    simulate(config, &world, &customers, Design::Staggered)
}

pub(crate) fn simulate_both(config: &ContactCentreConfig) -> (Vec<Contact>, Vec<Contact>) {
    let world = World::new(config);
    let customers = Customers::new(config, &world);
    (
        simulate(config, &world, &customers, Design::Ab),
        simulate(config, &world, &customers, Design::Staggered),
    )
}

fn simulate(
    config: &ContactCentreConfig,
    world: &World,
    customers: &Customers,
    design: Design,
) -> Vec<Contact> {
    let stream = match design {
        Design::Ab => STREAM_AB,
        Design::Staggered => STREAM_STAGGERED,
    };
    let mut rng = stream_rng(config.seed, stream);
    let h = &config.handle;
    let r = &config.resolution;
    let e = &config.effects;
    let mut out = Vec::with_capacity(config.contacts_per_design() as usize);
    let mut id = 0u64;
    for t in 1..=config.days {
        let ti = (t - 1) as usize;
        for _ in 0..world.day_contacts[ti] {
            // A fixed sequence of draws per contact, whatever the design or outcome.
            let s = categorical(&world.site_cum, rng.random());
            let a = rng.random_range(0..config.agents_per_site) as usize;
            let c = rng.random_range(0..config.customers) as usize;
            let k = categorical(&world.intent_cum, rng.random());
            let z: f64 = rng.sample(StandardNormal);
            let u_arm: f64 = rng.random();
            let u_fcr: f64 = rng.random();
            let u_score: f64 = rng.random();
            let u_bump: f64 = rng.random();
            let u_survey: f64 = rng.random();
            let u_repeat: f64 = rng.random();

            let (assignment, multiplier) = match design {
                Design::Ab => {
                    let treated = u_arm < 0.5;
                    let arm = if treated {
                        Arm::Treatment
                    } else {
                        Arm::Control
                    };
                    (Assignment::Ab { arm }, if treated { 1.0 } else { 0.0 })
                }
                Design::Staggered => {
                    let g = world.site_adoption_day[s];
                    let live = g > 0 && t >= g;
                    let m = match world.site_cohort[s] {
                        Some(cohort) if live => staggered_multiplier(config, cohort, t - g),
                        _ => 0.0,
                    };
                    (
                        Assignment::Staggered {
                            adoption_day: g,
                            model_live: live,
                        },
                        m,
                    )
                }
            };

            let intent = &config.intents[k];
            let tier = customers.tier[c];
            let handle0 = h.floor_seconds
                + world.site_aht[s]
                + world.day_aht[ti]
                + h.tier_seconds[tier.index()]
                + (intent.handle_log_mean
                    + world.agent_log[s][a]
                    + customers.log_effect[c]
                    + h.log_sd * z)
                    .exp();
            let handle = handle0 + multiplier * e.aht_seconds;

            let p0 =
                intent.fcr_base + world.site_fcr[s] + world.day_fcr[ti] + world.agent_fcr[s][a];
            let fcr = resolved(p0 + multiplier * e.fcr, u_fcr);
            let probs = if fcr {
                &intent.csat_if_resolved
            } else {
                &intent.csat_if_unresolved
            };
            let score = csat_score(probs, u_score, u_bump, multiplier * e.csat_uplift_prob);
            let surveyed = u_survey < config.survey_rate;
            let p_repeat = if fcr {
                r.repeat_if_resolved
            } else {
                r.repeat_if_unresolved
            };

            id += 1;
            out.push(Contact {
                contact_id: id,
                day: t,
                site: s as u32 + 1,
                agent: a as u32 + 1,
                intent: k,
                customer_id: c as u32 + 1,
                customer_tier: tier,
                pre_handle_seconds: customers.pre_handle[c],
                handle_seconds: handle,
                fcr,
                csat: surveyed.then_some(score),
                repeat_contact: u_repeat < p_repeat,
                assignment,
            });
        }
    }
    out
}

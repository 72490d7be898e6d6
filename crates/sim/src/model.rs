//! The generative model: fixed "world" effects, the customer population and the
//! per-contact outcome mechanics shared by the simulator and the truth computation.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};

use crate::config::ContactCentreConfig;
use crate::record::Tier;

/// Stream of the world effects (sites, agents, days, rollout assignment).
pub(crate) const STREAM_WORLD: u64 = 0;
/// Stream of the customer population.
pub(crate) const STREAM_CUSTOMERS: u64 = 1;
/// Stream of the A/B design's contacts.
pub(crate) const STREAM_AB: u64 = 2;
/// Stream of the staggered design's contacts.
pub(crate) const STREAM_STAGGERED: u64 = 3;

/// A ChaCha8 generator for one independent stream of `seed`.
pub(crate) fn stream_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Index of the first cumulative weight exceeding `u` (last index as a fallback).
pub(crate) fn categorical(cum: &[f64], u: f64) -> usize {
    cum.iter().position(|&c| u < c).unwrap_or(cum.len() - 1)
}

/// Cumulative sums of `w`.
pub(crate) fn cumulative(w: &[f64]) -> Vec<f64> {
    let mut acc = 0.0;
    w.iter()
        .map(|&x| {
            acc += x;
            acc
        })
        .collect()
}

/// Fixed effects of sites, agents and days, drawn once per seed and shared by both designs.
#[derive(Debug, Clone)]
pub(crate) struct World {
    /// Normalised site volume shares `w_s` (sum to 1).
    pub site_share: Vec<f64>,
    /// Cumulative site shares, for sampling.
    pub site_cum: Vec<f64>,
    /// Cohort index of each site (`None` = never treated).
    pub site_cohort: Vec<Option<usize>>,
    /// Adoption day of each site (0 = never).
    pub site_adoption_day: Vec<u32>,
    /// Site handle-time shift `α_s` (seconds), including the cohort selection offset.
    pub site_aht: Vec<f64>,
    /// Site resolution shift `α^f_s`, including the cohort selection offset.
    pub site_fcr: Vec<f64>,
    /// Agent log handle-time effects `λ_a`, indexed `[site][agent]`.
    pub agent_log: Vec<Vec<f64>>,
    /// Agent resolution shifts `λ^f_a`, centred within each site, indexed `[site][agent]`.
    pub agent_fcr: Vec<Vec<f64>>,
    /// Day handle-time shift `γ_t` (seconds), index `t - 1`.
    pub day_aht: Vec<f64>,
    /// Day resolution shift `γ^f_t`, index `t - 1`.
    pub day_fcr: Vec<f64>,
    /// Contacts `N_t` per day, index `t - 1`.
    pub day_contacts: Vec<u32>,
    /// Cumulative intent shares, for sampling.
    pub intent_cum: Vec<f64>,
}

fn sym_uniform(rng: &mut ChaCha8Rng, half_width: f64) -> f64 {
    half_width * (2.0 * rng.random::<f64>() - 1.0)
}

impl World {
    /// Draws the world from the world stream of `config.seed`. `config` must be valid.
    pub fn new(config: &ContactCentreConfig) -> Self {
        let mut rng = stream_rng(config.seed, STREAM_WORLD);
        let n_sites = config.sites as usize;
        let n_agents = config.agents_per_site as usize;

        // Rollout assignment: a random permutation of sites filled cohort by cohort.
        let mut order: Vec<usize> = (0..n_sites).collect();
        for i in (1..n_sites).rev() {
            let j = rng.random_range(0..=i);
            order.swap(i, j);
        }
        let mut site_cohort = vec![None; n_sites];
        let mut next = 0;
        for (g, c) in config.rollout.cohorts.iter().enumerate() {
            for _ in 0..c.sites {
                site_cohort[order[next]] = Some(g);
                next += 1;
            }
        }
        let site_adoption_day: Vec<u32> = site_cohort
            .iter()
            .map(|c| c.map_or(0, |g| config.rollout.cohorts[g].adoption_day))
            .collect();

        let mut raw_volume = Vec::with_capacity(n_sites);
        let mut site_aht = Vec::with_capacity(n_sites);
        let mut site_fcr = Vec::with_capacity(n_sites);
        for cohort in &site_cohort {
            raw_volume.push(1.0 + sym_uniform(&mut rng, config.site_volume_spread));
            let (sel_aht, sel_fcr) = cohort.map_or((0.0, 0.0), |g| {
                let c = &config.rollout.cohorts[g];
                (c.selection_aht_seconds, c.selection_fcr)
            });
            site_aht.push(sym_uniform(&mut rng, config.handle.site_spread_seconds) + sel_aht);
            site_fcr.push(sym_uniform(&mut rng, config.resolution.site_spread) + sel_fcr);
        }
        let total: f64 = raw_volume.iter().sum();
        let site_share: Vec<f64> = raw_volume.iter().map(|v| v / total).collect();
        let site_cum = cumulative(&site_share);

        let mut agent_log = Vec::with_capacity(n_sites);
        let mut agent_fcr = Vec::with_capacity(n_sites);
        for _ in 0..n_sites {
            let mut logs = Vec::with_capacity(n_agents);
            let mut fcrs = Vec::with_capacity(n_agents);
            for _ in 0..n_agents {
                let z: f64 = rng.sample(StandardNormal);
                logs.push(config.handle.agent_log_sd * z);
                fcrs.push(sym_uniform(&mut rng, config.resolution.agent_spread));
            }
            let mean = fcrs.iter().sum::<f64>() / n_agents as f64;
            for f in &mut fcrs {
                *f -= mean;
            }
            agent_log.push(logs);
            agent_fcr.push(fcrs);
        }

        let h = &config.handle;
        let r = &config.resolution;
        let mut day_aht = Vec::with_capacity(config.days as usize);
        let mut day_fcr = Vec::with_capacity(config.days as usize);
        let mut day_contacts = Vec::with_capacity(config.days as usize);
        for t in 1..=config.days {
            let dow = ((t - 1) % 7) as usize;
            let x = f64::from(t - 1);
            day_aht.push(
                h.trend_seconds_per_day * x
                    + h.weekday_seconds[dow]
                    + sym_uniform(&mut rng, h.day_shock_seconds),
            );
            day_fcr.push(r.trend_per_day * x + r.weekday[dow] + sym_uniform(&mut rng, r.day_shock));
            day_contacts.push(config.contacts_on_day(t));
        }

        let shares: Vec<f64> = config.intents.iter().map(|i| i.share).collect();
        World {
            site_share,
            site_cum,
            site_cohort,
            site_adoption_day,
            site_aht,
            site_fcr,
            agent_log,
            agent_fcr,
            day_aht,
            day_fcr,
            day_contacts,
            intent_cum: cumulative(&shares),
        }
    }

    /// Mean agent resolution shift of site `s` (zero up to rounding, by centring).
    pub fn agent_fcr_mean(&self, s: usize) -> f64 {
        let a = &self.agent_fcr[s];
        a.iter().sum::<f64>() / a.len() as f64
    }

    /// Mean of `exp(λ_a)` over the agents of site `s`.
    pub fn agent_exp_mean(&self, s: usize) -> f64 {
        let a = &self.agent_log[s];
        a.iter().map(|x| x.exp()).sum::<f64>() / a.len() as f64
    }
}

/// The customer population shared by both designs.
#[derive(Debug, Clone)]
pub(crate) struct Customers {
    /// Tier of each customer.
    pub tier: Vec<Tier>,
    /// Customer log handle-time effect `u_c`.
    pub log_effect: Vec<f64>,
    /// Average handle time over the customer's pre-period contacts.
    pub pre_handle: Vec<f64>,
}

impl Customers {
    /// Draws the customers from the customer stream of `config.seed`. `config` must be valid.
    pub fn new(config: &ContactCentreConfig, world: &World) -> Self {
        let mut rng = stream_rng(config.seed, STREAM_CUSTOMERS);
        let n = config.customers as usize;
        let tier_cum = cumulative(&config.tier_shares);
        let poisson = Poisson::new(config.pre_contacts_mean).expect("validated pre_contacts_mean");
        let h = &config.handle;
        let mut tier = Vec::with_capacity(n);
        let mut log_effect = Vec::with_capacity(n);
        let mut pre_handle = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Tier::ALL[categorical(&tier_cum, rng.random())];
            let z: f64 = rng.sample(StandardNormal);
            let u = h.customer_log_sd * z;
            let m = 1 + poisson.sample(&mut rng) as u32;
            let mut sum = 0.0;
            for _ in 0..m {
                let k = categorical(&world.intent_cum, rng.random());
                let za: f64 = rng.sample(StandardNormal);
                let ze: f64 = rng.sample(StandardNormal);
                sum += h.floor_seconds
                    + h.tier_seconds[t.index()]
                    + (config.intents[k].handle_log_mean + u + h.agent_log_sd * za + h.log_sd * ze)
                        .exp();
            }
            tier.push(t);
            log_effect.push(u);
            pre_handle.push(sum / f64::from(m));
        }
        Customers {
            tier,
            log_effect,
            pre_handle,
        }
    }
}

/// Whether a contact with resolution probability `p` is resolved, given uniform `u`.
pub(crate) fn resolved(p: f64, u: f64) -> bool {
    u < p
}

/// CSAT score 1..=5 drawn from `probs` with uniform `u_score`, then moved up one point
/// (if below 5) when uniform `u_bump < uplift` (`uplift` = effective direct effect `m q`).
pub(crate) fn csat_score(probs: &[f64; 5], u_score: f64, u_bump: f64, uplift: f64) -> u8 {
    let mut acc = 0.0;
    let mut score = 5u8;
    for (i, &p) in probs.iter().enumerate() {
        acc += p;
        if u_score < acc {
            score = i as u8 + 1;
            break;
        }
    }
    if score < 5 && u_bump < uplift {
        score += 1;
    }
    score
}

/// Effect multiplier `m = s_g * min(1, (e + 1) / R)` of cohort `g` at event time `e >= 0`.
pub(crate) fn staggered_multiplier(
    config: &ContactCentreConfig,
    cohort: usize,
    event_time: u32,
) -> f64 {
    let ramp = f64::from(event_time + 1) / f64::from(config.rollout.ramp_days);
    config.rollout.cohorts[cohort].effect_scale * ramp.min(1.0)
}

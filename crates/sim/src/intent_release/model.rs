//! The drawn world (sites, days, customers) and the per-contact simulation of each design.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};
use serde::{Deserialize, Serialize};

use super::config::IntentReleaseConfig;
use crate::model::{categorical, cumulative, stream_rng};

/// Stream of the world (sites, days, rollout assignment).
const STREAM_WORLD: u64 = 10;
/// Stream of the customer population.
const STREAM_CUSTOMERS: u64 = 11;
/// Stream of the randomised design's contacts.
const STREAM_RANDOMISED: u64 = 12;
/// Stream of the rollout design's contacts.
const STREAM_ROLLOUT: u64 = 13;
/// Stream of the single-site design's contacts.
const STREAM_SINGLE: u64 = 14;

/// The three designs of the intent-model release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentDesign {
    /// Contact-level randomisation to `control` (old model) or `treatment` (new model).
    Randomised,
    /// Cohorts of sites adopt the new model on known days; some never do.
    Rollout,
    /// One site switches to the new model on a known day.
    SingleSite,
}

impl IntentDesign {
    /// All designs, in file order.
    pub const ALL: [IntentDesign; 3] = [
        IntentDesign::Randomised,
        IntentDesign::Rollout,
        IntentDesign::SingleSite,
    ];

    /// The file stem (`randomised`, `rollout`, `single_site`).
    pub fn stem(self) -> &'static str {
        match self {
            IntentDesign::Randomised => "randomised",
            IntentDesign::Rollout => "rollout",
            IntentDesign::SingleSite => "single_site",
        }
    }

    fn stream(self) -> u64 {
        match self {
            IntentDesign::Randomised => STREAM_RANDOMISED,
            IntentDesign::Rollout => STREAM_ROLLOUT,
            IntentDesign::SingleSite => STREAM_SINGLE,
        }
    }
}

/// One simulated contact. Indices refer to the config's `intents`, `queues` and `tiers`.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentContact {
    /// 1-based id, in file order.
    pub contact_id: u64,
    /// Day, 1-based.
    pub day: u32,
    /// Site, 1-based (label `site_XX`).
    pub site: u32,
    /// Entry queue index.
    pub queue: usize,
    /// Customer, 1-based.
    pub customer_id: u32,
    /// Customer tier index.
    pub tier: usize,
    /// True intent index (the agent's disposition).
    pub true_intent: usize,
    /// The live model's predicted intent index.
    pub predicted_intent: usize,
    /// Mean handle seconds of the customer's pre-period contacts.
    pub pre_aht: f64,
    /// Handle seconds.
    pub handle_seconds: f64,
    /// Resolved at first contact.
    pub fcr: bool,
    /// CSAT score 1..=5 if surveyed.
    pub csat: Option<u8>,
    /// The customer contacted again.
    pub repeat_contact: bool,
    /// The new model routed this contact.
    pub new_model: bool,
    /// Randomised: in the treatment arm. Rollout: the site's adoption day (0 = never).
    /// Single site: unused (0).
    pub group: u32,
}

impl IntentContact {
    /// Predicted intent differs from the true intent.
    pub fn misrouted(&self) -> bool {
        self.predicted_intent != self.true_intent
    }
}

/// Site and day effects, drawn once per seed and shared by the designs.
#[derive(Debug, Clone)]
pub(crate) struct IntentWorld {
    /// Site volume shares `w_s` (sum to 1).
    pub site_share: Vec<f64>,
    site_cum: Vec<f64>,
    /// Site handle-time shift `α_s` (seconds).
    pub site_handle: Vec<f64>,
    /// Site resolution shift `α^f_s`.
    pub site_fcr: Vec<f64>,
    /// Intent mix `π_{s,k}` of each site (rows sum to 1).
    pub site_mix: Vec<Vec<f64>>,
    site_mix_cum: Vec<Vec<f64>>,
    /// Adoption day of each site in the rollout (0 = never).
    pub adoption_day: Vec<u32>,
    /// Day handle-time shift `γ_t`, index `t - 1`.
    pub day_handle: Vec<f64>,
    /// Day resolution shift `γ^f_t`, index `t - 1`.
    pub day_fcr: Vec<f64>,
    /// Contacts per day `N_t`, index `t - 1`.
    pub day_contacts: Vec<u32>,
}

fn sym(rng: &mut ChaCha8Rng, h: f64) -> f64 {
    h * (2.0 * rng.random::<f64>() - 1.0)
}

impl IntentWorld {
    pub fn new(c: &IntentReleaseConfig) -> Self {
        let mut rng = stream_rng(c.seed, STREAM_WORLD);
        let n = c.sites as usize;
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            order.swap(i, j);
        }
        let mut adoption_day = vec![0u32; n];
        let mut next = 0;
        for cohort in &c.rollout {
            for _ in 0..cohort.sites {
                adoption_day[order[next]] = cohort.adoption_day;
                next += 1;
            }
        }
        let mut raw = Vec::with_capacity(n);
        let mut site_handle = Vec::with_capacity(n);
        let mut site_fcr = Vec::with_capacity(n);
        let mut site_mix = Vec::with_capacity(n);
        for _ in 0..n {
            raw.push(1.0 + sym(&mut rng, c.site_volume_spread));
            site_handle.push(sym(&mut rng, c.site_handle_spread));
            site_fcr.push(sym(&mut rng, c.site_fcr_spread));
            let m: Vec<f64> = c
                .intents
                .iter()
                .map(|i| i.share * (1.0 + sym(&mut rng, c.site_mix_spread)))
                .collect();
            let total: f64 = m.iter().sum();
            site_mix.push(m.iter().map(|x| x / total).collect::<Vec<_>>());
        }
        let total: f64 = raw.iter().sum();
        let site_share: Vec<f64> = raw.iter().map(|v| v / total).collect();
        let mut day_handle = Vec::with_capacity(c.days as usize);
        let mut day_fcr = Vec::with_capacity(c.days as usize);
        let mut day_contacts = Vec::with_capacity(c.days as usize);
        for t in 1..=c.days {
            let dow = ((t - 1) % 7) as usize;
            let x = f64::from(t - 1);
            day_handle.push(
                c.trend_seconds_per_day * x
                    + c.weekday_seconds[dow]
                    + sym(&mut rng, c.day_shock_seconds),
            );
            day_fcr.push(
                c.trend_fcr_per_day * x + c.weekday_fcr[dow] + sym(&mut rng, c.day_shock_fcr),
            );
            day_contacts.push(c.contacts_on_day(t));
        }
        IntentWorld {
            site_cum: cumulative(&site_share),
            site_share,
            site_handle,
            site_fcr,
            site_mix_cum: site_mix.iter().map(|m| cumulative(m)).collect(),
            site_mix,
            adoption_day,
            day_handle,
            day_fcr,
            day_contacts,
        }
    }
}

/// The customer population shared by the designs.
#[derive(Debug, Clone)]
pub(crate) struct IntentCustomers {
    /// Tier index of each customer.
    pub tier: Vec<usize>,
    /// Handle-time multiplier `e_c = exp(u_c) / mean_c exp(u_c)` (averages exactly 1).
    pub factor: Vec<f64>,
    /// `pre_aht` of each customer.
    pub pre_aht: Vec<f64>,
}

impl IntentCustomers {
    pub fn new(c: &IntentReleaseConfig) -> Self {
        let mut rng = stream_rng(c.seed, STREAM_CUSTOMERS);
        let n = c.customers as usize;
        let tier_cum = cumulative(&c.tiers.iter().map(|t| t.share).collect::<Vec<_>>());
        let intent_cum = cumulative(&c.intents.iter().map(|i| i.share).collect::<Vec<_>>());
        let queue_cum = cumulative(&c.queues.iter().map(|q| q.share).collect::<Vec<_>>());
        let poisson = Poisson::new(c.pre_contacts_mean.max(1e-12)).expect("validated mean");
        let sigma = c.contact_log_sd;
        let mut tier = Vec::with_capacity(n);
        let mut raw = Vec::with_capacity(n);
        let mut pre_loc = Vec::with_capacity(n);
        for _ in 0..n {
            let t = categorical(&tier_cum, rng.random());
            let z: f64 = rng.sample(StandardNormal);
            let m = 1 + poisson.sample(&mut rng) as u32;
            let mut sum = 0.0;
            for _ in 0..m {
                let k = categorical(&intent_cum, rng.random());
                let q = categorical(&queue_cum, rng.random());
                let e: f64 = rng.sample(StandardNormal);
                sum += (c.intents[k].handle_seconds
                    + c.queues[q].handle_seconds
                    + c.tiers[t].handle_seconds)
                    * (sigma * e - 0.5 * sigma * sigma).exp();
            }
            tier.push(t);
            raw.push((c.customer_log_sd * z).exp());
            pre_loc.push(sum / f64::from(m));
        }
        let mean = raw.iter().sum::<f64>() / n as f64;
        let factor: Vec<f64> = raw.iter().map(|r| r / mean).collect();
        let pre_aht = pre_loc.iter().zip(&factor).map(|(p, f)| p * f).collect();
        IntentCustomers {
            tier,
            factor,
            pre_aht,
        }
    }

    /// Mean over customers of `tier handle shift · e_c` (the tier part of expected handle time).
    pub fn tier_handle_term(&self, c: &IntentReleaseConfig) -> f64 {
        self.tier
            .iter()
            .zip(&self.factor)
            .map(|(&t, f)| c.tiers[t].handle_seconds * f)
            .sum::<f64>()
            / self.tier.len() as f64
    }

    /// Mean over customers of the tier resolution shift.
    pub fn tier_fcr_term(&self, c: &IntentReleaseConfig) -> f64 {
        self.tier.iter().map(|&t| c.tiers[t].fcr).sum::<f64>() / self.tier.len() as f64
    }
}

/// Whether site `s` (0-based) runs the new model on day `t` in `design` (for the randomised
/// design this is decided per contact instead).
pub(crate) fn site_live(
    c: &IntentReleaseConfig,
    w: &IntentWorld,
    design: IntentDesign,
    s: usize,
    t: u32,
) -> bool {
    match design {
        IntentDesign::Randomised => false,
        IntentDesign::Rollout => w.adoption_day[s] > 0 && t >= w.adoption_day[s],
        IntentDesign::SingleSite => s + 1 == c.single_site as usize && t >= c.single_site_start,
    }
}

/// Simulates one design's contacts, in day order. `c` must be valid.
pub(crate) fn simulate_design(
    c: &IntentReleaseConfig,
    w: &IntentWorld,
    cust: &IntentCustomers,
    design: IntentDesign,
) -> Vec<IntentContact> {
    let mut rng = stream_rng(c.seed, design.stream());
    let queue_cum = cumulative(&c.queues.iter().map(|q| q.share).collect::<Vec<_>>());
    let k_n = c.intents.len();
    // Cumulative P(predicted | true, queue) per model: [model][queue][true].
    let routing: Vec<Vec<Vec<Vec<f64>>>> = [false, true]
        .iter()
        .map(|&new| {
            (0..c.queues.len())
                .map(|q| {
                    (0..k_n)
                        .map(|k| {
                            cumulative(
                                &(0..k_n)
                                    .map(|j| c.confusion_in_queue(new, q, k, j))
                                    .collect::<Vec<_>>(),
                            )
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let sigma = c.contact_log_sd;
    let mut out = Vec::with_capacity(c.contacts_per_design() as usize);
    let mut id = 0u64;
    for t in 1..=c.days {
        let ti = (t - 1) as usize;
        for _ in 0..w.day_contacts[ti] {
            // A fixed sequence of draws per contact, whatever the design or outcome.
            let s = categorical(&w.site_cum, rng.random());
            let cu = rng.random_range(0..c.customers) as usize;
            let q = categorical(&queue_cum, rng.random());
            let k = categorical(&w.site_mix_cum[s], rng.random());
            let u_arm: f64 = rng.random();
            let u_pred: f64 = rng.random();
            let z: f64 = rng.sample(StandardNormal);
            let u_fcr: f64 = rng.random();
            let u_score: f64 = rng.random();
            let u_drop: f64 = rng.random();
            let u_survey: f64 = rng.random();
            let u_repeat: f64 = rng.random();

            let (new_model, group) = match design {
                IntentDesign::Randomised => {
                    let treated = u_arm < c.treatment_probability;
                    (treated, u32::from(treated))
                }
                IntentDesign::Rollout => (site_live(c, w, design, s, t), w.adoption_day[s]),
                IntentDesign::SingleSite => (site_live(c, w, design, s, t), 0),
            };
            let j = categorical(&routing[usize::from(new_model)][q][k], u_pred);
            let tier = cust.tier[cu];
            let intent = &c.intents[k];
            let loc = intent.handle_seconds
                + w.site_handle[s]
                + w.day_handle[ti]
                + c.queues[q].handle_seconds
                + c.tiers[tier].handle_seconds;
            let handle = loc * cust.factor[cu] * (sigma * z - 0.5 * sigma * sigma).exp()
                + c.penalty_seconds[k][j];
            let p =
                intent.fcr + w.site_fcr[s] + w.day_fcr[ti] + c.queues[q].fcr + c.tiers[tier].fcr
                    - c.penalty_fcr[k][j];
            let fcr = u_fcr < p;
            let base = 3 + categorical(&cumulative(&intent.csat_base), u_score) as u8;
            let drop = u8::from(!fcr) + u8::from(j != k && u_drop < c.penalty_csat_drop[k][j]);
            let score = base - drop;
            let r = if fcr {
                c.repeat_if_resolved
            } else {
                c.repeat_if_unresolved
            };
            id += 1;
            out.push(IntentContact {
                contact_id: id,
                day: t,
                site: s as u32 + 1,
                queue: q,
                customer_id: cu as u32 + 1,
                tier,
                true_intent: k,
                predicted_intent: j,
                pre_aht: cust.pre_aht[cu],
                handle_seconds: handle,
                fcr,
                csat: (u_survey < c.survey_rate).then_some(score),
                repeat_contact: u_repeat < r,
                new_model,
                group,
            });
        }
    }
    out
}

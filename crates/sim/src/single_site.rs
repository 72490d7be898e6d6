//! Single-site release design: one site of many gets the new model on a known day, the others
//! never do. The site × day panel of mean handle time (or resolution rate) is the input of
//! synthetic-control style estimators (SC, synthetic DiD, augmented SC).
//!
//! # Model
//!
//! Sites `s = 1..S`, days `t = 1..D` (day 1 a Monday). Drawn once from stream 4 of the
//! config seed (independent of the other designs' streams):
//!
//! * site level `a_s ~ U(-site_spread, site_spread)` seconds, factor loading
//!   `b_s ~ U(1 - loading_spread, 1 + loading_spread)`, resolution level
//!   `c_s ~ U(-fcr_spread, fcr_spread)`, volume `v_s ~ U(0.6, 1.4)`;
//! * a common daily factor `f_t = amplitude · sin(2π t / period) + trend · (t - 1)` and weekday
//!   shifts `w_{dow(t)}` (seconds), so sites have **non-parallel** untreated paths
//!   (`b_s f_t`): DiD is biased, a weighted combination of sites is not;
//! * contacts per site-day `n_{s,t} = round(contacts_per_site_day · v_s · weekday_volume)`
//!   (fixed, not random).
//!
//! Contact `i` of site `s` on day `t` (own draws, in site-day order):
//!
//! * handle time `h = μ_{s,t} · exp(σ ε − σ²/2)`, `ε ~ N(0,1)`, with
//!   `μ_{s,t} = base + a_s + b_s f_t + w_{dow(t)} + m_{s,t} δ`, so `E[h] = μ_{s,t}` exactly;
//! * resolution `fcr ~ Bernoulli(p)`, `p = fcr_base + c_s + fcr_loading · b_s f_t / amplitude
//!   + m_{s,t} d`;
//! * `m_{s,t} = min(1, (t − release_day + 1) / ramp_days)` at the treated site from
//!   `release_day` on, 0 otherwise.
//!
//! # Truth
//!
//! The true effect on the treated site's expected mean handle time on post day `t` is exactly
//! `m_t δ` (and `m_t d` on the resolution rate); `att_aht_seconds` / `att_fcr` average these over
//! post days with equal weight (the site-day panel ATT), `att_*_contact_weighted` weight by
//! contacts.

use crate::config::ContactCentreConfig;
use crate::model::stream_rng;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};
use std::io::{self, BufWriter, Write};

/// Stream of the single-site design (world and contacts).
const STREAM_SINGLE_SITE: u64 = 4;

/// File name of the single-site contact log.
pub const SINGLE_SITE_FILE: &str = "single_site_contacts.csv";

/// Columns of the single-site contact log.
pub const SINGLE_SITE_COLUMNS: [&str; 6] = [
    "contact_id",
    "day",
    "site",
    "handle_seconds",
    "fcr",
    "model_live",
];

/// Parameters of the single-site release design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SingleSiteConfig {
    /// Number of sites.
    pub sites: u32,
    /// Number of days.
    pub days: u32,
    /// First day with the model live at the treated site.
    pub release_day: u32,
    /// 1-based number of the treated site (label `site_XX`).
    pub treated_site: u32,
    /// Mean contacts per site-day before the volume and weekday multipliers.
    pub contacts_per_site_day: f64,
    /// Weekday volume multipliers (Monday first).
    pub weekday_volume: [f64; 7],
    /// Base handle time (seconds).
    pub base_seconds: f64,
    /// Half-width of the site level `a_s` (seconds).
    pub site_spread: f64,
    /// Half-width of the factor loadings around 1.
    pub loading_spread: f64,
    /// Amplitude of the common factor (seconds).
    pub amplitude: f64,
    /// Period of the common factor (days).
    pub period: f64,
    /// Linear trend of the common factor (seconds per day).
    pub trend: f64,
    /// Weekday handle-time shifts (seconds, Monday first).
    pub weekday_seconds: [f64; 7],
    /// Log-normal dispersion σ of a contact's handle time.
    pub sigma: f64,
    /// Long-run effect on handle time (seconds; negative = faster).
    pub effect_seconds: f64,
    /// Base resolution probability.
    pub fcr_base: f64,
    /// Half-width of the site resolution shifts.
    pub fcr_spread: f64,
    /// Resolution change per unit of `b_s f_t / amplitude`.
    pub fcr_loading: f64,
    /// Long-run effect on the resolution probability.
    pub effect_fcr: f64,
    /// Days for the effect to ramp up to full size.
    pub ramp_days: u32,
}

impl Default for SingleSiteConfig {
    fn default() -> Self {
        SingleSiteConfig {
            sites: 20,
            days: 70,
            release_day: 50,
            treated_site: 8,
            contacts_per_site_day: 20.0,
            weekday_volume: [1.15, 1.1, 1.05, 1.0, 0.95, 0.85, 0.9],
            base_seconds: 420.0,
            site_spread: 40.0,
            loading_spread: 0.6,
            amplitude: 30.0,
            period: 35.0,
            trend: 0.4,
            weekday_seconds: [12.0, 6.0, 0.0, -2.0, -4.0, -8.0, -4.0],
            sigma: 0.2,
            effect_seconds: -24.0,
            fcr_base: 0.72,
            fcr_spread: 0.06,
            fcr_loading: 0.03,
            effect_fcr: 0.04,
            ramp_days: 7,
        }
    }
}

/// One day of the single-site truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SingleSiteDay {
    /// Day.
    pub day: u32,
    /// Effect multiplier `m_t` at the treated site.
    pub multiplier: f64,
    /// True effect on the treated site's expected mean handle time (seconds).
    pub aht_seconds: f64,
    /// True effect on its resolution rate.
    pub fcr: f64,
    /// Contacts at the treated site that day.
    pub contacts: u32,
}

/// Truth of the single-site design, written under `single_site` in `truth.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SingleSiteTruth {
    /// Definition of the estimands.
    pub definition: String,
    /// The design's parameters.
    pub parameters: SingleSiteConfig,
    /// File with the contacts.
    pub file: String,
    /// Treated site label.
    pub treated_site: String,
    /// Release day.
    pub release_day: u32,
    /// ATT on mean handle time, equal weight per post day.
    pub att_aht_seconds: f64,
    /// ATT on the resolution rate, equal weight per post day.
    pub att_fcr: f64,
    /// ATT on handle time over the treated site's post-release contacts.
    pub att_aht_seconds_contact_weighted: f64,
    /// ATT on resolution over the treated site's post-release contacts.
    pub att_fcr_contact_weighted: f64,
    /// Site factor loadings `b_s` (site order), to show why DiD is biased here.
    pub site_loadings: Vec<f64>,
    /// Post-release days.
    pub post_days: Vec<SingleSiteDay>,
}

/// A contact of the single-site design.
#[derive(Debug, Clone, PartialEq)]
pub struct SingleSiteContact {
    /// 1-based id.
    pub contact_id: u64,
    /// Day.
    pub day: u32,
    /// 1-based site number.
    pub site: u32,
    /// Handle time (seconds).
    pub handle_seconds: f64,
    /// Resolved at first contact.
    pub fcr: bool,
    /// The model was live for this contact.
    pub model_live: bool,
}

struct World {
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
    v: Vec<f64>,
}

fn world(seed: u64, p: &SingleSiteConfig) -> (World, rand_chacha::ChaCha8Rng) {
    let mut rng = stream_rng(seed, STREAM_SINGLE_SITE);
    let n = p.sites as usize;
    let mut w = World {
        a: vec![],
        b: vec![],
        c: vec![],
        v: vec![],
    };
    for _ in 0..n {
        w.a.push(rng.random_range(-p.site_spread..=p.site_spread));
        w.b.push(1.0 + rng.random_range(-p.loading_spread..=p.loading_spread));
        w.c.push(rng.random_range(-p.fcr_spread..=p.fcr_spread));
        w.v.push(rng.random_range(0.6..=1.4));
    }
    (w, rng)
}

fn factor(p: &SingleSiteConfig, t: u32) -> f64 {
    p.amplitude * (2.0 * std::f64::consts::PI * f64::from(t) / p.period).sin()
        + p.trend * f64::from(t - 1)
}

fn multiplier(p: &SingleSiteConfig, s: u32, t: u32) -> f64 {
    if s != p.treated_site || t < p.release_day {
        0.0
    } else {
        (f64::from(t - p.release_day + 1) / f64::from(p.ramp_days.max(1))).min(1.0)
    }
}

fn count(p: &SingleSiteConfig, w: &World, s: usize, t: u32) -> u32 {
    (p.contacts_per_site_day * w.v[s] * p.weekday_volume[((t - 1) % 7) as usize]).round() as u32
}

/// Checks the parameters (positive counts, treated site and release day in range, handle
/// times and probabilities valid for every site-day).
pub fn validate_single_site(p: &SingleSiteConfig) -> Result<(), String> {
    if p.sites < 3 || p.treated_site == 0 || p.treated_site > p.sites {
        return Err(format!(
            "need >= 3 sites and 1 <= treated_site <= sites (got {} of {})",
            p.treated_site, p.sites
        ));
    }
    if p.release_day < 3 || p.release_day > p.days {
        return Err(format!(
            "release_day {} must be in 3..={}",
            p.release_day, p.days
        ));
    }
    let fmax = p.amplitude.abs() + p.trend.abs() * f64::from(p.days);
    let wmin = p
        .weekday_seconds
        .iter()
        .cloned()
        .fold(f64::INFINITY, f64::min);
    let low = p.base_seconds - p.site_spread - (1.0 + p.loading_spread) * fmax
        + wmin
        + p.effect_seconds.min(0.0);
    if low <= 0.0 {
        return Err(format!("expected handle time can reach {low:.1} s <= 0"));
    }
    let pl = p.fcr_base
        - p.fcr_spread
        - p.fcr_loading * (1.0 + p.loading_spread) * fmax / p.amplitude.abs().max(1e-12)
        + p.effect_fcr.min(0.0);
    let ph = p.fcr_base
        + p.fcr_spread
        + p.fcr_loading * (1.0 + p.loading_spread) * fmax / p.amplitude.abs().max(1e-12)
        + p.effect_fcr.max(0.0);
    if pl <= 0.0 || ph >= 1.0 {
        return Err(format!(
            "resolution probability can leave (0, 1): [{pl:.3}, {ph:.3}]"
        ));
    }
    Ok(())
}

/// Simulates the single-site design for the seed of `config` (stream 4).
pub fn simulate_single_site(
    config: &ContactCentreConfig,
    p: &SingleSiteConfig,
) -> Vec<SingleSiteContact> {
    let (w, mut rng) = world(config.seed, p);
    let mut out = Vec::new();
    let mut id = 0u64;
    for t in 1..=p.days {
        let f = factor(p, t);
        let wd = p.weekday_seconds[((t - 1) % 7) as usize];
        for s in 1..=p.sites {
            let su = (s - 1) as usize;
            let m = multiplier(p, s, t);
            let mu = p.base_seconds + w.a[su] + w.b[su] * f + wd + m * p.effect_seconds;
            let pr =
                p.fcr_base + w.c[su] + p.fcr_loading * w.b[su] * f / p.amplitude + m * p.effect_fcr;
            for _ in 0..count(p, &w, su, t) {
                id += 1;
                let e: f64 = StandardNormal.sample(&mut rng);
                let u: f64 = rng.random();
                out.push(SingleSiteContact {
                    contact_id: id,
                    day: t,
                    site: s,
                    handle_seconds: mu * (p.sigma * e - p.sigma * p.sigma / 2.0).exp(),
                    fcr: u < pr,
                    model_live: m > 0.0,
                });
            }
        }
    }
    out
}

/// The truth of the single-site design.
pub fn single_site_truth(config: &ContactCentreConfig, p: &SingleSiteConfig) -> SingleSiteTruth {
    let (w, _) = world(config.seed, p);
    let s = p.treated_site;
    let post: Vec<SingleSiteDay> = (p.release_day..=p.days)
        .map(|t| {
            let m = multiplier(p, s, t);
            SingleSiteDay {
                day: t,
                multiplier: m,
                aht_seconds: m * p.effect_seconds,
                fcr: m * p.effect_fcr,
                contacts: count(p, &w, (s - 1) as usize, t),
            }
        })
        .collect();
    let n = post.len() as f64;
    let nc: f64 = post.iter().map(|d| f64::from(d.contacts)).sum();
    SingleSiteTruth {
        definition: "Site x day panel. Effect on day t = E[mean handle_seconds (or fcr rate) of the treated site on day t \
                     | model live] - E[same | not live] = m_t*effect exactly, m_t = min(1, (t - release_day + 1)/ramp_days). \
                     att_*: mean over post-release days (equal weight per day, the site-day panel ATT); \
                     att_*_contact_weighted: weighted by the treated site's contacts per day."
            .into(),
        parameters: p.clone(),
        file: SINGLE_SITE_FILE.into(),
        treated_site: crate::record::site_label(s),
        release_day: p.release_day,
        att_aht_seconds: post.iter().map(|d| d.aht_seconds).sum::<f64>() / n,
        att_fcr: post.iter().map(|d| d.fcr).sum::<f64>() / n,
        att_aht_seconds_contact_weighted: post.iter().map(|d| d.aht_seconds * f64::from(d.contacts)).sum::<f64>() / nc,
        att_fcr_contact_weighted: post.iter().map(|d| d.fcr * f64::from(d.contacts)).sum::<f64>() / nc,
        site_loadings: w.b.clone(),
        post_days: post,
    }
}

/// Writes the single-site contacts as CSV ([`SINGLE_SITE_COLUMNS`]; seconds with one decimal).
pub fn write_single_site_csv<W: Write>(contacts: &[SingleSiteContact], w: W) -> io::Result<()> {
    let mut w = BufWriter::new(w);
    writeln!(w, "{}", SINGLE_SITE_COLUMNS.join(","))?;
    for c in contacts {
        writeln!(
            w,
            "{},{},{},{:.1},{},{}",
            c.contact_id,
            c.day,
            crate::record::site_label(c.site),
            c.handle_seconds,
            u8::from(c.fcr),
            u8::from(c.model_live)
        )?;
    }
    w.flush()
}

//! The exact truth of the intent-model release: expected KPI levels and effects per design,
//! money per value node and per confusion cell, computed from the parameters and the drawn
//! world (never from sampled contacts).

use serde::{Deserialize, Serialize};

use super::config::IntentReleaseConfig;
use super::model::{site_live, IntentCustomers, IntentDesign, IntentWorld};
use crate::record::site_label;

/// Expected values (or effects) of the four contact KPIs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KpiValues {
    /// Mean handle seconds per contact (spec KPI `aht = mean(handle_seconds)`).
    pub aht: f64,
    /// First-contact-resolution rate (spec KPI `fcr = proportion(fcr)`).
    pub fcr: f64,
    /// Mean CSAT of surveyed contacts (spec KPI `csat = mean(csat)`); surveying is
    /// independent of everything, so it equals the mean over all contacts.
    pub csat: f64,
    /// Repeat-contact rate (not a spec KPI; a guardrail).
    pub repeat_contact: f64,
}

impl KpiValues {
    fn zero() -> Self {
        KpiValues {
            aht: 0.0,
            fcr: 0.0,
            csat: 0.0,
            repeat_contact: 0.0,
        }
    }

    fn add_scaled(&mut self, o: &KpiValues, w: f64) {
        self.aht += w * o.aht;
        self.fcr += w * o.fcr;
        self.csat += w * o.csat;
        self.repeat_contact += w * o.repeat_contact;
    }

    fn minus(&self, o: &KpiValues) -> KpiValues {
        KpiValues {
            aht: self.aht - o.aht,
            fcr: self.fcr - o.fcr,
            csat: self.csat - o.csat,
            repeat_contact: self.repeat_contact - o.repeat_contact,
        }
    }
}

/// Money per value node of the specs (`[[value.node]]`), over the spec's `period`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NodeMoney {
    /// `handle_cost = contacts * aht * cost_per_second`.
    pub handle_cost: f64,
    /// `followup_cost = contacts * (1 - fcr) * cost_per_unresolved`.
    pub followup_cost: f64,
    /// `total_cost = handle_cost + followup_cost`.
    pub total_cost: f64,
}

impl NodeMoney {
    /// The value tree evaluated at KPI levels `l` with the config's constants.
    pub fn at(c: &IntentReleaseConfig, l: &KpiValues) -> Self {
        let v = &c.value;
        let handle_cost = v.contacts * l.aht * v.cost_per_second;
        let followup_cost = v.contacts * (1.0 - l.fcr) * v.cost_per_unresolved;
        NodeMoney {
            handle_cost,
            followup_cost,
            total_cost: handle_cost + followup_cost,
        }
    }

    fn minus(&self, o: &NodeMoney) -> NodeMoney {
        NodeMoney {
            handle_cost: self.handle_cost - o.handle_cost,
            followup_cost: self.followup_cost - o.followup_cost,
            total_cost: self.total_cost - o.total_cost,
        }
    }
}

/// The truth of one design (or one cohort): KPI levels without and with the release over
/// the design's target population, their difference, and the money per node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesignTruth {
    /// Which population and weighting the numbers refer to.
    pub definition: String,
    /// True KPI effects: `levels_with - levels_without`.
    pub effects: KpiValues,
    /// Expected KPI levels without the release (old model) in the target population.
    pub levels_without: KpiValues,
    /// Expected KPI levels with the release (new model) in the target population.
    pub levels_with: KpiValues,
    /// `node(levels_with) - node(levels_without)` per value node, per `period`.
    pub money: NodeMoney,
}

/// Truth of one rollout cohort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentCohortTruth {
    /// First day with the new model live.
    pub adoption_day: u32,
    /// The cohort's sites.
    pub sites: Vec<String>,
    /// The cohort's ATT (equal weight per site and post day; effects are constant in time, so
    /// this is the mean of its sites' effects) and money.
    #[serde(flatten)]
    pub truth: DesignTruth,
}

/// Truth of the rollout design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentRolloutTruth {
    /// The overall ATT in the sense of Callaway-Sant'Anna's simple aggregation on the
    /// site x day panel: equal weight per treated site-day (site-days from adoption to the
    /// last day), levels and money likewise.
    #[serde(flatten)]
    pub overall: DesignTruth,
    /// The ATT over treated contacts (each treated site-day weighted by its expected
    /// contacts `N_t w_s`).
    pub effects_contact_weighted: KpiValues,
    /// Per cohort, in adoption order.
    pub cohorts: Vec<IntentCohortTruth>,
}

/// Truth of the single-site design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentSingleSiteTruth {
    /// The switching site's label.
    pub site: String,
    /// Its first day with the new model.
    pub start_day: u32,
    /// ATT on that site over its post days (equal weight per day), levels and money.
    #[serde(flatten)]
    pub truth: DesignTruth,
}

/// The known per-contact consequences of routing true intent `k` to `j`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellPenalty {
    /// True intent.
    pub true_intent: String,
    /// Predicted intent.
    pub predicted_intent: String,
    /// Extra handle seconds.
    pub aht_seconds: f64,
    /// Change of the resolution probability (negative).
    pub fcr: f64,
    /// Change of expected CSAT (negative): `-(P^f + Q)`, via resolution and the direct drop.
    pub csat: f64,
    /// Change of the repeat-contact probability: `P^f (r_0 - r_1)`.
    pub repeat_contact: f64,
}

/// Truth of one confusion cell for the errors ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellTruth {
    /// `"error:" + true + "->" + predicted`, the label `causalkit attribute errors` uses.
    pub label: String,
    /// True intent.
    pub true_intent: String,
    /// Predicted intent.
    pub predicted_intent: String,
    /// Expected share of all contacts of the errors spec's data (`randomised.csv`, both
    /// arms) in this cell.
    pub share: f64,
    /// Expected share under the old model alone.
    pub share_old_model: f64,
    /// Expected share under the new model alone.
    pub share_new_model: f64,
    /// Per-contact KPI changes of the misroute against correct routing.
    pub per_contact: CellPenalty,
    /// Per-contact cost of the misroute through the value tree:
    /// `aht_seconds * cost_per_second - fcr * cost_per_unresolved`.
    pub cost_per_contact: f64,
    /// Saving per period if this cell's contacts were routed correctly:
    /// `total_cost(levels) - total_cost(levels with the cell fixed)` =
    /// `share * contacts * cost_per_contact`.
    pub money_per_period: f64,
    /// The same with the new model's share (what is left to fix after the release).
    pub money_per_period_new_model: f64,
}

/// Saving if the `k` costliest cells were routed correctly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixTopK {
    /// Number of cells fixed.
    pub k: usize,
    /// Saving per period (sum of their `money_per_period`: the tree is linear in the KPIs).
    pub money_per_period: f64,
}

/// Truth of the errors ranking (`errors.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorsTruth {
    /// The data file the errors spec reads.
    pub data: String,
    /// The volume constant.
    pub volume: String,
    /// The value node ranked by.
    pub value: String,
    /// Every off-diagonal cell, sorted by `money_per_period`, largest first.
    pub cells: Vec<CellTruth>,
    /// The cell labels in that order.
    pub ranking: Vec<String>,
    /// Savings of fixing the top 1, 2, ... cells.
    pub fix_top_k: Vec<FixTopK>,
}

/// Truth per site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentSiteTruth {
    /// Label, e.g. `site_03`.
    pub site: String,
    /// Share `w_s` of contacts.
    pub volume_share: f64,
    /// Intent mix `π_{s,k}`, in intent order.
    pub intent_mix: Vec<f64>,
    /// Rollout adoption day (0 = never).
    pub rollout_adoption_day: u32,
    /// Effect of the new model on the site's expected KPIs (the same every day).
    pub effect: KpiValues,
}

/// The confusion matrices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfusionTruth {
    /// Row/column labels (intent order).
    pub intents: Vec<String>,
    /// Queue labels (order of the `*_by_queue` matrices).
    pub queues: Vec<String>,
    /// Old model, `P(predicted | true)` averaged over queues (`Σ_q ρ_q C_q`).
    pub old: Vec<Vec<f64>>,
    /// New model, averaged over queues.
    pub new: Vec<Vec<f64>>,
    /// Old model per queue.
    pub old_by_queue: Vec<Vec<Vec<f64>>>,
    /// New model per queue.
    pub new_by_queue: Vec<Vec<Vec<f64>>>,
}

/// Everything written to `truth.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentTruth {
    /// The whole configuration, seed included.
    pub parameters: IntentReleaseConfig,
    /// Model and routing summary.
    pub confusion: ConfusionTruth,
    /// Per-cell penalties (off-diagonal cells, row-major).
    pub penalties: Vec<CellPenalty>,
    /// Per-site draws and effects.
    pub sites: Vec<IntentSiteTruth>,
    /// Randomised design (contact-level arms).
    pub randomised: DesignTruth,
    /// Rollout by site.
    pub rollout: IntentRolloutTruth,
    /// Single site.
    pub single_site: IntentSingleSiteTruth,
    /// Confusion cells ranked by money.
    pub errors: ErrorsTruth,
}

/// Precomputed per-site expectations.
struct Expect<'a> {
    c: &'a IntentReleaseConfig,
    w: &'a IntentWorld,
    tier_h: f64,
    tier_f: f64,
    queue_h: f64,
    queue_f: f64,
}

impl Expect<'_> {
    /// Expected per-contact misroute penalty (seconds, fcr drop, direct CSAT drop) of
    /// intent `k` under a model.
    fn intent_penalty(&self, new: bool, k: usize) -> (f64, f64, f64) {
        let c = self.c;
        let mut out = (0.0, 0.0, 0.0);
        for (q, queue) in c.queues.iter().enumerate() {
            for j in (0..c.intents.len()).filter(|&j| j != k) {
                let p = queue.share * c.confusion_in_queue(new, q, k, j);
                out.0 += p * c.penalty_seconds[k][j];
                out.1 += p * c.penalty_fcr[k][j];
                out.2 += p * c.penalty_csat_drop[k][j];
            }
        }
        out
    }

    /// Expected KPIs of a contact at site `s` (0-based) on day `t` under a model.
    fn kpis(&self, s: usize, t: u32, new: bool) -> KpiValues {
        let (c, w) = (self.c, self.w);
        let ti = (t - 1) as usize;
        let mut aht = w.site_handle[s] + w.day_handle[ti] + self.queue_h + self.tier_h;
        let mut fcr = w.site_fcr[s] + w.day_fcr[ti] + self.queue_f + self.tier_f;
        let mut csat = -1.0;
        for (k, it) in c.intents.iter().enumerate() {
            let pi = w.site_mix[s][k];
            let (ph, pf, pc) = self.intent_penalty(new, k);
            let m = 3.0 * it.csat_base[0] + 4.0 * it.csat_base[1] + 5.0 * it.csat_base[2];
            aht += pi * (it.handle_seconds + ph);
            fcr += pi * (it.fcr - pf);
            csat += pi * (m - pc);
        }
        // CSAT = B - 1[unresolved] - 1[drop]: E = Σ π (M_k - Q) - (1 - fcr).
        csat += fcr;
        let repeat_contact =
            c.repeat_if_unresolved + fcr * (c.repeat_if_resolved - c.repeat_if_unresolved);
        KpiValues {
            aht,
            fcr,
            csat,
            repeat_contact,
        }
    }

    /// Weighted average of the expected KPIs over `(site, day, weight)` cells, both models.
    fn design(&self, cells: &[(usize, u32, f64)], definition: String) -> DesignTruth {
        let total: f64 = cells.iter().map(|x| x.2).sum();
        let mut without = KpiValues::zero();
        let mut with = KpiValues::zero();
        for &(s, t, wt) in cells {
            without.add_scaled(&self.kpis(s, t, false), wt / total);
            with.add_scaled(&self.kpis(s, t, true), wt / total);
        }
        DesignTruth {
            definition,
            effects: with.minus(&without),
            levels_without: without,
            levels_with: with,
            money: NodeMoney::at(self.c, &with).minus(&NodeMoney::at(self.c, &without)),
        }
    }
}

/// Computes the truth from a valid config, its world and customers.
pub(crate) fn intent_truth_from(
    c: &IntentReleaseConfig,
    w: &IntentWorld,
    cust: &IntentCustomers,
) -> IntentTruth {
    let e = Expect {
        c,
        w,
        tier_h: cust.tier_handle_term(c),
        tier_f: cust.tier_fcr_term(c),
        queue_h: c.queues.iter().map(|q| q.share * q.handle_seconds).sum(),
        queue_f: c.queues.iter().map(|q| q.share * q.fcr).sum(),
    };
    let n_sites = c.sites as usize;
    let k_n = c.intents.len();
    let names: Vec<String> = c.intents.iter().map(|i| i.name.clone()).collect();

    // Randomised: every contact, weight N_t w_s.
    let all: Vec<(usize, u32, f64)> = (1..=c.days)
        .flat_map(|t| {
            (0..n_sites).map(move |s| {
                (
                    s,
                    t,
                    f64::from(w.day_contacts[(t - 1) as usize]) * w.site_share[s],
                )
            })
        })
        .collect();
    let randomised = e.design(
        &all,
        "expected KPI means over all contacts of randomised.csv with the old model \
         (levels_without, the control arm) and the new model (levels_with, the treatment arm)"
            .into(),
    );

    // Rollout.
    let treated_cells = |filter: &dyn Fn(usize) -> bool, contact_weight: bool| {
        let mut v = Vec::new();
        for s in (0..n_sites).filter(|&s| filter(s)) {
            for t in 1..=c.days {
                if site_live(c, w, IntentDesign::Rollout, s, t) {
                    let wt = if contact_weight {
                        f64::from(w.day_contacts[(t - 1) as usize]) * w.site_share[s]
                    } else {
                        1.0
                    };
                    v.push((s, t, wt));
                }
            }
        }
        v
    };
    let overall = e.design(
        &treated_cells(&|_| true, false),
        "ATT on the site x day panel as Callaway-Sant'Anna's simple aggregation targets: \
         expected site-day KPI means, equal weight per treated site-day (adoption day to the \
         last day), without (old model) and with (new model)"
            .into(),
    );
    let effects_contact_weighted = e
        .design(&treated_cells(&|_| true, true), String::new())
        .effects;
    let cohorts = c
        .rollout
        .iter()
        .map(|g| {
            let in_g = |s: usize| w.adoption_day[s] == g.adoption_day;
            IntentCohortTruth {
                adoption_day: g.adoption_day,
                sites: (0..n_sites)
                    .filter(|&s| in_g(s))
                    .map(|s| site_label(s as u32 + 1))
                    .collect(),
                truth: e.design(
                    &treated_cells(&in_g, false),
                    format!(
                        "cohort ATT (adoption day {}): equal weight per site-day of the cohort \
                         from adoption to the last day",
                        g.adoption_day
                    ),
                ),
            }
        })
        .collect();

    // Single site.
    let s1 = (c.single_site - 1) as usize;
    let single_cells: Vec<(usize, u32, f64)> = (c.single_site_start..=c.days)
        .map(|t| (s1, t, 1.0))
        .collect();
    let single_site = IntentSingleSiteTruth {
        site: site_label(c.single_site),
        start_day: c.single_site_start,
        truth: e.design(
            &single_cells,
            "ATT on the switching site over its post days (start day to the last day), equal \
             weight per day"
                .into(),
        ),
    };

    // Sites.
    let sites = (0..n_sites)
        .map(|s| IntentSiteTruth {
            site: site_label(s as u32 + 1),
            volume_share: w.site_share[s],
            intent_mix: w.site_mix[s].clone(),
            rollout_adoption_day: w.adoption_day[s],
            effect: e.kpis(s, 1, true).minus(&e.kpis(s, 1, false)),
        })
        .collect();

    // Confusion.
    let by_queue = |new: bool| -> Vec<Vec<Vec<f64>>> {
        (0..c.queues.len())
            .map(|q| {
                (0..k_n)
                    .map(|k| {
                        (0..k_n)
                            .map(|j| c.confusion_in_queue(new, q, k, j))
                            .collect()
                    })
                    .collect()
            })
            .collect()
    };
    let averaged = |new: bool| -> Vec<Vec<f64>> {
        (0..k_n)
            .map(|k| {
                (0..k_n)
                    .map(|j| {
                        c.queues
                            .iter()
                            .enumerate()
                            .map(|(q, qu)| qu.share * c.confusion_in_queue(new, q, k, j))
                            .sum()
                    })
                    .collect()
            })
            .collect()
    };
    let confusion = ConfusionTruth {
        intents: names.clone(),
        queues: c.queues.iter().map(|q| q.name.clone()).collect(),
        old: averaged(false),
        new: averaged(true),
        old_by_queue: by_queue(false),
        new_by_queue: by_queue(true),
    };

    // Penalties and errors.
    let penalty = |k: usize, j: usize| CellPenalty {
        true_intent: names[k].clone(),
        predicted_intent: names[j].clone(),
        aht_seconds: c.penalty_seconds[k][j],
        fcr: -c.penalty_fcr[k][j],
        csat: -(c.penalty_fcr[k][j] + c.penalty_csat_drop[k][j]),
        repeat_contact: c.penalty_fcr[k][j] * (c.repeat_if_unresolved - c.repeat_if_resolved),
    };
    let off: Vec<(usize, usize)> = (0..k_n)
        .flat_map(|k| (0..k_n).filter(move |&j| j != k).map(move |j| (k, j)))
        .collect();
    let penalties = off.iter().map(|&(k, j)| penalty(k, j)).collect();
    // Population intent shares of randomised.csv: Σ_s w_s π_{s,k}.
    let pop_mix: Vec<f64> = (0..k_n)
        .map(|k| {
            (0..n_sites)
                .map(|s| w.site_share[s] * w.site_mix[s][k])
                .sum()
        })
        .collect();
    let pt = c.treatment_probability;
    let levels = {
        let mut l = KpiValues::zero();
        l.add_scaled(&randomised.levels_without, 1.0 - pt);
        l.add_scaled(&randomised.levels_with, pt);
        l
    };
    let base_cost = NodeMoney::at(c, &levels).total_cost;
    let mut cells: Vec<CellTruth> = off
        .iter()
        .map(|&(k, j)| {
            let share_old = pop_mix[k] * confusion.old[k][j];
            let share_new = pop_mix[k] * confusion.new[k][j];
            let share = (1.0 - pt) * share_old + pt * share_new;
            let per_contact = penalty(k, j);
            let fixed = KpiValues {
                aht: levels.aht - share * per_contact.aht_seconds,
                fcr: levels.fcr - share * per_contact.fcr,
                csat: levels.csat - share * per_contact.csat,
                repeat_contact: levels.repeat_contact - share * per_contact.repeat_contact,
            };
            let cost_per_contact = per_contact.aht_seconds * c.value.cost_per_second
                - per_contact.fcr * c.value.cost_per_unresolved;
            CellTruth {
                label: format!("error:{}->{}", names[k], names[j]),
                true_intent: names[k].clone(),
                predicted_intent: names[j].clone(),
                share,
                share_old_model: share_old,
                share_new_model: share_new,
                money_per_period: base_cost - NodeMoney::at(c, &fixed).total_cost,
                money_per_period_new_model: share_new * c.value.contacts * cost_per_contact,
                cost_per_contact,
                per_contact,
            }
        })
        .collect();
    cells.sort_by(|a, b| {
        b.money_per_period
            .total_cmp(&a.money_per_period)
            .then_with(|| a.label.cmp(&b.label))
    });
    let mut acc = 0.0;
    let fix_top_k = cells
        .iter()
        .enumerate()
        .map(|(i, cell)| {
            acc += cell.money_per_period;
            FixTopK {
                k: i + 1,
                money_per_period: acc,
            }
        })
        .collect();
    let errors = ErrorsTruth {
        data: super::write::RANDOMISED_FILE.into(),
        volume: "contacts".into(),
        value: "total_cost".into(),
        ranking: cells.iter().map(|x| x.label.clone()).collect(),
        cells,
        fix_top_k,
    };

    IntentTruth {
        parameters: c.clone(),
        confusion,
        penalties,
        sites,
        randomised,
        rollout: IntentRolloutTruth {
            overall,
            effects_contact_weighted,
            cohorts,
        },
        single_site,
        errors,
    }
}

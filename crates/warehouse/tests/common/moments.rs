//! The unit moments of the warehouse (`run_moments`) against the in-process path, shared by
//! the engine tests.
//!
//! The independent implementation: per KPI and arm, the units are built in plain Rust from
//! the same rows with `causalkit_ab::influence::UnitSums` (each row's numerator and
//! denominator from the data layer's KPI transform, `causalkit_data::Kpi::transform`, summed
//! per unit; covariates averaged), as the release attribution's randomised design forms them
//! (`units_of` in crates/attribution/src/randomised.rs), and
//! `causalkit_ab::influence::unit_moments` turns them into moments. Every number of
//! `UnitMoments` must equal its reference to 1e-9 relative of the statistic's scale (a sum:
//! sqrt(n Σz²); a centred cross-product: sqrt of the product of the two entries' centred sums
//! of squares, by Cauchy–Schwarz its largest possible size), and so must the joint covariance
//! of the KPI effects from both sides' moments and from the units' influence values
//! (`effect_covariance`). Counts must be equal.
#![allow(dead_code)]

use super::close;
use causalkit_ab::influence::{
    effect_covariance, effect_covariance_from_moments, influence, pooled_theta, unit_moments,
    ArmUnits, UnitSums,
};
use causalkit_ab::MetricType;
use causalkit_data::Kpi;
use causalkit_stats::suff::ArmKpiMoments;
use causalkit_warehouse::{
    run_moments, CovariateMoments, Engine, MomentsRequest, TableName, UnitMoments,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::collections::BTreeMap;

/// The `[control, treatment]` labels.
pub const ARMS: [&str; 2] = ["control", "treatment"];

/// The covariate columns; the second's name holds a quote, a semicolon and a comment marker,
/// which the engine must read as one column.
pub const COVARIATES: [&str; 2] = ["pre1", "pre\"2; --"];

/// The numeric columns of the rows, in CSV order after `arm` and `agent`.
pub const NUMERIC: [&str; 6] = ["spend", "revenue", "orders", "fcr", "pre1", "pre\"2; --"];

/// The KPIs: a mean with a large level (1e4), a ratio, a proportion.
pub const KPIS: [(&str, MetricType); 3] = [
    ("spend=mean(spend)", MetricType::Mean),
    ("aov=ratio(revenue, orders)", MetricType::Ratio),
    ("fcr=proportion(fcr)", MetricType::Proportion),
];

/// Rows: the arm label, the agent (the unit), and the numeric columns of [`NUMERIC`].
pub struct Rows {
    /// Arm label per row.
    pub arm: Vec<Option<String>>,
    /// Agent per row.
    pub agent: Vec<Option<i64>>,
    /// Values per numeric column.
    pub values: BTreeMap<&'static str, Vec<Option<f64>>>,
}

impl Rows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.arm.len()
    }

    /// The rows as CSV (header `arm,agent,NUMERIC...` with placeholder names; missing values
    /// as empty fields; numbers in their round-trip form).
    pub fn csv(&self) -> String {
        let mut out = String::from("arm,agent,spend,revenue,orders,fcr,pre1,pre2\n");
        for i in 0..self.len() {
            let mut f = vec![
                self.arm[i].clone().unwrap_or_default(),
                self.agent[i].map(|a| a.to_string()).unwrap_or_default(),
            ];
            for c in NUMERIC {
                f.push(self.values[c][i].map(|x| x.to_string()).unwrap_or_default());
            }
            out += &f.join(",");
            out.push('\n');
        }
        out
    }
}

/// Seeded rows: 120 agents randomised to control or treatment and 6 to a holdout arm (rows
/// the moments must ignore), 3–25 rows per agent, 3% of an agent's rows in the other arm (a
/// unit in both arms is two units); with `missing`, each KPI input and covariate is missing on
/// 2–8% of rows and the arm and agent on 1%. The mean KPI `spend` has a level of 1e4 and
/// depends on the agent's skill and on `pre1`, the ratio on `pre1`, so the KPIs' effects are
/// correlated and the covariates matter.
pub fn simulate(seed: u64, missing: bool) -> Rows {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, 1.0).unwrap();
    let mut rows = Rows {
        arm: Vec::new(),
        agent: Vec::new(),
        values: NUMERIC.iter().map(|c| (*c, Vec::new())).collect(),
    };
    for agent in 0..126i64 {
        let home = if agent >= 120 {
            "holdout"
        } else if rng.random_bool(0.5) {
            ARMS[1]
        } else {
            ARMS[0]
        };
        let skill: f64 = 10.0 * noise.sample(&mut rng);
        for _ in 0..rng.random_range(3..26) {
            let mut arm = home.to_string();
            if home != "holdout" && rng.random_bool(0.03) {
                arm = if home == ARMS[0] { ARMS[1] } else { ARMS[0] }.into();
            }
            let treated = if arm == ARMS[1] { 1.0 } else { 0.0 };
            let pre1 = 100.0 + skill + 10.0 * noise.sample(&mut rng);
            let pre2 = 3.0 + noise.sample(&mut rng);
            let spend = 1.0e4
                + 5.0 * skill
                + 0.3 * (pre1 - 100.0)
                + 2.0 * pre2
                + 20.0 * noise.sample(&mut rng)
                + 5.0 * treated;
            let orders = rng.random_range(1..6) as f64;
            let revenue =
                orders * (16.0 + 6.0 * noise.sample(&mut rng)) + 0.2 * pre1 + 3.0 * treated;
            let fcr = f64::from(rng.random_bool(0.68 + 0.04 * treated) as u8);
            let mut gap = |p: f64| missing && rng.random_bool(p);
            let arm = (!gap(0.01)).then_some(arm);
            let agent = (!gap(0.01)).then_some(agent);
            let vals = [
                (spend, 0.08),
                (revenue, 0.05),
                (orders, 0.03),
                (fcr, 0.06),
                (pre1, 0.02),
                (pre2, 0.02),
            ];
            let vals: Vec<Option<f64>> =
                vals.iter().map(|(x, p)| (!gap(*p)).then_some(*x)).collect();
            rows.arm.push(arm);
            rows.agent.push(agent);
            for (c, v) in NUMERIC.iter().zip(vals) {
                rows.values.get_mut(c).unwrap().push(v);
            }
        }
    }
    rows
}

/// The in-process counterpart of [`UnitMoments`]: per KPI the units of both arms, the units
/// per arm, the covariates' moments and the rows left out per KPI.
pub struct Reference {
    /// Per KPI, `[control, treatment]` units.
    pub per_kpi: Vec<[ArmUnits; 2]>,
    /// Units per arm.
    pub units: [f64; 2],
    /// Covariates' moments per arm (None without covariates).
    pub covariates: Option<[CovariateMoments; 2]>,
    /// Rows of the two arms left out per KPI.
    pub dropped: Vec<usize>,
}

/// The arm index of a row (None: another arm or a missing one).
fn arm_of(rows: &Rows, i: usize) -> Option<usize> {
    ARMS.iter().position(|a| rows.arm[i].as_deref() == Some(*a))
}

/// Builds the [`Reference`] in plain Rust (see the module docs).
pub fn reference(rows: &Rows, kpis: &[Kpi], unit: bool, covs: &[&str]) -> Reference {
    let key = |i: usize| -> Option<u64> {
        if unit {
            rows.agent[i].map(|a| a as u64)
        } else {
            Some(i as u64)
        }
    };
    let cov_of =
        |i: usize| -> Option<Vec<f64>> { covs.iter().map(|c| rows.values[c][i]).collect() };
    let mut per_kpi = Vec::new();
    let mut dropped = Vec::new();
    for k in kpis {
        let mut sums: [UnitSums; 2] = Default::default();
        let mut left_out = 0;
        for i in 0..rows.len() {
            let Some(a) = arm_of(rows, i) else { continue };
            let inputs: Option<Vec<f64>> = k.columns().iter().map(|c| rows.values[c][i]).collect();
            let (Some(key), Some(inputs), Some(x)) = (key(i), inputs, cov_of(i)) else {
                left_out += 1;
                continue;
            };
            let (num, den) = k.transform(&inputs).unwrap();
            sums[a].add(key, num, den, x.into_iter());
        }
        per_kpi.push(sums.map(|s| s.finish().0));
        dropped.push(left_out);
    }
    // Units per arm, and each unit's covariate rows (None once a row misses one).
    let mut unit_rows: [BTreeMap<u64, Option<Vec<Vec<f64>>>>; 2] = Default::default();
    for i in 0..rows.len() {
        let (Some(a), Some(key)) = (arm_of(rows, i), key(i)) else {
            continue;
        };
        let entry = unit_rows[a].entry(key).or_insert(Some(Vec::new()));
        match (entry.as_mut(), cov_of(i)) {
            (Some(list), Some(x)) => list.push(x),
            _ => *entry = None,
        }
    }
    let units = [0, 1].map(|a| unit_rows[a].len() as f64);
    let covariates = (!covs.is_empty()).then(|| {
        [0, 1].map(|a| {
            let c = covs.len();
            let means: Vec<Vec<f64>> = unit_rows[a]
                .values()
                .flatten()
                .map(|list| {
                    (0..c)
                        .map(|q| list.iter().map(|x| x[q]).sum::<f64>() / list.len() as f64)
                        .collect()
                })
                .collect();
            let n = means.len() as f64;
            let sum: Vec<f64> = (0..c).map(|q| means.iter().map(|x| x[q]).sum()).collect();
            let mut centred = vec![0.0; c * c];
            for x in &means {
                for p in 0..c {
                    for q in 0..c {
                        centred[p * c + q] += (x[p] - sum[p] / n) * (x[q] - sum[q] / n);
                    }
                }
            }
            CovariateMoments { n, sum, centred }
        })
    });
    Reference {
        per_kpi,
        units,
        covariates,
        dropped,
    }
}

/// Σ z_p² over the units of one KPI in one arm, per entry p of z = (m, d, x…).
fn sums_of_squares(u: &ArmUnits) -> Vec<f64> {
    let w = 2 + u.x.first().map_or(0, Vec::len);
    (0..w)
        .map(|p| {
            (0..u.num.len())
                .map(|i| {
                    let z = match p {
                        0 => u.num[i],
                        1 => u.den[i],
                        _ => u.x[i][p - 2],
                    };
                    z * z
                })
                .sum()
        })
        .collect()
}

/// Asserts the warehouse's arm moments equal the reference's (see the module docs).
fn assert_arm_equal(what: &str, got: &ArmKpiMoments, want: &ArmKpiMoments, units: &[&ArmUnits]) {
    assert_eq!(got.covariates, want.covariates, "{what}: covariates");
    assert_eq!(got.kpis.len(), want.kpis.len(), "{what}: KPIs");
    assert_eq!(got.pairs.len(), want.pairs.len(), "{what}: pairs");
    let w = 2 + want.covariates;
    for (j, (g, r)) in got.kpis.iter().zip(&want.kpis).enumerate() {
        assert_eq!(g.n, r.n, "{what}: KPI {j}: n");
        let sq = sums_of_squares(units[j]);
        let mut pairs = vec![(g.sum_num, r.sum_num, sq[0]), (g.sum_den, r.sum_den, sq[1])];
        pairs.extend((0..want.covariates).map(|q| (g.sum_x[q], r.sum_x[q], sq[2 + q])));
        for (p, (a, b, s)) in pairs.into_iter().enumerate() {
            assert!(
                close(a, b, (r.n * s).sqrt()),
                "{what}: KPI {j}, sum of entry {p}: {a} vs {b}"
            );
        }
        assert!(
            close(g.sum_den_sq, r.sum_den_sq, sq[1]),
            "{what}: KPI {j}: Σd² {} vs {}",
            g.sum_den_sq,
            r.sum_den_sq
        );
    }
    let kn = want.kpis.len();
    for j in 0..kn {
        for k in j..kn {
            let i = want.pair_index(j, k);
            assert_eq!(
                got.pairs[i].n, want.pairs[i].n,
                "{what}: pair ({j}, {k}): n"
            );
            for p in 0..w {
                for q in 0..w {
                    let (a, b) = (got.pair(j, p, k, q).1, want.pair(j, p, k, q).1);
                    let scale = (want.pair(j, p, j, p).1 * want.pair(k, q, k, q).1).sqrt();
                    assert!(
                        close(a, b, scale),
                        "{what}: pair ({j}, {k}), entry ({p}, {q}): {a} vs {b} (scale {scale})"
                    );
                }
            }
        }
    }
}

/// Runs `req` on `engine` and asserts every number of its [`UnitMoments`] equals the
/// in-process reference from `rows` (see the module docs); returns the moments.
pub fn check(
    engine: &mut dyn Engine,
    req: &MomentsRequest,
    rows: &Rows,
    kpis: &[Kpi],
) -> UnitMoments {
    let covs: Vec<&str> = req.covariates.iter().map(String::as_str).collect();
    let what = format!(
        "unit {:?}, covariates {covs:?}, drop_missing {}",
        req.unit, req.drop_missing
    );
    let got = run_moments(engine, req).unwrap_or_else(|e| panic!("{what}: {e}"));
    let r = reference(rows, kpis, req.unit.is_some(), &covs);
    let want = unit_moments(&r.per_kpi);
    for a in 0..2 {
        let units: Vec<&ArmUnits> = r.per_kpi.iter().map(|u| &u[a]).collect();
        assert_arm_equal(&format!("{what}, arm {a}"), &got.arms[a], &want[a], &units);
    }
    assert_eq!(got.units, r.units, "{what}: units per arm");
    assert_eq!(got.dropped_rows, r.dropped, "{what}: dropped rows");
    match (&got.covariates, &r.covariates) {
        (None, None) => {}
        (Some(g), Some(w)) => {
            for a in 0..2 {
                let (g, w) = (&g[a], &w[a]);
                assert_eq!(g.n, w.n, "{what}, arm {a}: covariate units");
                let c = w.sum.len();
                for q in 0..c {
                    let mean = w.sum[q] / w.n;
                    let ss = w.centred[q * c + q] + w.n * mean * mean;
                    assert!(
                        close(g.sum[q], w.sum[q], (w.n * ss).sqrt()),
                        "{what}: Σx{q}"
                    );
                    for p in 0..c {
                        let scale = (w.centred[p * c + p] * w.centred[q * c + q]).sqrt();
                        assert!(
                            close(g.centred[p * c + q], w.centred[p * c + q], scale),
                            "{what}, arm {a}: covariates ({p}, {q}): {} vs {}",
                            g.centred[p * c + q],
                            w.centred[p * c + q]
                        );
                    }
                }
            }
        }
        (g, w) => panic!("{what}: covariate moments {g:?} vs {w:?}"),
    }
    // The joint covariance of the effects: from the warehouse's moments, from the reference
    // moments, and from the units' influence values.
    let types: Vec<MetricType> = KPIS.iter().map(|k| k.1).take(kpis.len()).collect();
    let from_engine = effect_covariance_from_moments(&types, &got.arms).unwrap();
    let from_ref = effect_covariance_from_moments(&types, &want).unwrap();
    let infl: Vec<_> = r
        .per_kpi
        .iter()
        .zip(&types)
        .map(|(u, t)| influence(u, *t, &pooled_theta(u, covs.len()).unwrap()))
        .collect();
    let direct = effect_covariance(&infl);
    let kn = kpis.len();
    for j in 0..kn {
        for k in 0..kn {
            let scale = (direct[(j, j)] * direct[(k, k)]).sqrt();
            for (name, m) in [
                ("reference moments", &from_ref),
                ("influence values", &direct),
            ] {
                assert!(
                    close(from_engine[(j, k)], m[(j, k)], scale),
                    "{what}: effect covariance ({j}, {k}): {} vs {name} {}",
                    from_engine[(j, k)],
                    m[(j, k)]
                );
            }
        }
    }
    // The KPIs' effects are correlated: a lost or misplaced pair would show.
    assert!(
        direct[(0, 1)].abs() > 1e-3 * (direct[(0, 0)] * direct[(1, 1)]).sqrt(),
        "{what}: {direct}"
    );
    got
}

/// The warehouse request for the KPIs of [`KPIS`] (the first `kpis`) over `table`.
pub fn request(
    table: &TableName,
    kpis: &[Kpi],
    unit: bool,
    covariates: usize,
    drop_missing: bool,
) -> MomentsRequest {
    let mut r = MomentsRequest::new(
        table.clone(),
        "arm",
        ARMS,
        kpis.iter().map(super::metric_of).collect(),
    );
    r.unit = unit.then(|| "agent".to_string());
    r.covariates = COVARIATES[..covariates]
        .iter()
        .map(|c| c.to_string())
        .collect();
    r.drop_missing = drop_missing;
    r
}

/// The KPIs of [`KPIS`], parsed.
pub fn kpis() -> Vec<Kpi> {
    KPIS.iter().map(|k| k.0.parse().unwrap()).collect()
}

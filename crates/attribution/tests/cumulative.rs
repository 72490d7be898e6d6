//! The cumulative view: randomised running effects identical to `causalkit ab`'s cumulative
//! view, the joint covariance re-derived two-pass, the money accrual, and the panel designs.

use causalkit_ab::cumulative::cumulative_effect;
use causalkit_ab::frequentist::MetricType;
use causalkit_ab::sequential::ConfidenceSequence;
use causalkit_attribution::cumulative::{self, accumulate, RunningPoint};
use causalkit_attribution::spec::ReleaseSpec;
use causalkit_attribution::Result;
use causalkit_data::Dataset;
use causalkit_stats::Effect;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ab() -> Dataset {
    Dataset::read(&root().join("datasets/contact-centre/ab_contacts.csv")).unwrap()
}

fn spec(kpis: &str) -> ReleaseSpec {
    toml::from_str(&format!(
        r#"
[release]
name = "router"
[data]
path = "ab_contacts.csv"
[design]
kind = "randomised"
arm = "arm"
control = "control"
treatment = "treatment"
time = "day"
{kpis}
"#
    ))
    .unwrap()
}

const TWO: &str = r#"
[[kpi]]
name = "handle_seconds"
expr = "mean(handle_seconds)"
better = "lower"
[[kpi]]
name = "repeat"
expr = "mean(repeat_contact)"
better = "lower"
"#;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

/// Every point equals `causalkit_ab::cumulative::cumulative_effect` (the path of `causalkit ab
/// --cumulative`) to 1e-12; the diagonal of the covariance is the squared SE.
#[test]
fn randomised_points_identical_to_ab_cumulative() {
    let data = ab();
    let path = cumulative::randomised_running_effects(&spec(TWO), &data, 0.05).unwrap();
    assert_eq!(path.len(), 56);
    let arms = data.labels("arm").unwrap();
    let days: Vec<f64> = data
        .numeric("day")
        .unwrap()
        .into_iter()
        .map(|d| d.unwrap())
        .collect();
    let side: Vec<Option<bool>> = arms
        .iter()
        .map(|a| match a.as_deref() {
            Some("control") => Some(false),
            Some("treatment") => Some(true),
            _ => None,
        })
        .collect();
    let cs = ConfidenceSequence::gbstats(5000.0, 0.05).unwrap();
    for (k, col) in ["handle_seconds", "repeat_contact"].iter().enumerate() {
        let y: Vec<f64> = data
            .numeric(col)
            .unwrap()
            .into_iter()
            .map(|v| v.unwrap())
            .collect();
        let ones = vec![1.0; y.len()];
        let pts = cumulative_effect(&days, &side, &y, &ones, MetricType::Mean, &cs, 0.05).unwrap();
        assert_eq!(pts.len(), path.len());
        for (p, q) in path.iter().zip(&pts) {
            let e = &p.effects.effects[k];
            assert_eq!(p.period, q.time as i64);
            assert!(close(e.estimate, q.estimate, 1e-12));
            assert!(close(e.ci_low.unwrap(), q.ci_low, 1e-12));
            assert!(close(e.ci_high.unwrap(), q.ci_high, 1e-12));
            let se = e.std_error.unwrap();
            assert!(close(p.effects.covariance[(k, k)], se * se, 1e-12));
        }
    }
    assert_eq!(path[0].elapsed, 1.0);
    assert_eq!(path[55].elapsed, 56.0);
}

/// The off-diagonal covariance at the last day, re-derived two-pass here: per arm
/// `Σ (x − x̄)(y − ȳ) / m²` (the linearised influence functions of two means), summed over
/// arms and turned into a correlation, times the engine's SEs. Tolerance 1e-9 (the prefix
/// sums in the library expand the products; cancellation costs a few digits). The baseline
/// is the control mean.
#[test]
fn randomised_covariance_rederived_two_pass() {
    let data = ab();
    let path = cumulative::randomised_running_effects(&spec(TWO), &data, 0.05).unwrap();
    let last = &path.last().unwrap().effects;
    let arms = data.labels("arm").unwrap();
    let x: Vec<f64> = data
        .numeric("handle_seconds")
        .unwrap()
        .into_iter()
        .map(|v| v.unwrap())
        .collect();
    let y: Vec<f64> = data
        .numeric("repeat_contact")
        .unwrap()
        .into_iter()
        .map(|v| v.unwrap())
        .collect();
    let mut c = [[0.0; 3]; 2]; // per arm: cov(x,y), var(x), var(y)
    let mut control_mean = 0.0;
    for (a, label) in ["control", "treatment"].iter().enumerate() {
        let idx: Vec<usize> = (0..x.len())
            .filter(|&i| arms[i].as_deref() == Some(label))
            .collect();
        let m = idx.len() as f64;
        let mx = idx.iter().map(|&i| x[i]).sum::<f64>() / m;
        let my = idx.iter().map(|&i| y[i]).sum::<f64>() / m;
        if a == 0 {
            control_mean = mx;
        }
        c[a][0] = idx.iter().map(|&i| (x[i] - mx) * (y[i] - my)).sum::<f64>() / (m * m);
        c[a][1] = idx.iter().map(|&i| (x[i] - mx).powi(2)).sum::<f64>() / (m * m);
        c[a][2] = idx.iter().map(|&i| (y[i] - my).powi(2)).sum::<f64>() / (m * m);
    }
    let r = (c[0][0] + c[1][0]) / ((c[0][1] + c[1][1]) * (c[0][2] + c[1][2])).sqrt();
    let (sa, sb) = (
        last.effects[0].std_error.unwrap(),
        last.effects[1].std_error.unwrap(),
    );
    assert!(
        close(last.covariance[(0, 1)], r * sa * sb, 1e-9),
        "{} vs {}",
        last.covariance[(0, 1)],
        r * sa * sb
    );
    assert!(close(
        last.covariance[(1, 0)],
        last.covariance[(0, 1)],
        1e-15
    ));
    assert!(close(last.baseline[0], control_mean, 1e-12));
}

/// Money accrual: accrued = rate × elapsed × period fraction (interval scaled alike, same
/// sign); a one-off effect (no fraction) is not accrued.
#[test]
fn accumulate_scales_rate_by_elapsed_time() {
    let data = ab();
    let path: Vec<RunningPoint> =
        cumulative::randomised_running_effects(&spec(TWO), &data, 0.05).unwrap();
    // A linear node: cost = 2,400,000 contacts/year × 0.0125 per second × handle seconds.
    let money = |e: &causalkit_attribution::KpiEffects| -> Result<Vec<Effect>> {
        let k = 2_400_000.0 * 0.0125;
        let h = &e.effects[0];
        let mut out = Effect::point("value:handle_cost", k * h.estimate);
        out.std_error = h.std_error.map(|s| k * s);
        out.ci_low = h.ci_low.map(|v| k * v);
        out.ci_high = h.ci_high.map(|v| k * v);
        Ok(vec![out])
    };
    let s = accumulate("period", "test", &path, money, Some(1.0 / 365.25)).unwrap();
    assert_eq!(s.points.len(), 56);
    for p in &s.points {
        let m = &p.money[0];
        assert_eq!(m.node, "handle_cost");
        let a = m.accrued.as_ref().unwrap();
        let f = p.elapsed / 365.25;
        assert!(close(a.estimate, m.rate.estimate * f, 1e-14));
        assert!(close(a.ci_low.unwrap(), m.rate.ci_low.unwrap() * f, 1e-14));
        assert!(close(
            a.ci_high.unwrap(),
            m.rate.ci_high.unwrap() * f,
            1e-14
        ));
        assert_eq!(a.estimate.signum(), m.rate.estimate.signum());
    }
    let one_off = accumulate("period", "test", &path, money, None).unwrap();
    assert!(one_off.points.iter().all(|p| p.money[0].accrued.is_none()));
    assert!(accumulate("period", "test", &path, money, Some(-1.0)).is_err());
    assert!(s.to_json()["points"][0]["money"][0]["rate"]["estimate"].is_number());
}

/// The time column is required for the randomised cumulative view: the error names the key.
#[test]
fn randomised_without_time_names_the_key() {
    let mut s = spec(TWO);
    s.design.as_mut().unwrap().time = None;
    let e = cumulative::randomised_running_effects(&s, &ab(), 0.05).unwrap_err();
    assert!(e.to_string().contains("design.time"), "{e}");
}

/// The dispatcher: the single-unit path ends at the SDID estimate (checked in
/// tests/single_unit.rs) and counts elapsed periods from 1.
#[test]
fn dispatch_single_unit() {
    let data =
        Dataset::read(&root().join("datasets/contact-centre/single_site_contacts.csv")).unwrap();
    let s: ReleaseSpec = toml::from_str(
        r#"
[release]
name = "router"
[data]
path = "single_site_contacts.csv"
[design]
kind = "single-unit"
unit = "site"
time = "day"
treated = "site_08"
start = 50
events = true
[[kpi]]
name = "handle_seconds"
expr = "mean(handle_seconds)"
better = "lower"
"#,
    )
    .unwrap();
    let (axis, method, path) = cumulative::running_effects(&s, &data, 0.05).unwrap();
    assert_eq!(axis, "period");
    assert!(method.contains("synthetic DiD"));
    assert_eq!(path.len(), 21);
    assert_eq!(path[0].period, 50);
    assert_eq!(path[20].elapsed, 21.0);
    assert!(path[20].effects.replicates.is_some());
}

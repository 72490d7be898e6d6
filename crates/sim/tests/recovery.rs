//! Truth recovery on large simulations: simple estimators land within 4 standard errors
//! of the analytic truth.

use causalkit_sim::{
    simulate_ab, simulate_staggered, truth, Assignment, Contact, ContactCentreConfig,
};

/// Running mean and variance (Welford).
#[derive(Default, Clone, Copy)]
struct Acc {
    n: f64,
    mean: f64,
    m2: f64,
}

impl Acc {
    fn push(&mut self, x: f64) {
        self.n += 1.0;
        let d = x - self.mean;
        self.mean += d / self.n;
        self.m2 += d * (x - self.mean);
    }
    /// Squared standard error of the mean.
    fn se2(&self) -> f64 {
        self.m2 / (self.n - 1.0) / self.n
    }
}

/// Outcomes in the order aht, fcr, csat, repeat; csat only for surveyed contacts.
fn push_outcomes(acc: &mut [Acc; 4], c: &Contact) {
    acc[0].push(c.handle_seconds);
    acc[1].push(f64::from(u8::from(c.fcr)));
    if let Some(s) = c.csat {
        acc[2].push(f64::from(s));
    }
    acc[3].push(f64::from(u8::from(c.repeat_contact)));
}

const NAMES: [&str; 4] = ["aht_seconds", "fcr", "csat", "repeat_contact"];

fn large_config() -> ContactCentreConfig {
    ContactCentreConfig {
        seed: 7,
        contacts_per_day: 7_143, // ≈ 400k contacts over 56 days
        customers: 120_000,
        ..ContactCentreConfig::default()
    }
}

#[test]
fn ab_difference_in_means_recovers_truth() {
    let config = large_config();
    let contacts = simulate_ab(&config);
    assert!(contacts.len() >= 399_000);
    let t = truth(&config);
    let mut treat = [Acc::default(); 4];
    let mut ctrl = [Acc::default(); 4];
    for c in &contacts {
        match c.assignment {
            Assignment::Ab { .. } if c.is_treated() => push_outcomes(&mut treat, c),
            Assignment::Ab { .. } => push_outcomes(&mut ctrl, c),
            Assignment::Staggered { .. } => panic!("A/B contact expected"),
        }
    }
    let share = treat[0].n / (treat[0].n + ctrl[0].n);
    assert!((share - 0.5).abs() < 0.005, "treatment share {share}");
    let truths = [t.ab.aht_seconds, t.ab.fcr, t.ab.csat, t.ab.repeat_contact];
    for i in 0..4 {
        let diff = treat[i].mean - ctrl[i].mean;
        let se = (treat[i].se2() + ctrl[i].se2()).sqrt();
        assert!(
            (diff - truths[i]).abs() < 4.0 * se,
            "{}: estimate {diff} (se {se}) vs truth {}",
            NAMES[i],
            truths[i]
        );
    }
    // Control means match the analytic control means.
    let means = [
        t.ab.control_means.aht_seconds,
        t.ab.control_means.fcr,
        t.ab.control_means.csat,
        t.ab.control_means.repeat_contact,
    ];
    for i in 0..4 {
        let se = ctrl[i].se2().sqrt();
        assert!(
            (ctrl[i].mean - means[i]).abs() < 4.0 * se,
            "control {}: {} (se {se}) vs {}",
            NAMES[i],
            ctrl[i].mean,
            means[i]
        );
    }

    // pre_handle_seconds is a useful CUPED covariate: clearly correlated with handle time.
    let n = contacts.len() as f64;
    let (mx, my) = contacts.iter().fold((0.0, 0.0), |(a, b), c| {
        (a + c.pre_handle_seconds / n, b + c.handle_seconds / n)
    });
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for c in &contacts {
        let (dx, dy) = (c.pre_handle_seconds - mx, c.handle_seconds - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    let rho = sxy / (sxx * syy).sqrt();
    assert!(rho > 0.2, "correlation of pre_handle and handle: {rho}");
}

#[test]
fn staggered_two_by_two_recovers_cohort_effect() {
    let config = large_config();
    let contacts = simulate_staggered(&config);
    let t = truth(&config);
    let cohort = config.rollout.cohorts[0].adoption_day;
    let window = config.rollout.ramp_days; // 14 days before and 14 days from adoption
    let truth_window = t
        .staggered
        .cohort_window_att(cohort, 0, window - 1)
        .unwrap();

    // cells: [cohort pre, cohort post, never pre, never post]
    let mut cells = [[Acc::default(); 4]; 4];
    for c in &contacts {
        let Assignment::Staggered {
            adoption_day,
            model_live,
        } = c.assignment
        else {
            panic!("staggered contact expected")
        };
        let group = if adoption_day == cohort {
            0
        } else if adoption_day == 0 {
            2
        } else {
            continue;
        };
        let post = if c.day >= cohort && c.day < cohort + window {
            1
        } else if c.day < cohort && c.day + window >= cohort {
            0
        } else {
            continue;
        };
        assert_eq!(model_live, group == 0 && post == 1);
        push_outcomes(&mut cells[group + post], c);
    }
    let truths = [
        truth_window.aht_seconds,
        truth_window.fcr,
        truth_window.csat,
        truth_window.repeat_contact,
    ];
    for i in 0..4 {
        let did = (cells[1][i].mean - cells[0][i].mean) - (cells[3][i].mean - cells[2][i].mean);
        let se = cells.iter().map(|c| c[i].se2()).sum::<f64>().sqrt();
        assert!(
            (did - truths[i]).abs() < 4.0 * se,
            "{}: 2x2 DiD {did} (se {se}) vs truth {}",
            NAMES[i],
            truths[i]
        );
    }
}

//! Coverage of the conformal intervals of Chernozhukov, Wüthrich & Zhu (2021, JASA) on
//! simulated data with a known effect.
//!
//! Design: 8 donors with independent AR-free factor paths, the treated unit an exact convex
//! combination of donors plus iid N(0, 1) noise, t0 = 19 pre-periods, one post period with
//! effect theta = 3. Under iid errors the residuals are exchangeable and the moving-block
//! permutation test is exact (CWZ Theorem 1): with 20 permutations and alpha = 0.1 the set
//! {p > 0.1} covers theta with probability 18/20 = 0.90 (up to ties). 300 replications:
//! binomial SE of the coverage is about 0.017; we accept [0.85, 0.95].

use causalkit_stats::resample::replicate_rng;
use causalkit_synth::abadie::{ConformalOptions, Predictors, SyntheticControl, VChoice};
use nalgebra::DMatrix;
use rand::Rng;
use rand_distr::{Distribution, Normal};

#[test]
fn conformal_coverage_simulation() {
    let reps = 300;
    let (j, t0, tt) = (8usize, 19usize, 20usize);
    let theta = 3.0;
    let normal = Normal::new(0.0, 1.0).unwrap();
    let mut covered = 0;
    for r in 0..reps {
        let mut rng = replicate_rng(20211, r as u64);
        let mut y = DMatrix::zeros(j + 1, tt);
        for d in 1..=j {
            let level: f64 = rng.random_range(0.0..20.0);
            for t in 0..tt {
                y[(d, t)] = level + 3.0 * normal.sample(&mut rng);
            }
        }
        let w = [0.3, 0.3, 0.4];
        for t in 0..tt {
            let s: f64 = (0..3).map(|i| w[i] * y[(i + 1, t)]).sum();
            y[(0, t)] = s + normal.sample(&mut rng) + if t >= t0 { theta } else { 0.0 };
        }
        let fit = SyntheticControl::new(&y, 0, t0)
            .predictors(Predictors::AllPreOutcomes)
            .v(VChoice::Equal)
            .fit()
            .unwrap();
        let c = fit
            .conformal_intervals(&ConformalOptions {
                alpha: 0.1,
                grid_points: 41,
                half_width: Some(15.0),
            })
            .unwrap();
        if c.lower[0] <= theta && theta <= c.upper[0] {
            covered += 1;
        }
    }
    let cov = covered as f64 / reps as f64;
    assert!((0.85..=0.95).contains(&cov), "coverage {cov}");
}

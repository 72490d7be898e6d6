//! Seeded, parallel resampling whose results do not depend on the number of threads.
//!
//! Replicate `b` draws from its own ChaCha8 stream, seeded from `(seed, b)`: the stream is
//! fixed by the seed and the replicate index alone, so running on 1 or 64 threads (rayon)
//! gives bit-identical results, in replicate order.

use crate::error::{invalid, Result};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// The random generator of replicate `index` under `seed`.
pub fn replicate_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

/// Runs `f(rng, b)` for replicates `b = 0..reps` in parallel and returns the results in
/// replicate order. Each replicate gets [`replicate_rng`]`(seed, b)`.
///
/// ```
/// use causalkit_stats::resample::replicate;
/// use rand::Rng;
/// let a: Vec<f64> = replicate(7, 100, |rng, _| rng.random::<f64>());
/// let b: Vec<f64> = replicate(7, 100, |rng, _| rng.random::<f64>());
/// assert_eq!(a, b);
/// ```
pub fn replicate<T, F>(seed: u64, reps: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(&mut ChaCha8Rng, usize) -> T + Sync,
{
    (0..reps)
        .into_par_iter()
        .map(|b| {
            let mut rng = replicate_rng(seed, b as u64);
            f(&mut rng, b)
        })
        .collect()
}

/// `n` indices drawn uniformly with replacement from `0..n` (a nonparametric bootstrap
/// sample).
pub fn bootstrap_indices<R: Rng>(rng: &mut R, n: usize) -> Vec<usize> {
    (0..n).map(|_| rng.random_range(0..n)).collect()
}

/// How many times each of `0..n` is drawn in the bootstrap sample [`bootstrap_indices`] would
/// draw from the same generator state (the same draws, counted). A statistic that is a sum
/// over the sample is then `Σᵢ countᵢ · xᵢ`: one pass in the data's order instead of a random
/// access per draw, which matters when a unit's values lie in several columns of a large
/// matrix.
pub fn bootstrap_counts<R: Rng>(rng: &mut R, n: usize) -> Vec<u32> {
    let mut count = vec![0u32; n];
    for _ in 0..n {
        count[rng.random_range(0..n)] += 1;
    }
    count
}

/// Multiplier weights for wild and multiplier bootstraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiplierWeights {
    /// ±1 with probability 1/2 each.
    Rademacher,
    /// Webb's six-point distribution ±√(1/2), ±1, ±√(3/2), each with probability 1/6
    /// (Webb 2023, "Reworking wild bootstrap-based inference for clustered errors",
    /// *Canadian J. Economics* 56) — better than Rademacher with fewer than ~12 clusters.
    Webb,
    /// Mammen's two-point distribution.
    Mammen,
}

impl MultiplierWeights {
    /// One draw.
    pub fn draw<R: Rng>(&self, rng: &mut R) -> f64 {
        match self {
            MultiplierWeights::Rademacher => {
                if rng.random::<bool>() {
                    1.0
                } else {
                    -1.0
                }
            }
            MultiplierWeights::Webb => {
                const V: [f64; 6] = [
                    -1.224_744_871_391_589, // -sqrt(3/2)
                    -1.0,
                    -std::f64::consts::FRAC_1_SQRT_2,
                    std::f64::consts::FRAC_1_SQRT_2,
                    1.0,
                    1.224_744_871_391_589,
                ];
                V[rng.random_range(0..6)]
            }
            MultiplierWeights::Mammen => {
                let s5 = 5f64.sqrt();
                let p = (s5 + 1.0) / (2.0 * s5);
                if rng.random::<f64>() < p {
                    -(s5 - 1.0) / 2.0
                } else {
                    (s5 + 1.0) / 2.0
                }
            }
        }
    }

    /// `n` draws, handed to `put(j, v_j)` for `j = 0..n` in order. The same distributions as
    /// [`MultiplierWeights::draw`], generated from fewer random bits (the multiplier bootstrap
    /// draws one weight per cluster and replicate): Rademacher signs are the bits of 64-bit
    /// words (`next_u64`, least significant bit first) and Mammen's two points
    /// `(1 − √5)/2` and `(1 + √5)/2` are chosen by 32-bit uniforms (little-endian words of
    /// `fill_bytes`, in blocks of 256) against `⌊p · 2³²⌋`, `p = (√5 + 1) / (2√5)`; Webb
    /// weights use [`MultiplierWeights::draw`]. The stream depends only on `rng`'s state, so
    /// with [`replicate_rng`] the draws are reproducible.
    pub fn draw_into<R: RngCore>(&self, rng: &mut R, n: usize, mut put: impl FnMut(usize, f64)) {
        match self {
            MultiplierWeights::Rademacher => {
                let mut j = 0;
                while j < n {
                    let bits = rng.next_u64();
                    let m = (n - j).min(64);
                    for b in 0..m {
                        put(j + b, if (bits >> b) & 1 == 1 { 1.0 } else { -1.0 });
                    }
                    j += m;
                }
            }
            MultiplierWeights::Mammen => {
                let s5 = 5f64.sqrt();
                let p = (s5 + 1.0) / (2.0 * s5);
                let threshold = (p * 4_294_967_296.0) as u32;
                let (lo, hi) = (-(s5 - 1.0) / 2.0, (s5 + 1.0) / 2.0);
                let mut bytes = [0u8; 4 * 256];
                for c0 in (0..n).step_by(256) {
                    let m = (n - c0).min(256);
                    rng.fill_bytes(&mut bytes[..4 * m]);
                    for (j, w) in bytes[..4 * m].chunks_exact(4).enumerate() {
                        let u = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                        put(c0 + j, if u < threshold { lo } else { hi });
                    }
                }
            }
            MultiplierWeights::Webb => {
                for j in 0..n {
                    put(j, self.draw(rng));
                }
            }
        }
    }

    /// `n` draws as a vector (see [`MultiplierWeights::draw_into`] for the stream).
    pub fn draw_n<R: RngCore>(&self, rng: &mut R, n: usize) -> Vec<f64> {
        let mut v = vec![0.0; n];
        self.draw_into(rng, n, |j, x| v[j] = x);
        v
    }
}

/// The `q` quantile of `values` by linear interpolation between order statistics
/// (Hyndman & Fan type 7, the default of R and numpy). `values` need not be sorted.
pub fn quantile(values: &[f64], q: f64) -> Result<f64> {
    if values.is_empty() {
        return Err(invalid("values", "cannot take a quantile of no values"));
    }
    if !(0.0..=1.0).contains(&q) {
        return Err(invalid(
            "q",
            format!("quantile level must lie in [0, 1], got {q}"),
        ));
    }
    if let Some(i) = values.iter().position(|v| v.is_nan()) {
        return Err(crate::error::StatsError::NonFinite {
            variable: "values".into(),
            row: i,
            value: values[i],
        });
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    Ok(v[lo] + (h - lo as f64) * (v[hi] - v[lo]))
}

/// The `q` quantile of ascending `sorted` values by inverting the empirical distribution
/// function (Hyndman & Fan 1996, "Sample quantiles in statistical packages", *The American
/// Statistician* 50, definition 1; R `quantile(type = 1)`, what R `did` uses for its
/// multiplier bootstrap): the `⌈n q⌉`-th order statistic, the first one for `q = 0`.
///
/// `sorted` must be in ascending order (`f64::total_cmp`'s order, so NaNs sorted to the ends
/// are order statistics like any other); an empty or unsorted slice or a level outside
/// `[0, 1]` is an error.
pub fn quantile_type1(sorted: &[f64], q: f64) -> Result<f64> {
    if sorted.is_empty() {
        return Err(invalid("values", "cannot take a quantile of no values"));
    }
    if !(0.0..=1.0).contains(&q) {
        return Err(invalid(
            "q",
            format!("quantile level must lie in [0, 1], got {q}"),
        ));
    }
    if let Some(i) = sorted
        .windows(2)
        .position(|w| w[0].total_cmp(&w[1]).is_gt())
    {
        return Err(invalid(
            "values",
            format!(
                "must be sorted in ascending order (values {i} and {} are not)",
                i + 1
            ),
        ));
    }
    let n = sorted.len();
    let j = ((n as f64) * q).ceil() as usize;
    Ok(sorted[j.clamp(1, n) - 1])
}

/// Sample standard deviation (n − 1 denominator) of bootstrap draws.
pub fn std_dev(values: &[f64]) -> Result<f64> {
    if values.len() < 2 {
        return Err(invalid("values", "at least two draws are needed"));
    }
    let n = values.len() as f64;
    let m = values.iter().sum::<f64>() / n;
    Ok((values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws() -> Vec<Vec<usize>> {
        replicate(42, 64, |rng, _| bootstrap_indices(rng, 10))
    }

    #[test]
    fn independent_of_thread_count() {
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(draws);
        let four = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap()
            .install(draws);
        assert_eq!(one, four);
        let other = replicate(43, 64, |rng, _| bootstrap_indices(rng, 10));
        assert_ne!(one, other);
    }

    #[test]
    fn counts_count_the_indices() {
        for n in [1usize, 7, 1000] {
            let idx = bootstrap_indices(&mut replicate_rng(5, n as u64), n);
            let count = bootstrap_counts(&mut replicate_rng(5, n as u64), n);
            let mut want = vec![0u32; n];
            for i in idx {
                want[i] += 1;
            }
            assert_eq!(count, want);
            assert_eq!(count.iter().sum::<u32>() as usize, n);
        }
    }

    #[test]
    fn multiplier_weights_have_mean_zero_variance_one() {
        for w in [
            MultiplierWeights::Rademacher,
            MultiplierWeights::Webb,
            MultiplierWeights::Mammen,
        ] {
            let mut rng = replicate_rng(1, 0);
            let n = 200_000;
            let x: Vec<f64> = (0..n).map(|_| w.draw(&mut rng)).collect();
            let m = x.iter().sum::<f64>() / n as f64;
            let v = x.iter().map(|v| v * v).sum::<f64>() / n as f64 - m * m;
            assert!(m.abs() < 0.01, "{w:?} mean {m}");
            assert!((v - 1.0).abs() < 0.01, "{w:?} var {v}");
        }
    }

    #[test]
    #[allow(clippy::float_cmp)] // order statistics are returned exactly
    fn type1_quantile() {
        // R: quantile(1:10, c(.25, .75, .95), type = 1) = 3, 8, 10.
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quantile_type1(&v, 0.25).unwrap(), 3.0);
        assert_eq!(quantile_type1(&v, 0.75).unwrap(), 8.0);
        assert_eq!(quantile_type1(&v, 0.95).unwrap(), 10.0);
        assert_eq!(quantile_type1(&v, 0.0).unwrap(), 1.0);
        assert!(quantile_type1(&[], 0.5).is_err());
        assert!(quantile_type1(&v, 1.5).is_err());
        assert!(quantile_type1(&[2.0, 1.0], 0.5).is_err());
    }

    #[test]
    fn block_multipliers_have_mean_zero_variance_one() {
        for w in [MultiplierWeights::Mammen, MultiplierWeights::Rademacher] {
            let mut rng = replicate_rng(3, 0);
            let v = w.draw_n(&mut rng, 200_000);
            let m = v.iter().sum::<f64>() / v.len() as f64;
            let var = v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64 - m * m;
            let m3 = v.iter().map(|x| x.powi(3)).sum::<f64>() / v.len() as f64;
            assert!(
                m.abs() < 0.01 && (var - 1.0).abs() < 0.01,
                "{w:?}: {m} {var}"
            );
            if w == MultiplierWeights::Mammen {
                assert!((m3 - 1.0).abs() < 0.03, "Mammen third moment {m3}");
            }
        }
    }

    #[test]
    fn mammen_block_draws_follow_next_u32() {
        // The fill_bytes path hands out the 32-bit words next_u32 would, in order.
        let (s5, n) = (5f64.sqrt(), 1000);
        let threshold = ((s5 + 1.0) / (2.0 * s5) * 4_294_967_296.0) as u32;
        let mut a = replicate_rng(9, 4);
        let mut b = replicate_rng(9, 4);
        let v = MultiplierWeights::Mammen.draw_n(&mut a, n);
        for x in v {
            let lo = b.next_u32() < threshold;
            assert!(if lo { x < 0.0 } else { x > 0.0 });
        }
    }

    #[test]
    fn quantile_matches_type_7() {
        // numpy.quantile([1, 2, 3, 4], 0.3) == 1.9
        assert!((quantile(&[4.0, 1.0, 3.0, 2.0], 0.3).unwrap() - 1.9).abs() < 1e-15);
        assert!(quantile(&[], 0.5).is_err());
        assert!(quantile(&[1.0, f64::NAN], 0.5).is_err());
    }
}

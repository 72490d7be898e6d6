//! Range checks of user-facing numeric options, shared by the estimator crates and the CLI:
//! significance levels the normal and t quantiles can represent, and replication counts
//! (bootstrap, placebo, permutation) bounded by what memory allows.
//!
//! Errors are [`StatsError::InvalidArgument`] carrying the name the caller passes — the
//! command-line flag (`--alpha`, `--bootstrap`) or the library option — so messages name what
//! the user typed.

use crate::error::{Result, StatsError};

/// Smallest significance level accepted. Below ~1e-16, `1 − α/2` rounds to 1 in double
/// precision and the normal quantile is infinite; 1e-10 keeps every two-sided critical value
/// (normal and t) finite and accurate.
pub const MIN_ALPHA: f64 = 1e-10;

/// Most replications (bootstrap draws, placebo refits) any estimator is asked to run.
pub const MAX_REPLICATIONS: usize = 1_000_000;

/// Memory the stored replicates of one estimate may take (2 GiB).
pub const REPLICATION_MEMORY_BUDGET: usize = 2 << 30;

/// Checks a two-sided significance level: finite and in `[MIN_ALPHA, 1)`. `name` is what the
/// user typed (e.g. `--alpha`), and is named in the error.
pub fn check_alpha_level(name: &str, alpha: f64) -> Result<()> {
    if alpha.is_finite() && (MIN_ALPHA..1.0).contains(&alpha) {
        Ok(())
    } else {
        Err(StatsError::InvalidArgument {
            name: name.to_string(),
            reason: format!(
                "must lie in (0, 1) and be at least {MIN_ALPHA:e} (smaller levels have no finite critical value in double precision), got {alpha}"
            ),
        })
    }
}

/// The largest replication count whose stored replicates fit the memory budget, when each
/// replicate keeps `bytes_per_rep` bytes; never more than [`MAX_REPLICATIONS`].
pub fn max_replications(bytes_per_rep: usize) -> usize {
    MAX_REPLICATIONS.min(REPLICATION_MEMORY_BUDGET / bytes_per_rep.max(1))
}

/// Checks a replication count lies in `[min, max_replications(bytes_per_rep)]`; the error
/// names `name` and states the bound and why it exists.
pub fn check_replications(name: &str, reps: usize, min: usize, bytes_per_rep: usize) -> Result<()> {
    let max = max_replications(bytes_per_rep);
    if reps < min {
        return Err(StatsError::InvalidArgument {
            name: name.to_string(),
            reason: format!("needs at least {min} replications, got {reps}"),
        });
    }
    if reps > max {
        return Err(StatsError::InvalidArgument {
            name: name.to_string(),
            reason: format!(
                "{reps} replications is more than the {max} allowed (at most {MAX_REPLICATIONS}, and the stored replicates, {bytes_per_rep} bytes each, must fit in {} GiB of memory)",
                REPLICATION_MEMORY_BUDGET >> 30
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_levels() {
        assert!(check_alpha_level("--alpha", 0.05).is_ok());
        assert!(check_alpha_level("--alpha", MIN_ALPHA).is_ok());
        for bad in [0.0, 1e-17, 1.0, 1.5, -0.1, f64::NAN, f64::INFINITY] {
            let e = check_alpha_level("--alpha", bad).unwrap_err().to_string();
            assert!(e.contains("--alpha"), "{e}");
        }
        // The smallest accepted level still has a finite normal critical value.
        let z = crate::dist::normal_quantile(1.0 - MIN_ALPHA / 2.0).unwrap();
        assert!(z.is_finite() && z > 6.0);
    }

    #[test]
    fn replication_bounds() {
        assert!(check_replications("--bootstrap", 999, 99, 8).is_ok());
        let e = check_replications("--bootstrap", 98, 99, 8)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--bootstrap") && e.contains("99"), "{e}");
        let e = check_replications("--placebo", usize::MAX, 1, 8)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--placebo") && e.contains("1000000"), "{e}");
        // A large per-replicate footprint lowers the bound below MAX_REPLICATIONS.
        assert_eq!(max_replications(1 << 20), 2048);
        assert_eq!(max_replications(0), MAX_REPLICATIONS);
    }
}

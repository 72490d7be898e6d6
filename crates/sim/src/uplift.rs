//! An uplift design with known per-customer effects: persuadables, sure things, lost causes
//! and sleeping dogs; two treatments (`email`, `call`) and a control; a 0/1 outcome
//! (`converted`) and a continuous one (`spend`). The true effects are written next to the
//! outcomes.
//!
//! Types (by `x1` in quarters of (0, 1)): persuadable (converts only if treated), sure thing
//! (always converts), lost cause (never converts), sleeping dog (converts only if *not*
//! treated). The call reaches persuadables only when `x2 > 0.5`; otherwise both arms act
//! alike. Spend: `50 + 10 x2 + N(0, 5)` untreated, plus 20 (email) / 30 (call) for a
//! reached persuadable and minus 15 for a sleeping dog.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Customer type names in the `type` column.
pub const TYPES: [&str; 4] = ["persuadable", "sure_thing", "lost_cause", "sleeping_dog"];

/// `n` customers as CSV text with header `x1,x2,region,treatment,converted,spend,type,
/// true_effect_email,true_effect_call,true_spend_effect_email,true_spend_effect_call`.
pub fn uplift_csv(n: usize, seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, 5.0).expect("valid sd");
    let mut out = String::from(
        "x1,x2,region,treatment,converted,spend,type,true_effect_email,true_effect_call,true_spend_effect_email,true_spend_effect_call\n",
    );
    for _ in 0..n {
        let x1: f64 = rng.random();
        let x2: f64 = rng.random();
        let region = ["north", "south", "east", "west"][rng.random_range(0..4)];
        let arm = rng.random_range(0..3usize);
        let ty = ((x1 * 4.0) as usize).min(3);
        let (y0, y_email) = [(0.0, 1.0), (1.0, 1.0), (0.0, 0.0), (1.0, 0.0)][ty];
        let y_call = if ty == 0 && x2 <= 0.5 { y0 } else { y_email };
        let (s_email, s_call) = match ty {
            0 => (20.0, if x2 > 0.5 { 30.0 } else { 0.0 }),
            3 => (-15.0, -15.0),
            _ => (0.0, 0.0),
        };
        let s0 = 50.0 + 10.0 * x2 + noise.sample(&mut rng);
        let (treatment, y, s) = match arm {
            0 => ("control", y0, s0),
            1 => ("email", y_email, s0 + s_email),
            _ => ("call", y_call, s0 + s_call),
        };
        out += &format!(
            "{x1},{x2},{region},{treatment},{y},{s},{},{},{},{s_email},{s_call}\n",
            TYPES[ty],
            y_email - y0,
            y_call - y0
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_follow_the_types_and_the_written_effects() {
        let text = uplift_csv(4000, 9);
        assert_eq!(text, uplift_csv(4000, 9));
        let rows: Vec<Vec<&str>> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect())
            .collect();
        assert_eq!(rows.len(), 4000);
        for r in &rows {
            let y: f64 = r[4].parse().unwrap();
            let (e, c): (f64, f64) = (r[7].parse().unwrap(), r[8].parse().unwrap());
            // Untreated conversion by type, then the written effect on top.
            let y0 = match r[6] {
                "sure_thing" | "sleeping_dog" => 1.0,
                _ => 0.0,
            };
            let expect = match r[3] {
                "control" => y0,
                "email" => y0 + e,
                _ => y0 + c,
            };
            assert!((y - expect).abs() < 1e-12, "{r:?}");
        }
        // Every type and arm occurs.
        for t in TYPES {
            assert!(rows.iter().any(|r| r[6] == t));
        }
        for a in ["control", "email", "call"] {
            assert!(rows.iter().filter(|r| r[3] == a).count() > 1200);
        }
    }
}

//! The boosted base learner alone, for the side-by-side with LightGBM 4.7
//! (`benches/results/uplift.md`; peer `benches/peers/uplift_peer_fit.py lgbm`).
//!
//! Usage: `gbdt_fit TRAIN.csv TEST.csv SCORES.csv [ROUNDS]`
//!
//! Reads two CSV files with numeric feature columns, `t` and `y` (0/1), as written by
//! `benches/peers/uplift_files.py synth ROWS FEATURES DIR csv`; fits [`Gbdt`] with the logistic
//! loss on `y` from the features (not `t`) with LightGBM's hyper-parameters of the comparison
//! (100 rounds, depth 6, learning rate 0.1, 255 bins, `min_data_in_leaf` 20, `lambda_l2` 0),
//! writes the test rows' predicted `P(y = 1)` to SCORES.csv (column `score`) and prints the
//! seconds of binning + fit (the peer's `lgb.Dataset` + `lgb.train`) on stderr.

use causalkit_uplift::{Binned, Gbdt, GbdtOptions, Loss};
use std::error::Error;
use std::io::Write;
use std::time::Instant;

/// Feature columns (names, values) and the outcome of one CSV file.
type Table = (Vec<String>, Vec<Vec<f64>>, Vec<f64>);

fn read_csv(path: &str) -> Result<Table, Box<dyn Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("empty file")?.split(',').collect();
    let y_at = header
        .iter()
        .position(|h| *h == "y")
        .ok_or("no column `y`")?;
    let feats: Vec<usize> = (0..header.len())
        .filter(|&j| header[j] != "y" && header[j] != "t")
        .collect();
    let mut cols = vec![Vec::new(); feats.len()];
    let mut y = Vec::new();
    for (row, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != header.len() {
            return Err(format!(
                "{path} row {row}: {} cells, expected {}",
                cells.len(),
                header.len()
            )
            .into());
        }
        let num = |j: usize| -> Result<f64, Box<dyn Error>> {
            cells[j].parse::<f64>().map_err(|_| {
                format!(
                    "{path} row {row} column `{}`: `{}` is not a number",
                    header[j], cells[j]
                )
                .into()
            })
        };
        for (c, &j) in cols.iter_mut().zip(&feats) {
            c.push(num(j)?);
        }
        y.push(num(y_at)?);
    }
    let names = feats.iter().map(|&j| header[j].to_string()).collect();
    Ok((names, cols, y))
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err("usage: gbdt_fit TRAIN.csv TEST.csv SCORES.csv [ROUNDS]".into());
    }
    let rounds = match args.get(4) {
        Some(r) => r.parse()?,
        None => 100,
    };
    let (names, cols, y) = read_csv(&args[1])?;
    let (test_names, test_cols, _) = read_csv(&args[2])?;
    if test_names != names {
        return Err("train and test files have different feature columns".into());
    }
    let options = GbdtOptions {
        loss: Loss::Logistic,
        n_estimators: rounds,
        learning_rate: 0.1,
        max_depth: 6,
        min_data_in_leaf: 20,
        lambda_l2: 0.0,
        seed: 1,
        ..GbdtOptions::default()
    };
    let start = Instant::now();
    let x = Binned::new(&names, &cols, 255)?;
    let model = Gbdt::fit(&x, &y, &options)?;
    let secs = start.elapsed().as_secs_f64();
    let p = model.predict(&test_cols)?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args[3])?);
    writeln!(out, "score")?;
    for v in p {
        writeln!(out, "{v:?}")?;
    }
    out.flush()?;
    eprintln!("fit_seconds {secs:.3}");
    Ok(())
}

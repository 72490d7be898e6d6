//! Shared by the engine tests of release attribution (`engine_postgres.rs`,
//! `engine_spark.rs`): the scenarios (the bundled intent-release specs, run once on their CSV
//! file and once with `[data] engine` / `table` naming the same rows loaded into the engine)
//! and the comparison of the two attributions' whole JSON output.
//!
//! The file-based run is the reference: its numbers are checked against independent
//! implementations in the other tests of this crate (A/B engine vs pandas/statsmodels,
//! Callaway-Sant'Anna vs R did, synthetic DiD vs R synthdid). The engine run aggregates the
//! same rows in SQL (sums in another order), so every number must agree to 1e-9 of its scale;
//! strings must be equal, except where the engine run says where its data came from and
//! where it reports a part that reads individual rows as not run.
#![allow(dead_code)]

use causalkit_attribution::{attribute, AttributeOptions};
use causalkit_stats::Report;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A scenario: a bundled spec (with edits to its text) and the CSV file it reads.
pub struct Scenario {
    /// Name, for messages, tables and temporary files.
    pub name: &'static str,
    /// The bundled dataset directory under `datasets/`.
    pub dir: &'static str,
    /// The spec in it.
    pub spec: &'static str,
    /// The CSV file the spec reads (also the rows loaded into the engine).
    pub csv: &'static str,
    /// Text replacements applied to the spec (`from`, `to`).
    pub edits: Vec<(&'static str, &'static str)>,
    /// Add a column `account` (the customer within the arm: `customer_id` and `arm`) to the
    /// rows, a randomisation unit of several rows in one arm.
    pub accounts: bool,
    /// Output paths computed by a derivative-free optimiser, compared to
    /// [`OPTIMISER_TOLERANCE`] instead of 1e-9 (see there).
    pub optimised: &'static [&'static str],
}

/// The tolerance of outputs found by Nelder–Mead: the Abadie synthetic control (the
/// single-unit design's cross-check) searches its predictor weights V until the simplex's
/// losses agree to `sd_tolerance` = 1e-12 (relative), which fixes V — and the weights, ATT and
/// placebo interval that follow — only to about √1e-12 = 1e-6 relative. Inputs that differ in
/// their 16th digit (the engine sums the cells in another order) can move the optimum that
/// far (2.5e-7 was seen on Spark), so these paths are compared to 1e-6. Everything else stays
/// at 1e-9: the closed-form outputs, the panel, and the synthetic-DiD fit (Frank–Wolfe),
/// which met 1e-9 on both engines.
pub const OPTIMISER_TOLERANCE: f64 = 1e-6;

impl Scenario {
    /// The rows the scenario reads: the bundled CSV file, or (with `accounts`) a copy with
    /// the `account` column written under `tmp`.
    pub fn rows(&self, tmp: &Path) -> PathBuf {
        let bundled = root().join("datasets").join(self.dir).join(self.csv);
        if !self.accounts {
            return bundled;
        }
        let text = std::fs::read_to_string(&bundled).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let at = |c: &str| header.iter().position(|h| *h == c).unwrap();
        let (cust, arm) = (at("customer_id"), at("arm"));
        let mut out = format!("{},account\n", header.join(","));
        for l in lines {
            let f: Vec<&str> = l.split(',').collect();
            out += &format!("{l},{}-{}\n", f[cust], f[arm]);
        }
        std::fs::create_dir_all(tmp).unwrap();
        let p = tmp.join(format!("{}.csv", self.name));
        std::fs::write(&p, out).unwrap();
        p
    }
}

/// The scenarios: the randomised release (CUPED on `pre_aht`, dropped missing CSAT answers,
/// a proportion and two means); the same with accounts (several rows each, summed per unit)
/// as the randomisation unit, CUPED on two covariates and a placebo KPI (the contact's
/// sequence number: balanced by randomisation); the contact-centre A/B test (a ratio KPI with
/// CUPED); the staggered rollout and the single site (events summed into weekly site cells).
pub fn scenarios() -> Vec<Scenario> {
    let s = |name, dir, spec, csv| Scenario {
        name,
        dir,
        spec,
        csv,
        edits: Vec::new(),
        accounts: false,
        optimised: &[],
    };
    vec![
        s("randomised", "intent-release", "randomised.toml", "randomised.csv"),
        Scenario {
            edits: vec![
                (
                    "covariates = [\"pre_aht\"]",
                    "covariates = [\"pre_aht\", \"day\"]\nunit = \"account\"\nplacebo_kpis = [\"contact_index\"]",
                ),
                (
                    "[[kpi]]\nname = \"aht\"",
                    "[[kpi]]\nname = \"contact_index\"\nexpr = \"mean(contact_id)\"\nbetter = \"higher\"\n\n[[kpi]]\nname = \"aht\"",
                ),
            ],
            accounts: true,
            ..s("randomised_unit", "intent-release", "randomised.toml", "randomised.csv")
        },
        s("contact_centre", "contact-centre", "release.toml", "ab_contacts.csv"),
        s("rollout", "intent-release", "rollout.toml", "rollout.csv"),
        Scenario {
            optimised: &["/diagnostics/cross_check/effects"],
            ..s("single_site", "intent-release", "single_site.toml", "single_site.csv")
        },
    ]
}

/// The spec text of `s` with its `[data] path` replaced by `data` (e.g. the engine and table
/// lines), written next to a copy of nothing else: a temporary file.
pub fn write_spec(s: &Scenario, data: &str, dir: &Path) -> PathBuf {
    let mut text =
        std::fs::read_to_string(root().join("datasets").join(s.dir).join(s.spec)).unwrap();
    for (from, to) in &s.edits {
        assert!(text.contains(from), "{}: `{from}` not in the spec", s.name);
        text = text.replacen(from, to, 1);
    }
    let path_line = format!("path = \"{}\"", s.csv);
    assert!(text.contains(&path_line), "{}: no `{path_line}`", s.name);
    let text = text.replacen(&path_line, data, 1);
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(format!("{}.toml", s.name));
    std::fs::write(&p, text).unwrap();
    p
}

/// The attribution JSON of a spec file (refuters on, default options).
pub fn run(spec: &Path) -> Value {
    let a = attribute(spec, &AttributeOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", spec.display()));
    serde_json::to_value(a.result()).unwrap()
}

/// The file-based attribution of `s` (the reference).
pub fn reference(s: &Scenario, dir: &Path) -> Value {
    let data = format!("path = \"{}\"", s.rows(dir).display());
    run(&write_spec(s, &data, dir))
}

/// Runs every scenario on its file and on the engine at `engine` (the rows loaded by
/// `load(scenario, rows) -> table name`), and compares the two outputs.
pub fn check_all(engine: &str, dir: &Path, mut load: impl FnMut(&Scenario, &Path) -> String) {
    for s in scenarios() {
        let table = load(&s, &s.rows(dir));
        let want = reference(&s, dir);
        let data = format!("engine = \"{engine}\"\ntable = \"{table}\"");
        let got = run(&write_spec(&s, &data, &dir.join("engine")));
        let n = compare(&s, &want, &got);
        println!("{}: {n} numbers equal the file-based run", s.name);
        assert!(n > 50, "{}: only {n} numbers compared", s.name);
        let source = got["diagnostics"]["data"].as_str().unwrap_or_default();
        assert!(
            source.contains(engine) && source.ends_with(&format!("table {table}")),
            "{}: data {source}",
            s.name
        );
    }
}

/// The CSV's columns: name and whether every non-empty value is a number.
pub fn csv_columns(csv: &Path) -> Vec<(String, bool)> {
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines = text.lines();
    let names: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let mut numeric = vec![true; names.len()];
    for l in lines {
        for (i, f) in l.split(',').enumerate() {
            if !f.is_empty() && f.parse::<f64>().is_err() {
                numeric[i] = false;
            }
        }
    }
    names.into_iter().zip(numeric).collect()
}

/// Compares the engine run's JSON `got` with the file run's `want` (see the module docs);
/// returns how many numbers were compared.
pub fn compare(scenario: &Scenario, want: &Value, got: &Value) -> usize {
    let mut n = 0;
    walk(scenario, "", want, got, &mut n);
    n
}

fn is_not_run(v: &Value) -> bool {
    v.get("status").and_then(Value::as_str) == Some("not run")
        || v.get("outcome").and_then(Value::as_str) == Some("not_run")
}

fn walk(sc: &Scenario, path: &str, want: &Value, got: &Value, n: &mut usize) {
    let s = sc.name;
    // Where the data came from, and the panel's description (it names the source).
    if path.ends_with("/data") || path.ends_with("/panel") || path.ends_with("/source") {
        return;
    }
    // A part that reads individual rows is not run on an engine: it must say so, and why.
    if is_not_run(got) && !is_not_run(want) {
        let why = got
            .get("why")
            .or_else(|| got.get("detail"))
            .and_then(Value::as_str)
            .unwrap_or("");
        assert!(
            why.contains("individual rows"),
            "{s}: {path} is not run without the reason: {got}"
        );
        return;
    }
    match (want, got) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            let scale = a.abs().max(b.abs());
            let tol = if sc.optimised.iter().any(|p| path.starts_with(p)) {
                OPTIMISER_TOLERANCE
            } else {
                1e-9
            };
            assert!(
                (a - b).abs() <= tol * scale + 1e-12,
                "{s}: {path}: file {a} vs engine {b}"
            );
            *n += 1;
        }
        (Value::Object(a), Value::Object(b)) => {
            let ka: Vec<&String> = a.keys().collect();
            let kb: Vec<&String> = b.keys().collect();
            assert_eq!(ka, kb, "{s}: {path}: keys differ");
            for (k, va) in a {
                walk(sc, &format!("{path}/{k}"), va, &b[k], n);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{s}: {path}: lengths differ");
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                walk(sc, &format!("{path}/{i}"), va, vb, n);
            }
        }
        (Value::String(a), Value::String(b)) if a != b => {
            // Text that quotes numbers (details, warnings) may differ in a last printed
            // digit only: compare its numbers, then the rest.
            let (ta, na) = split_numbers(a);
            let (tb, nb) = (split_numbers(b).0, split_numbers(b).1);
            assert_eq!(
                ta, tb,
                "{s}: {path}: text differs:\n file:   {a}\n engine: {b}"
            );
            assert_eq!(na.len(), nb.len(), "{s}: {path}");
            for (x, y) in na.iter().zip(&nb) {
                // Printed to 6 significant digits or so: agree to the printed precision.
                assert!(
                    (x - y).abs() <= 1e-5 * x.abs().max(y.abs()) + 1e-6,
                    "{s}: {path}: {a} vs {b}"
                );
            }
        }
        _ => assert_eq!(want, got, "{s}: {path}"),
    }
}

/// The text with every number replaced by `#`, and the numbers.
fn split_numbers(t: &str) -> (String, Vec<f64>) {
    let mut text = String::new();
    let mut nums = Vec::new();
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        let starts = c.is_ascii_digit()
            || (c == '-' && i + 1 < b.len() && (b[i + 1] as char).is_ascii_digit());
        if starts {
            let mut j = i + 1;
            while j < b.len() && ((b[j] as char).is_ascii_digit() || b[j] == b'.' || b[j] == b'e') {
                j += 1;
            }
            if let Ok(x) = t[i..j].trim_end_matches('.').parse::<f64>() {
                nums.push(x);
                text.push('#');
                i = j;
                continue;
            }
        }
        text.push(c);
        i += 1;
    }
    (text, nums)
}

//! A single deterministic uplift tree against causalml 0.18.0's `UpliftTreeClassifier`
//! (`reference/uplift_tree.json`, written by `reference/scripts/uplift_tree_reference.py`):
//! Hillstrom, outcome `visit`, 11 numeric features, depth 4, min_samples_leaf 100,
//! min_samples_treatment 10, n_reg 100; criteria KL, ED, Chi, CTS with normalisation and
//! KL, ED without; Womens vs No E-Mail (42,693 rows) and Mens + Womens vs No E-Mail
//! (64,000 rows, three groups).
//!
//! With `max_bins` above every feature's number of distinct values our candidate
//! thresholds are causalml's (midpoints between consecutive distinct values), so the trees
//! must agree exactly: the same split feature in every node, the same rows and group counts
//! in every node, and the same leaf rates (1e-12). Thresholds agree to 1e-5 relative only:
//! causalml computes midpoints of float32 copies of the features, we of the float64 values
//! (both put the same rows on each side).

use causalkit_uplift::{Binned, Criterion, TreeOptions, UpliftTree};
use serde_json::Value;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// (segment, visit, features in the script's order). `history_segment` has quoted commas,
/// so fields after it are indexed from the end of the line.
fn hillstrom() -> Vec<(String, f64, Vec<f64>)> {
    let s = std::fs::read_to_string(root().join("datasets/hillstrom.csv")).unwrap();
    let mut lines = s.lines();
    let head = lines.next().unwrap().trim_end();
    assert_eq!(
        head,
        "recency,history_segment,history,mens,womens,zip_code,newbie,channel,segment,visit,conversion,spend"
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.trim_end().split(',').collect();
            let m = f.len();
            let num = |s: &str| s.parse::<f64>().unwrap();
            let zip = f[m - 7];
            let ch = f[m - 5];
            let ind = |b: bool| if b { 1.0 } else { 0.0 };
            let x = vec![
                num(f[0]),
                num(f[m - 10]),
                num(f[m - 9]),
                num(f[m - 8]),
                num(f[m - 6]),
                ind(zip == "Rural"),
                ind(zip == "Surburban"),
                ind(zip == "Urban"),
                ind(ch == "Multichannel"),
                ind(ch == "Phone"),
                ind(ch == "Web"),
            ];
            (f[m - 4].to_string(), num(f[m - 3]), x)
        })
        .collect()
}

fn compare(ours: &UpliftTree, id: usize, theirs: &Value, path: &str) {
    let n = &ours.nodes[id];
    assert_eq!(n.n, theirs["n"].as_f64().unwrap(), "{path}: rows");
    let counts: Vec<f64> = theirs["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(n.counts, counts, "{path}: group counts");
    match theirs.get("feature") {
        None => {
            assert!(
                n.feature.is_none(),
                "{path}: causalml has a leaf, we split on {:?}",
                n.feature
            );
            for (k, v) in theirs["value"].as_array().unwrap().iter().enumerate() {
                let v = v.as_f64().unwrap();
                assert!(
                    (n.value[k] - v).abs() < 1e-12,
                    "{path}: leaf value {k}: {} vs {v}",
                    n.value[k]
                );
            }
        }
        Some(f) => {
            let f = f.as_u64().unwrap() as usize;
            let t = theirs["threshold"].as_f64().unwrap();
            if n.feature != Some(f) {
                // Two features can induce the same partition with the sides swapped (in a
                // node where a one-hot group has two levels left, `Phone <= 0.5` is
                // `Web > 0.5`): their gains tie, and causalml keeps whichever its random
                // feature order visited first, we the lower feature index. Accept the
                // mirrored split only if the children then agree swapped, row for row.
                let their_left_n = theirs["left"]["n"].as_f64().unwrap();
                assert_eq!(
                    ours.nodes[n.right].n, their_left_n,
                    "{path}: split feature {:?} vs causalml {f}, not a mirrored tie",
                    n.feature
                );
                compare(ours, n.left, &theirs["right"], &format!("{path}L~"));
                compare(ours, n.right, &theirs["left"], &format!("{path}R~"));
                return;
            }
            assert!(
                (n.threshold - t).abs() <= 1e-5 * t.abs().max(1.0),
                "{path}: threshold {} vs {t}",
                n.threshold
            );
            compare(ours, n.left, &theirs["left"], &format!("{path}L"));
            compare(ours, n.right, &theirs["right"], &format!("{path}R"));
        }
    }
}

#[test]
fn single_tree_matches_causalml() {
    let s = std::fs::read_to_string(root().join("reference/uplift_tree.json")).unwrap();
    let rf: Value = serde_json::from_str(&s).unwrap();
    let data = hillstrom();
    let names: Vec<String> = rf["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut checked = 0;
    for (design, spec) in rf["designs"].as_object().unwrap() {
        let map = spec["segments"].as_object().unwrap();
        let rows: Vec<&(String, f64, Vec<f64>)> =
            data.iter().filter(|d| map.contains_key(&d.0)).collect();
        assert_eq!(rows.len() as u64, spec["rows"].as_u64().unwrap());
        let group: Vec<usize> = rows
            .iter()
            .map(|d| map[&d.0].as_str().unwrap().parse().unwrap())
            .collect();
        let y: Vec<f64> = rows.iter().map(|d| d.1).collect();
        let cols: Vec<Vec<f64>> = (0..names.len())
            .map(|j| rows.iter().map(|d| d.2[j]).collect())
            .collect();
        let x = Binned::new(&names, &cols, 65_536).unwrap();
        for (key, t) in spec["trees"].as_object().unwrap() {
            let p = &t["params"];
            let o = TreeOptions {
                criterion: Criterion::parse(p["evaluationFunction"].as_str().unwrap()).unwrap(),
                max_depth: p["max_depth"].as_u64().unwrap() as usize,
                min_samples_leaf: p["min_samples_leaf"].as_u64().unwrap() as usize,
                min_samples_treatment: p["min_samples_treatment"].as_u64().unwrap() as usize,
                n_reg: p["n_reg"].as_f64().unwrap(),
                normalization: p["normalization"].as_bool().unwrap(),
                max_features: None,
                honest_fraction: None,
            };
            let tree = UpliftTree::fit(&x, &group, &y, &o, 0).unwrap();
            compare(&tree, 0, &t["tree"], &format!("{design}/{key}: root"));
            // Predictions on the first rows (causalml returns per-group rates).
            let first: Vec<Vec<f64>> = cols.iter().map(|c| c[..20].to_vec()).collect();
            let pred = tree.predict_groups(&first).unwrap();
            for (i, row) in t["predict_first_rows"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
            {
                for (k, v) in row.as_array().unwrap().iter().enumerate() {
                    assert!(
                        (pred[i][k] - v.as_f64().unwrap()).abs() < 1e-12,
                        "{design}/{key} row {i}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 10);
}

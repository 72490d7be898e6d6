//! Shared test helpers: the bundled Hillstrom data.
#![allow(dead_code)]

use std::path::PathBuf;

/// Repository root.
pub fn root() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One Hillstrom row: segment, visit, spend and the 11 numeric features of
/// `reference/scripts/uplift_tree_reference.py` (recency, history, mens, womens, newbie,
/// zip_code one-hot Rural/Surburban/Urban, channel one-hot Multichannel/Phone/Web).
pub struct Row {
    pub segment: String,
    pub visit: f64,
    pub spend: f64,
    pub x: Vec<f64>,
}

pub const FEATURES: [&str; 11] = [
    "recency",
    "history",
    "mens",
    "womens",
    "newbie",
    "zip_Rural",
    "zip_Surburban",
    "zip_Urban",
    "channel_Multichannel",
    "channel_Phone",
    "channel_Web",
];

/// datasets/hillstrom.csv (`history_segment` has quoted commas, so fields after it are
/// indexed from the end of the line).
pub fn hillstrom() -> Vec<Row> {
    let s = std::fs::read_to_string(root().join("datasets/hillstrom.csv")).unwrap();
    let mut lines = s.lines();
    assert_eq!(
        lines.next().unwrap().trim_end(),
        "recency,history_segment,history,mens,womens,zip_code,newbie,channel,segment,visit,conversion,spend"
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.trim_end().split(',').collect();
            let m = f.len();
            let num = |s: &str| s.parse::<f64>().unwrap();
            let ind = |b: bool| if b { 1.0 } else { 0.0 };
            let (zip, ch) = (f[m - 7], f[m - 5]);
            Row {
                segment: f[m - 4].to_string(),
                visit: num(f[m - 3]),
                spend: num(f[m - 1]),
                x: vec![
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
                ],
            }
        })
        .collect()
}

/// Column-major features of the given rows.
pub fn columns(rows: &[&Row]) -> Vec<Vec<f64>> {
    (0..FEATURES.len())
        .map(|j| rows.iter().map(|r| r.x[j]).collect())
        .collect()
}

pub fn names() -> Vec<String> {
    FEATURES.iter().map(|s| s.to_string()).collect()
}

/// The 70/30 split of `reference/uplift_metrics.json` (Womens E-Mail vs No E-Mail): test row
/// numbers as stored there, train = the other rows of the two segments.
pub fn womens_split(data: &[Row]) -> (Vec<usize>, Vec<usize>) {
    let s = std::fs::read_to_string(root().join("reference/uplift_metrics.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    let test: Vec<usize> = v["hillstrom"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect();
    let mut is_test = vec![false; data.len()];
    for &i in &test {
        is_test[i] = true;
    }
    let train = (0..data.len())
        .filter(|&i| {
            !is_test[i] && matches!(data[i].segment.as_str(), "Womens E-Mail" | "No E-Mail")
        })
        .collect();
    (train, test)
}

/// causalml's forest Qini on that split (scikit-uplift `qini_auc_score`), from the file.
pub fn causalml_forest_qini() -> f64 {
    let s = std::fs::read_to_string(root().join("reference/uplift_metrics.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    v["hillstrom"]["results"]["forest/visit"]["qini_auc"]
        .as_f64()
        .unwrap()
}

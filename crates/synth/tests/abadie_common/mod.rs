//! Shared loader of the Prop 99 panel for the Abadie tests.
#![allow(dead_code)]

use nalgebra::DMatrix;

/// Prop 99 panel: outcome matrix (39 states x 31 years, 1970-2000), state names, years,
/// California's row index. Read from datasets/california_prop99.csv
/// (columns State, Year, PacksPerCapita, treated; see datasets/PROVENANCE.md).
pub struct Prop99 {
    pub y: DMatrix<f64>,
    pub states: Vec<String>,
    pub years: Vec<i64>,
    pub california: usize,
}

pub fn prop99() -> Prop99 {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../datasets/california_prop99.csv"
    );
    let text = std::fs::read_to_string(path).expect("datasets/california_prop99.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header, ["State", "Year", "PacksPerCapita", "treated"]);
    let mut rows = Vec::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        rows.push((
            f[0].to_string(),
            f[1].parse::<i64>().unwrap(),
            f[2].parse::<f64>().unwrap(),
        ));
    }
    let mut states: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    states.sort();
    states.dedup();
    let mut years: Vec<i64> = rows.iter().map(|r| r.1).collect();
    years.sort();
    years.dedup();
    let mut y = DMatrix::from_element(states.len(), years.len(), f64::NAN);
    for (s, t, v) in &rows {
        let i = states.binary_search(s).unwrap();
        let j = years.binary_search(t).unwrap();
        y[(i, j)] = *v;
    }
    let california = states.iter().position(|s| s == "California").unwrap();
    Prop99 {
        y,
        states,
        years,
        california,
    }
}

impl Prop99 {
    pub fn year(&self, y: i64) -> usize {
        self.years.iter().position(|&x| x == y).unwrap()
    }
    pub fn labels(&self) -> Vec<String> {
        self.years.iter().map(|y| y.to_string()).collect()
    }
}

//! Helpers for the reference tests: a small CSV reader (quoted fields allowed) and the
//! reference JSON. Kept here so the numeric core's tests need no data-frame library.

use serde_json::Value;
use std::collections::HashMap;

pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

fn split_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

impl Csv {
    pub fn read(name: &str) -> Csv {
        let path = format!("{}/../../datasets/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut lines = text.lines();
        let header = split_line(lines.next().expect("header"));
        let rows = lines.filter(|l| !l.is_empty()).map(split_line).collect();
        Csv { header, rows }
    }
    fn idx(&self, col: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == col)
            .unwrap_or_else(|| panic!("no column {col}"))
    }
    pub fn num(&self, col: &str) -> Vec<f64> {
        let j = self.idx(col);
        self.rows
            .iter()
            .map(|r| r[j].parse::<f64>().unwrap())
            .collect()
    }
    pub fn text(&self, col: &str) -> Vec<String> {
        let j = self.idx(col);
        self.rows.iter().map(|r| r[j].clone()).collect()
    }
}

pub fn reference() -> Value {
    let path = format!("{}/../../reference/stats.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn vec_f(v: &Value) -> Vec<Option<f64>> {
    v.as_array().unwrap().iter().map(|x| x.as_f64()).collect()
}

#[track_caller]
pub fn assert_rel(got: f64, want: f64, rel: f64, what: &str) {
    let err = (got - want).abs() / want.abs().max(1e-300);
    assert!(
        err <= rel,
        "{what}: got {got:.15e}, want {want:.15e}, rel err {err:.3e} > {rel:.1e}"
    );
}

#[allow(dead_code)]
pub fn by_name(v: &[String]) -> HashMap<String, usize> {
    v.iter().enumerate().map(|(i, s)| (s.clone(), i)).collect()
}

//! Shared helpers: the simulator's CSV text as calibration and experiment data.
#![allow(dead_code)]

use causalkit_reward::{CalibrationData, ExperimentData};
use std::collections::BTreeMap;

/// Header and rows of a CSV text (no quoting in the simulator's files).
pub fn parse(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    (header, rows)
}

pub fn column(h: &[String], rows: &[Vec<String>], name: &str) -> Vec<Option<f64>> {
    let j = h.iter().position(|x| x == name).unwrap();
    rows.iter()
        .map(|r| {
            if r[j].is_empty() {
                None
            } else {
                Some(r[j].parse().unwrap())
            }
        })
        .collect()
}

pub const SIGNALS: [&str; 5] = ["click", "add_to_cart", "purchase", "return", "order_value"];

pub fn calibration_data(text: &str, covariates: &[&str], unit: Option<usize>) -> CalibrationData {
    let (h, rows) = parse(text);
    let dense = |n: &str| {
        column(&h, &rows, n)
            .into_iter()
            .map(|v| v.unwrap())
            .collect()
    };
    CalibrationData {
        long_term_name: "revenue_90d".into(),
        long_term: dense("revenue_90d"),
        signals: SIGNALS.iter().map(|s| (s.to_string(), dense(s))).collect(),
        covariates: covariates
            .iter()
            .map(|s| (s.to_string(), dense(s)))
            .collect(),
        unit: unit.map(|k| {
            (
                "group".to_string(),
                (0..rows.len()).map(|i| format!("g{}", i / k)).collect(),
            )
        }),
    }
}

pub fn experiment_data(text: &str) -> ExperimentData {
    let (h, rows) = parse(text);
    let arm_j = h.iter().position(|x| x == "arm").unwrap();
    let mut columns = BTreeMap::new();
    for name in &h {
        if name != "arm" && name != "customer" {
            columns.insert(name.clone(), column(&h, &rows, name));
        }
    }
    ExperimentData {
        arm_name: "arm".into(),
        arm: rows.iter().map(|r| Some(r[arm_j].clone())).collect(),
        unit: None,
        columns,
    }
}

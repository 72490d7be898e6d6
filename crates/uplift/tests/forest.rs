//! Uplift forests: thread-count independence, and Qini on Hillstrom against causalml's
//! forest with the same settings on the same split.

mod common;
use causalkit_uplift::metrics::{qini_auc, Ranked};
use causalkit_uplift::{Binned, Criterion, ForestOptions, TreeOptions, UpliftForest};
use common::*;

#[test]
fn forest_is_identical_for_1_and_4_threads() {
    let data = hillstrom();
    // Womens vs No E-Mail, the first 8,000 such rows, 12 trees.
    let rows: Vec<&Row> = data
        .iter()
        .filter(|r| r.segment != "Mens E-Mail")
        .take(8000)
        .collect();
    let cols = columns(&rows);
    let x = Binned::new(&names(), &cols, 64).unwrap();
    let group: Vec<usize> = rows
        .iter()
        .map(|r| usize::from(r.segment == "Womens E-Mail"))
        .collect();
    let y: Vec<f64> = rows.iter().map(|r| r.visit).collect();
    let o = ForestOptions {
        n_trees: 12,
        seed: 99,
        tree: TreeOptions {
            max_features: Some(4),
            honest_fraction: Some(0.5),
            ..ForestOptions::default().tree
        },
        ..Default::default()
    };
    let fit = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| UpliftForest::fit(&x, &group, &y, &o).unwrap())
    };
    let a = fit(1);
    let b = fit(4);
    assert_eq!(a, b);
    assert!(a.trees.iter().any(|t| t.nodes.len() > 1));
    let c = UpliftForest::fit(
        &x,
        &group,
        &y,
        &ForestOptions {
            seed: 100,
            ..o.clone()
        },
    )
    .unwrap();
    assert_ne!(a, c);
    assert_eq!(a.predict(&cols).unwrap(), b.predict(&cols).unwrap());
}

#[test]
fn hillstrom_forest_qini_at_least_causalml() {
    // causalml 0.18 UpliftRandomForestClassifier(n_estimators=100, max_depth=5,
    // evaluationFunction="KL", random_state=42) fitted on the same 29,885 training rows
    // scores qini_auc_score = 0.0694 on the 12,808 test rows
    // (reference/uplift_metrics.json, "forest/visit"). Same settings here (100 trees, KL,
    // depth 5, causalml's forest defaults: 10 features per node, min_samples_leaf 100,
    // min_samples_treatment 10, n_reg 10, normalisation), 255 bins per feature.
    let data = hillstrom();
    let (train, test) = womens_split(&data);
    let tr: Vec<&Row> = train.iter().map(|&i| &data[i]).collect();
    let te: Vec<&Row> = test.iter().map(|&i| &data[i]).collect();
    let x = Binned::new(&names(), &columns(&tr), 255).unwrap();
    let group: Vec<usize> = tr
        .iter()
        .map(|r| usize::from(r.segment == "Womens E-Mail"))
        .collect();
    let y: Vec<f64> = tr.iter().map(|r| r.visit).collect();
    let o = ForestOptions {
        n_trees: 100,
        seed: 42,
        tree: TreeOptions {
            criterion: Criterion::Kl,
            max_depth: 5,
            ..ForestOptions::default().tree
        },
        ..Default::default()
    };
    let forest = UpliftForest::fit(&x, &group, &y, &o).unwrap();
    let score: Vec<f64> = forest
        .predict(&columns(&te))
        .unwrap()
        .into_iter()
        .map(|v| v[0])
        .collect();
    let yt: Vec<f64> = te.iter().map(|r| r.visit).collect();
    let wt: Vec<bool> = te.iter().map(|r| r.segment == "Womens E-Mail").collect();
    let q = qini_auc(&Ranked::new(&yt, &wt, &score, 0.0).unwrap(), true).unwrap();
    let theirs = causalml_forest_qini();
    eprintln!("forest qini_auc: ours {q:.5}, causalml {theirs:.5}");
    assert!(q >= theirs, "ours {q} < causalml {theirs}");
}

#[test]
fn hillstrom_forest_qini_over_seeds() {
    // One seed is one draw: over seeds 0..4 causalml's forest scores a mean Qini of 0.07230
    // (reference/uplift_forest.json; per seed 0.0710, 0.0745, 0.0699, 0.0739, 0.0722).
    // Ours over the same seeds must not be worse by more than two standard errors of the
    // difference of the two means (measured: 0.0720, i.e. equal within noise, not better).
    let s = std::fs::read_to_string(root().join("reference/uplift_forest.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    let theirs: Vec<f64> = v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["qini_auc"].as_f64().unwrap())
        .collect();
    let data = hillstrom();
    let (train, test) = womens_split(&data);
    let tr: Vec<&Row> = train.iter().map(|&i| &data[i]).collect();
    let te: Vec<&Row> = test.iter().map(|&i| &data[i]).collect();
    let x = Binned::new(&names(), &columns(&tr), 255).unwrap();
    let group: Vec<usize> = tr
        .iter()
        .map(|r| usize::from(r.segment == "Womens E-Mail"))
        .collect();
    let y: Vec<f64> = tr.iter().map(|r| r.visit).collect();
    let yt: Vec<f64> = te.iter().map(|r| r.visit).collect();
    let wt: Vec<bool> = te.iter().map(|r| r.segment == "Womens E-Mail").collect();
    let ours: Vec<f64> = (0..5u64)
        .map(|seed| {
            let o = ForestOptions {
                seed,
                ..Default::default()
            };
            let f = UpliftForest::fit(&x, &group, &y, &o).unwrap();
            let sc: Vec<f64> = f
                .predict(&columns(&te))
                .unwrap()
                .into_iter()
                .map(|v| v[0])
                .collect();
            qini_auc(&Ranked::new(&yt, &wt, &sc, 0.0).unwrap(), true).unwrap()
        })
        .collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let var = |v: &[f64]| {
        let m = mean(v);
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64
    };
    let se = (var(&ours) / 5.0 + var(&theirs) / 5.0).sqrt();
    eprintln!(
        "mean Qini over seeds 0..4: ours {:.5}, causalml {:.5}, se of difference {se:.5}",
        mean(&ours),
        mean(&theirs)
    );
    assert!(mean(&ours) >= mean(&theirs) - 2.0 * se);
}

//! `causalkit simulate intent-release`: the bundled dataset is reproduced byte for byte,
//! every file written is listed in every format, and bad flags exit with code 2.

mod common;

use common::*;

const FILES: [&str; 8] = [
    "randomised.csv",
    "rollout.csv",
    "single_site.csv",
    "randomised.toml",
    "rollout.toml",
    "single_site.toml",
    "errors.toml",
    "truth.json",
];

#[test]
fn simulate_intent_release_reproduces_the_bundled_dataset_byte_for_byte() {
    let dir = tmp_dir().join("intent-bundled");
    let d = dir.display().to_string();
    // The command recorded in datasets/PROVENANCE.md.
    let v = ok_json(&[
        "simulate",
        "intent-release",
        "--seed",
        "20240612",
        "--out",
        &d,
        "--format",
        "json",
    ]);
    assert_eq!(v["contacts_per_design"], 20160);
    for f in FILES {
        let ours = std::fs::read(dir.join(f)).unwrap();
        let bundled = std::fs::read(root().join("datasets/intent-release").join(f)).unwrap();
        assert!(ours == bundled, "{f} differs from the bundled copy");
    }
    // The summary's true effects are the truth file's.
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
    let effects = v["true_effects"].as_array().unwrap();
    let find = |design: &str, kpi: &str| {
        effects
            .iter()
            .find(|e| e["design"] == design && e["kpi"] == kpi)
            .unwrap()["effect"]
            .clone()
    };
    assert_eq!(
        find("randomised", "aht"),
        truth["randomised"]["effects"]["aht"]
    );
    assert_eq!(find("rollout", "fcr"), truth["rollout"]["effects"]["fcr"]);
    assert_eq!(
        find("single_site", "value:total_cost"),
        truth["single_site"]["money"]["total_cost"]
    );
    assert_eq!(
        v["top_errors"][0]["label"], truth["errors"]["ranking"][0],
        "top cell"
    );
}

#[test]
fn simulate_intent_release_lists_every_file_in_every_format() {
    let dir = tmp_dir().join("intent-files");
    let d = dir.display().to_string();
    let v = ok_json(&[
        "simulate",
        "intent-release",
        "--out",
        &d,
        "--format",
        "json",
    ]);
    let mut listed: Vec<String> = v["files"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| {
            std::path::Path::new(p.as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    listed.sort();
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    assert_eq!(listed, on_disk, "JSON lists exactly the files written");
    let mut want = FILES.map(String::from).to_vec();
    want.sort();
    assert_eq!(on_disk, want);

    let table = ok(&["simulate", "intent-release", "--out", &d]);
    for f in FILES {
        assert!(table.contains(f), "table lacks {f}: {table}");
    }
    assert!(table.contains("error:"), "{table}");
    let out = run(&["simulate", "intent-release", "--out", &d, "--format", "csv"]);
    assert!(out.status.success());
    assert!(stdout(&out).starts_with("design,kpi,true_effect\n"));
    let err = stderr(&out);
    for f in FILES {
        assert!(
            err.contains(&format!("wrote {}", dir.join(f).display())),
            "{err}"
        );
    }
}

#[test]
fn simulate_intent_release_bad_flags_exit_2() {
    let e = bad(&[
        "simulate",
        "intent-release",
        "--out",
        "target/never",
        "--scale",
        "0",
    ]);
    assert!(e.contains("--scale") && e.contains("at least 1"), "{e}");
    let file = tmp("intent_not_a_dir.txt", "x");
    let e = bad(&["simulate", "intent-release", "--out", &file]);
    assert!(e.contains("intent_not_a_dir.txt"), "{e}");
}

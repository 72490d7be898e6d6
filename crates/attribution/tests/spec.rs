//! Release spec loading and validation: every bad spec named in issue 12 (unknown key, missing
//! column, a KPI name used in a value expression but not defined, a cycle in the value tree, a
//! design key that does not fit the kind) and the other refusals, each with its message naming
//! the file and the key.

use causalkit_attribution::spec::ReleaseSpec;
use causalkit_attribution::AttributionError;
use std::path::{Path, PathBuf};

const CSV: &str = "arm,aht,fcr,pre_aht,site\ncontrol,300,1,310,a\ntreatment,280,0,300,b\n\
control,320,1,330,a\ntreatment,290,1,280,b\n";

const GOOD: &str = r#"
[release]
name = "router-v2"

[data]
path = "data/contacts.csv"

[design]
kind = "randomised"
arm = "arm"
control = "control"
treatment = "treatment"
covariates = ["pre_aht"]

[[kpi]]
name = "aht"
expr = "mean(aht)"
better = "lower"

[[kpi]]
name = "fcr"
expr = "proportion(fcr)"
better = "higher"

[value]
period = "year"
[value.constants]
contacts = 2400000
cost_per_second = 0.0125
cost_per_unresolved = 6.0

[[value.node]]
name = "handle_cost"
expr = "contacts * aht * cost_per_second"
[[value.node]]
name = "followup_cost"
expr = "contacts * (1 - fcr) * cost_per_unresolved"
[[value.node]]
name = "total_cost"
expr = "handle_cost + followup_cost"
"#;

/// A fresh directory with `data/contacts.csv` and the spec at `spec/<name>.toml`.
fn setup(name: &str, spec: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("causalkit-attr-spec-{}-{name}", std::process::id()));
    std::fs::create_dir_all(dir.join("spec/data")).unwrap();
    std::fs::write(dir.join("spec/data/contacts.csv"), CSV).unwrap();
    let path = dir.join(format!("spec/{name}.toml"));
    std::fs::write(&path, spec).unwrap();
    path
}

/// Loads the spec (and its data) and returns the error's key and full message.
fn fails(name: &str, spec: &str) -> (String, String) {
    let path = setup(name, spec);
    let err = ReleaseSpec::load(&path)
        .and_then(|s| s.load_data().map(|_| ()))
        .expect_err("the spec should be refused");
    let text = err.to_string();
    assert!(
        text.contains(&format!("{name}.toml")),
        "the message names the file: {text}"
    );
    match err {
        AttributionError::Spec { key, .. } => (key, text),
        other => panic!("expected a spec error, got {other:?}"),
    }
}

#[test]
fn good_spec_loads_with_paths_relative_to_the_spec_file() {
    let path = setup("good", GOOD);
    // Load from another working directory's point of view: the path is resolved against the
    // spec file's directory, not the current directory.
    let spec = ReleaseSpec::load(&path).unwrap();
    assert_eq!(
        spec.data_path().unwrap(),
        path.parent().unwrap().join("data/contacts.csv")
    );
    let data = spec.load_data().unwrap();
    assert_eq!(data.height(), 4);
    assert_eq!(spec.kpi_names(), vec!["aht", "fcr"]);
    assert!(spec.file.ends_with("good.toml"));
}

#[test]
fn unknown_key_names_the_key_path() {
    let (k, m) = fails(
        "unknown_design",
        &GOOD.replace("arm = \"arm\"", "arm = \"arm\"\ncolour = \"red\""),
    );
    assert_eq!(k, "design.colour");
    assert!(m.contains("unknown field `colour`"), "{m}");
    let (k, m) = fails(
        "unknown_kpi",
        &GOOD.replace("better = \"higher\"", "better = \"higher\"\ndirection = 1"),
    );
    assert_eq!(k, "kpi[2].direction");
    assert!(m.contains("unknown field `direction`"), "{m}");
    let (k, _) = fails("unknown_top", &format!("{GOOD}\n[extras]\na = 1\n"));
    assert_eq!(k, "extras");
    let (k, _) = fails(
        "unknown_node",
        &GOOD.replace(
            "name = \"total_cost\"",
            "name = \"total_cost\"\nunits = \"EUR\"",
        ),
    );
    assert_eq!(k, "value.node[3].units");
}

#[test]
fn unknown_better_is_refused() {
    let (k, m) = fails(
        "better",
        &GOOD.replace("better = \"lower\"", "better = \"sideways\""),
    );
    assert_eq!(k, "kpi[1].better");
    assert!(m.contains("sideways"), "{m}");
}

#[test]
fn missing_key_names_it() {
    let (k, m) = fails("no_name", &GOOD.replace("name = \"router-v2\"", ""));
    assert_eq!(k, "release.name");
    assert!(m.contains("missing field `name`"), "{m}");
    let (k, m) = fails("no_arm", &GOOD.replace("arm = \"arm\"\n", ""));
    assert_eq!(k, "design.arm");
    assert!(m.contains("needs `arm`"), "{m}");
}

#[test]
fn missing_columns_name_key_and_column() {
    let (k, m) = fails(
        "arm_col",
        &GOOD.replace("arm = \"arm\"", "arm = \"variant\""),
    );
    assert_eq!(k, "design.arm");
    assert!(
        m.contains("column `variant` is not in") && m.contains("contacts.csv"),
        "{m}"
    );
    let (k, m) = fails(
        "cov_col",
        &GOOD.replace(
            "covariates = [\"pre_aht\"]",
            "covariates = [\"pre_handle\"]",
        ),
    );
    assert_eq!(k, "design.covariates");
    assert!(m.contains("`pre_handle`"), "{m}");
    let (k, m) = fails(
        "kpi_col",
        &GOOD.replace(
            "expr = \"mean(aht)\"",
            "expr = \"ratio(handle_seconds, count)\"",
        ),
    );
    assert_eq!(k, "kpi.aht.expr");
    assert!(m.contains("`handle_seconds`"), "{m}");
}

#[test]
fn undefined_name_in_a_value_expression() {
    let (k, m) = fails(
        "undefined",
        &GOOD.replace(
            "contacts * aht * cost_per_second",
            "contacts * ahtt * cost_per_second",
        ),
    );
    assert_eq!(k, "value.node.handle_cost.expr");
    assert!(m.contains("unknown name `ahtt`"), "{m}");
}

#[test]
fn cycle_in_the_value_tree() {
    let (k, m) = fails(
        "cycle",
        &GOOD.replace(
            "contacts * aht * cost_per_second",
            "total_cost * aht * cost_per_second",
        ),
    );
    assert_eq!(k, "value.node.handle_cost.expr");
    assert!(
        m.contains("cycle: handle_cost -> total_cost -> handle_cost"),
        "{m}"
    );
}

#[test]
fn design_key_that_does_not_fit_the_kind() {
    let (k, m) = fails(
        "kind_key",
        &GOOD.replace("arm = \"arm\"", "arm = \"arm\"\nadoption = \"cohort\""),
    );
    assert_eq!(k, "design.adoption");
    assert!(m.contains("does not apply to a randomised design"), "{m}");
    let rollout = GOOD.replace(
        "kind = \"randomised\"\narm = \"arm\"\ncontrol = \"control\"\ntreatment = \"treatment\"\ncovariates = [\"pre_aht\"]",
        "kind = \"rollout\"\nunit = \"site\"\ntime = \"aht\"\nadoption = \"fcr\"\ntreated = \"S07\"",
    );
    let (k, m) = fails("kind_key_rollout", &rollout);
    assert_eq!(k, "design.treated");
    assert!(m.contains("rollout design"), "{m}");
}

#[test]
fn duplicate_kpi_names() {
    let (k, m) = fails("dup", &GOOD.replace("name = \"fcr\"", "name = \"aht\""));
    assert_eq!(k, "kpi.aht.name");
    assert!(m.contains("two [[kpi]] entries are named `aht`"), "{m}");
}

#[test]
fn placebo_kpi_that_is_not_a_kpi() {
    let (k, m) = fails(
        "placebo",
        &GOOD.replace(
            "arm = \"arm\"",
            "arm = \"arm\"\nplacebo_kpis = [\"repeat\"]",
        ),
    );
    assert_eq!(k, "design.placebo_kpis");
    assert!(m.contains("`repeat` is not a KPI"), "{m}");
}

#[test]
fn kpi_expression_that_does_not_parse() {
    let (k, m) = fails("bad_expr", &GOOD.replace("mean(aht)", "median(aht)"));
    assert_eq!(k, "kpi.aht.expr");
    assert!(m.contains("median"), "{m}");
}

#[test]
fn node_named_like_a_kpi() {
    let (k, _) = fails(
        "node_kpi",
        &GOOD.replace("name = \"total_cost\"", "name = \"fcr\""),
    );
    assert_eq!(k, "value.node.fcr.name");
}

#[test]
fn unreadable_spec_file() {
    let err = ReleaseSpec::load(Path::new("/nonexistent/release.toml")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/release.toml"));
}

/// A rollout spec over the same file (its columns are not read before the design keys are
/// checked).
fn rollout(extra: &str) -> String {
    GOOD.replace(
        "kind = \"randomised\"\narm = \"arm\"\ncontrol = \"control\"\ntreatment = \"treatment\"\ncovariates = [\"pre_aht\"]",
        &format!("kind = \"rollout\"\nunit = \"site\"\ntime = \"arm\"\nadoption = \"aht\"\n{extra}"),
    )
}

#[test]
fn period_width_is_checked() {
    let (k, m) = fails("width_zero", &rollout("events = true\nperiod_width = 0"));
    assert_eq!(k, "design.period_width");
    assert!(m.contains("at least 1, got 0"), "{m}");
    let (k, m) = fails("width_cells", &rollout("period_width = 7"));
    assert_eq!(k, "design.period_width");
    assert!(m.contains("events = true"), "{m}");
    // Not a key of a randomised design.
    let (k, m) = fails(
        "width_randomised",
        &GOOD.replace("arm = \"arm\"", "arm = \"arm\"\nperiod_width = 7"),
    );
    assert_eq!(k, "design.period_width");
    assert!(m.contains("does not apply to a randomised design"), "{m}");
    // A known width with events passes validation.
    let path = setup("width_ok", &rollout("events = true\nperiod_width = 7"));
    let spec = ReleaseSpec::load(&path).unwrap();
    assert_eq!(spec.design.unwrap().width(), 7);
}

#[test]
fn time_unit_is_checked() {
    let (k, m) = fails(
        "time_unit",
        &rollout("events = true\ntime_unit = \"fortnight\""),
    );
    assert_eq!(k, "design.time_unit");
    assert!(m.contains("`fortnight`"), "{m}");
    let path = setup("time_unit_ok", &rollout("time_unit = \"week\""));
    let d = ReleaseSpec::load(&path).unwrap().design.unwrap();
    assert_eq!(d.time_period().days(), 7.0);
}

/// The spec parser never panics (issue 11's harness): the bundled specs with random
/// mutations — lines deleted, duplicated or swapped, characters replaced by TOML punctuation
/// or digits, the text cut short — are loaded or refused with an error, 600 seeded cases
/// per spec.
#[test]
fn mutated_specs_never_panic() {
    use rand::{Rng, SeedableRng};
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets/intent-release");
    let alphabet: Vec<char> = "\"'[]{}=#.,\n 0123456789-+eE_abcxyz\\".chars().collect();
    let mut refused = 0;
    for name in [
        "randomised.toml",
        "rollout.toml",
        "single_site.toml",
        "errors.toml",
    ] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(20261204);
        for _ in 0..600 {
            let mut lines: Vec<String> = text.lines().map(String::from).collect();
            for _ in 0..rng.random_range(1..4) {
                let n = lines.len().max(1);
                match rng.random_range(0..5) {
                    0 if !lines.is_empty() => {
                        lines.remove(rng.random_range(0..n));
                    }
                    1 if !lines.is_empty() => {
                        let l = lines[rng.random_range(0..n)].clone();
                        lines.insert(rng.random_range(0..n), l);
                    }
                    2 if lines.len() > 1 => {
                        lines.swap(rng.random_range(0..n), rng.random_range(0..n))
                    }
                    _ => {
                        let i = rng.random_range(0..n);
                        if let Some(line) = lines.get_mut(i) {
                            let mut chars: Vec<char> = line.chars().collect();
                            let c = alphabet[rng.random_range(0..alphabet.len())];
                            if chars.is_empty() {
                                chars.push(c);
                            } else {
                                let j = rng.random_range(0..chars.len());
                                chars[j] = c;
                            }
                            *line = chars.into_iter().collect();
                        }
                    }
                }
            }
            let mut mutated = lines.join("\n");
            if rng.random_bool(0.2) {
                let cut = rng.random_range(0..=mutated.len());
                let cut = (0..=cut)
                    .rev()
                    .find(|&k| mutated.is_char_boundary(k))
                    .unwrap();
                mutated.truncate(cut);
            }
            if ReleaseSpec::from_toml(&mutated, name, &dir).is_err() {
                refused += 1;
            }
        }
    }
    // The mutations do break specs (the harness is not vacuous).
    assert!(
        refused > 100,
        "only {refused} of 2400 mutated specs were refused"
    );
}

/// `[data] engine` and `table` (issue 15): accepted together instead of `path`; every other
/// combination, an unknown scheme and a malformed table name are refused naming the key;
/// `ReleaseSpec::with_engine` points a file spec at an engine under the same checks. (The
/// engine runs themselves are `engine_postgres.rs` and `engine_spark.rs`.)
#[test]
fn data_engine_and_table_are_checked_together() {
    let engine = |lines: &str| GOOD.replace("path = \"data/contacts.csv\"", lines);
    let path = setup(
        "engine_ok",
        &engine("engine = \"postgres://analyst@127.0.0.1:5432/ops\"\ntable = \"ops.contacts\""),
    );
    let spec = ReleaseSpec::load(&path).unwrap();
    assert_eq!(spec.data.table.as_deref(), Some("ops.contacts"));
    assert!(spec.data_path().is_none());
    // A part that reads rows one by one says which key to change.
    let m = spec.load_data().unwrap_err().to_string();
    assert!(m.contains("data.engine") && m.contains("data.path"), "{m}");
    let (k, m) = fails(
        "engine_no_table",
        &engine("engine = \"sc://127.0.0.1:15002\""),
    );
    assert_eq!(k, "data.table");
    assert!(m.contains("needs `table`"), "{m}");
    let (k, _) = fails("table_no_engine", &engine("table = \"contacts\""));
    assert_eq!(k, "data.table");
    let (k, m) = fails(
        "path_and_engine",
        &GOOD.replace(
            "path = \"data/contacts.csv\"",
            "path = \"data/contacts.csv\"\nengine = \"sc://127.0.0.1:15002\"\ntable = \"t\"",
        ),
    );
    assert_eq!(k, "data.engine");
    assert!(m.contains("not both"), "{m}");
    let (k, m) = fails(
        "bad_scheme",
        &engine("engine = \"mysql://db:3306/x\"\ntable = \"t\""),
    );
    assert_eq!(k, "data.engine");
    assert!(m.contains("not an engine address"), "{m}");
    let (k, _) = fails(
        "bad_table",
        &engine("engine = \"sc://127.0.0.1:15002\"\ntable = \"ops..contacts\""),
    );
    assert_eq!(k, "data.table");
    // A file spec pointed at an engine: the path is gone, the same checks apply.
    let spec = ReleaseSpec::load(&setup("with_engine", GOOD)).unwrap();
    let e = spec
        .clone()
        .with_engine("sc://127.0.0.1:15002", "ops.contacts")
        .unwrap();
    assert!(e.data.path.is_none() && e.data.engine.is_some());
    assert!(spec.with_engine("ftp://x", "t").is_err());
}

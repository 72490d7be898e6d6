//! End-to-end tests of the `causalkit` binary: outputs, formats, exit codes and messages.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn twfe_on_prop99_from_the_cli_matches_the_reference() {
    // ../shared/reference/did.md (and reference/stats.json, pyfixest 0.60.0):
    // TWFE state and year fixed effects -27.3491, CRV1 SE clustered by state 2.8024.
    let v = ok_json(&[
        "regress",
        "--data",
        "datasets/california_prop99.csv",
        "--outcome",
        "PacksPerCapita",
        "--regressors",
        "treated",
        "--fe",
        "State,Year",
        "--cluster",
        "State",
        "--format",
        "json",
    ]);
    for key in ["method", "estimand", "effects", "diagnostics", "warnings"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let e = &v["effects"][0];
    assert_eq!(e["label"], "treated");
    assert!((e["estimate"].as_f64().unwrap() - -27.3491).abs() < 1e-4);
    assert!((e["std_error"].as_f64().unwrap() - 2.8024).abs() < 1e-4);
    for key in ["ci_low", "ci_high", "p_value"] {
        assert!(e[key].is_f64(), "{key}");
    }
    assert_eq!(v["diagnostics"]["vcov"], "CRV1 by State, G = 39");
    assert_eq!(v["diagnostics"]["fixed_effects"]["State"], 39);
}

#[test]
fn every_format_works_for_regress() {
    let args = [
        "regress",
        "--data",
        "datasets/mpdta.csv",
        "--outcome",
        "lemp",
        "--regressors",
        "lpop",
        "--vcov",
        "hc3",
    ];
    let table = run(&[&args[..], &["--format", "table"]].concat());
    let t = String::from_utf8(table.stdout).unwrap();
    assert!(t.contains("Std. Error") && t.contains("vcov: HC3"), "{t}");
    let csv = run(&[&args[..], &["--format", "csv"]].concat());
    let c = String::from_utf8(csv.stdout).unwrap();
    assert!(
        c.starts_with("label,estimate,std_error,ci_low,ci_high,p_value\nIntercept,"),
        "{c}"
    );
}

#[test]
fn categorical_regressors_become_dummies_and_plots_are_written() {
    let dir = std::env::temp_dir().join(format!("causalkit-cli-plots-{}", std::process::id()));
    let d = dir.display().to_string();
    let v = ok_json(&[
        "regress",
        "--data",
        "datasets/contact-centre/ab_contacts.csv",
        "--outcome",
        "handle_seconds",
        "--regressors",
        "arm,pre_handle_seconds",
        "--cluster",
        "agent",
        "--format",
        "json",
        "--plot",
        &d,
    ]);
    assert_eq!(v["effects"][1]["label"], "arm[treatment]");
    assert!(dir.join("coefficients.svg").exists() && dir.join("coefficients.png").exists());
}

#[test]
fn describe_reports_columns_and_kpis_in_every_format() {
    let v = ok_json(&[
        "describe",
        "datasets/contact-centre/ab_contacts.csv",
        "--kpi",
        "aht=ratio(handle_seconds, count)",
        "--kpi",
        "csat=mean(csat)",
        "--by",
        "arm",
        "--drop-missing",
        "--format",
        "json",
    ]);
    assert_eq!(v["rows"], 20160);
    let csat_col = v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "csat")
        .unwrap();
    assert!(csat_col["missing"].as_u64().unwrap() > 0);
    let kpis = v["kpis"].as_array().unwrap();
    assert_eq!(kpis.len(), 4);
    assert!(kpis
        .iter()
        .any(|k| k["kpi"] == "csat" && k["dropped_rows"].as_u64().unwrap() > 0));
    let out = run(&["describe", "datasets/mpdta.csv", "--format", "csv"]);
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("column,dtype,missing,distinct,mean,std,min,max\nyear,"));
    let out = run(&["describe", "datasets/mpdta.csv"]);
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("2500 rows, 6 columns"));
}

#[test]
fn bad_input_exits_2_with_a_message_naming_the_fault() {
    let e = bad(&[
        "regress",
        "--data",
        "datasets/mpdta.csv",
        "--outcome",
        "lempx",
        "--regressors",
        "lpop",
    ]);
    assert!(
        e.contains("`lempx` not found") && e.contains("available columns: year"),
        "{e}"
    );
    let p = tmp("nonnum.csv", "y,x\n1,2\n2,abc\n3,4\n4,5\n");
    let e = bad(&[
        "regress",
        "--data",
        &p,
        "--outcome",
        "y",
        "--regressors",
        "x",
        "--vcov",
        "iid",
    ]);
    assert!(e.contains("row 2 (CSV line 3) holds `abc`"), "{e}");
    let p = tmp("missing.csv", "y,x\n1,2\n2,\n3,4\n4,5\n5,7\n");
    let e = bad(&[
        "regress",
        "--data",
        &p,
        "--outcome",
        "y",
        "--regressors",
        "x",
    ]);
    assert!(
        e.contains("1 missing value") && e.contains("--drop-missing"),
        "{e}"
    );
    let dropping: [&str; 8] = [
        "regress",
        "--data",
        &p,
        "--outcome",
        "y",
        "--regressors",
        "x",
        "--drop-missing",
    ];
    let v = ok_json(&[&dropping[..], &["--format", "json"]].concat());
    assert_eq!(v["diagnostics"]["dropped_rows"], 1);
    assert!(v["warnings"][0].as_str().unwrap().contains("1 row(s)"));
    // The table view: the warning is on stderr (as in every format), not inside the table.
    let out = run(&dropping);
    assert!(out.status.success(), "{}", stderr(&out));
    let (table, warnings) = (stdout(&out), stderr(&out));
    assert!(
        table.contains("Estimate") && !table.contains("Warning"),
        "{table}"
    );
    assert!(
        warnings.contains("Warning: 1 row(s) with missing values were dropped"),
        "{warnings}"
    );
    let p = tmp("const.csv", "y,x,c\n1,2,1\n2,3,1\n3,5,1\n4,4,1\n");
    let e = bad(&[
        "regress",
        "--data",
        &p,
        "--outcome",
        "y",
        "--regressors",
        "x,c",
    ]);
    assert!(e.contains("column `c` is collinear"), "{e}");
    let e = bad(&["describe", "no/such/file.csv"]);
    assert!(e.contains("no such file"), "{e}");
    let e = bad(&["describe", "datasets/mpdta.csv", "--kpi", "x=median(lemp)"]);
    assert!(e.contains("unknown kind `median`"), "{e}");
    let e = bad(&[
        "regress",
        "--data",
        "datasets/mpdta.csv",
        "--outcome",
        "lemp",
        "--regressors",
        "lpop",
        "--cluster",
        "countyreal",
        "--vcov",
        "hc1",
    ]);
    assert!(e.contains("either --cluster"), "{e}");
    bad(&["no-such-command"]);
}

#[test]
fn simulate_reproduces_the_bundled_dataset_byte_for_byte() {
    let dir = std::env::temp_dir().join(format!("causalkit-cli-sim-{}", std::process::id()));
    let d = dir.display().to_string();
    let v = ok_json(&[
        "simulate",
        "contact-centre",
        "--seed",
        "20240601",
        "--out",
        &d,
        "--format",
        "json",
    ]);
    assert_eq!(v["contacts_per_design"], 20160);
    for f in ["ab_contacts.csv", "staggered_contacts.csv", "truth.json"] {
        let ours = std::fs::read(dir.join(f)).unwrap();
        let bundled = std::fs::read(root().join("datasets/contact-centre").join(f)).unwrap();
        assert!(ours == bundled, "{f} differs from the bundled copy");
    }
    let truth: Value =
        serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
    assert_eq!(truth["ab"]["aht_seconds"], -25.0);
    let e = bad(&["simulate", "contact-centre", "--out", &d, "--scale", "0"]);
    assert!(e.contains("--scale"), "{e}");
}

#[test]
fn simulate_lists_every_file_it_writes_in_every_format() {
    let dir = tmp_dir().join("sim-files");
    let d = dir.display().to_string();
    let v = ok_json(&[
        "simulate",
        "contact-centre",
        "--out",
        &d,
        "--format",
        "json",
    ]);
    let files = v["files"].as_object().unwrap();
    let mut listed: Vec<String> = files
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
    assert!(listed.contains(&"single_site_contacts.csv".to_string()));
    let table = ok(&["simulate", "contact-centre", "--out", &d]);
    for f in &on_disk {
        assert!(table.contains(f.as_str()), "table lacks {f}: {table}");
    }
    let out = run(&["simulate", "contact-centre", "--out", &d, "--format", "csv"]);
    assert!(out.status.success());
    assert!(stdout(&out).starts_with("design,kpi,true_effect\n"));
    let err = stderr(&out);
    for f in &on_disk {
        assert!(
            err.contains(&format!("wrote {}", dir.join(f).display())),
            "{err}"
        );
    }
}

#[test]
fn describe_json_has_the_documented_shape() {
    let v = ok_json(&[
        "describe",
        "datasets/mpdta.csv",
        "--kpi",
        "x=mean(lemp)",
        "--by",
        "treat",
        "--format",
        "json",
    ]);
    let keys = |o: &Value| -> Vec<String> {
        let mut k: Vec<String> = o.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&v), ["columns", "kpis", "rows", "source"]);
    assert!(v["rows"].is_u64());
    for c in v["columns"].as_array().unwrap() {
        assert_eq!(
            keys(c),
            ["distinct", "dtype", "max", "mean", "min", "missing", "name", "std"]
        );
        assert!(c["missing"].is_u64() && c["distinct"].is_u64());
    }
    for k in v["kpis"].as_array().unwrap() {
        assert_eq!(
            keys(k),
            ["dropped_rows", "group", "kpi", "n", "std_error", "value"]
        );
        assert!(k["n"].is_u64() && k["dropped_rows"].is_u64());
    }
    // The shape is documented in `describe --help`.
    let help = ok(&["describe", "--help"]);
    for field in [
        "\"source\"",
        "\"rows\"",
        "\"columns\"",
        "\"kpis\"",
        "\"dropped_rows\"",
    ] {
        assert!(help.contains(field), "help lacks {field}");
    }
    // CSV keeps full precision.
    let csv = ok(&["describe", "datasets/mpdta.csv", "--format", "csv"]);
    assert!(csv.contains("\nyear,i64,0,5,2005,"), "{csv}");
}

#[test]
fn describe_prints_integer_columns_min_and_max_as_integers() {
    // Issue 11: `year` (integers 2003..2007) printed as 2003.000000.
    let table = ok(&["describe", "datasets/mpdta.csv"]);
    let year = table
        .lines()
        .find(|l| l.trim_start().starts_with("year"))
        .unwrap();
    assert!(
        year.contains(" 2003") && year.contains(" 2007") && !year.contains("2003.0"),
        "{year}"
    );
    // The mean of an integer column stays a decimal; float columns keep six decimals.
    assert!(year.contains("2005.000000"), "{year}");
    let v = ok_json(&["describe", "datasets/mpdta.csv", "--format", "json"]);
    let col = &v["columns"][0];
    assert_eq!(col["name"], "year");
    assert!(col["min"].is_i64() && col["max"] == 2007, "{col}");
}

//! Bad input per subcommand: the exit code and the key words of the message (table-driven),
//! and a bounded-time property test that random numeric flag values never crash the binary,
//! never print NaN, and exit 0 (ok) or 2 (bad input).

mod common;

use common::*;
use proptest::prelude::*;

/// One bad command line: what it is, the arguments, the exit code and words the message must
/// contain.
struct Case {
    what: &'static str,
    args: Vec<String>,
    code: i32,
    words: Vec<&'static str>,
}

fn case(what: &'static str, args: &[&str], code: i32, words: &[&'static str]) -> Case {
    Case {
        what,
        args: args.iter().map(|s| s.to_string()).collect(),
        code,
        words: words.to_vec(),
    }
}

const MPDTA: &str = "datasets/mpdta.csv";
const AB: &str = "datasets/contact-centre/ab_contacts.csv";
const PROP99: &str = "datasets/california_prop99.csv";

fn regress(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["regress", "--data", MPDTA, "--outcome", "lemp"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn did(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "did",
        "--data",
        MPDTA,
        "--unit",
        "countyreal",
        "--time",
        "year",
        "--cohort",
        "first.treat",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn synth(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "synth",
        "--data",
        PROP99,
        "--unit",
        "State",
        "--time",
        "Year",
        "--outcome",
        "PacksPerCapita",
        "--treatment-start",
        "1989",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn ab(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["ab", "--data", AB, "--metric", "aht=mean(handle_seconds)"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn owned(what: &'static str, args: Vec<String>, code: i32, words: &[&'static str]) -> Case {
    Case {
        what,
        args,
        code,
        words: words.to_vec(),
    }
}

fn cases() -> Vec<Case> {
    // A directory whose name looks like a data file.
    let dir_csv = tmp_dir().join("looks_like.csv");
    std::fs::create_dir_all(&dir_csv).unwrap();
    let dir_csv = dir_csv.display().to_string();
    let a_file = tmp("not_a_dir.txt", "x");
    vec![
        // describe
        case(
            "describe: missing file",
            &["describe", "nonexistent.csv"],
            2,
            &["cannot read", "nonexistent.csv", "no such file"],
        ),
        case(
            "describe: a directory without a data extension",
            &["describe", "datasets"],
            2,
            &["datasets", "it is a directory"],
        ),
        owned(
            "describe: a directory named like a CSV",
            vec!["describe".into(), dir_csv.clone()],
            2,
            &["cannot read", "looks_like.csv"],
        ),
        case(
            "describe: KPI on a missing column",
            &["describe", MPDTA, "--kpi", "mean(nocol)"],
            2,
            &["column `nocol` not found", "available columns", "lemp"],
        ),
        case(
            "describe: malformed KPI",
            &["describe", MPDTA, "--kpi", "bogus"],
            2,
            &["invalid KPI definition", "bogus"],
        ),
        // regress
        owned(
            "regress: alpha above 1",
            regress(&["--regressors", "treat", "--alpha", "1.5"]),
            2,
            &["alpha", "(0, 1)", "1.5"],
        ),
        owned(
            "regress: alpha NaN",
            regress(&["--regressors", "treat", "--alpha", "nan"]),
            2,
            &["alpha", "(0, 1)"],
        ),
        owned(
            "regress: missing outcome column",
            vec![
                "regress".into(),
                "--data".into(),
                MPDTA.into(),
                "--outcome".into(),
                "nocol".into(),
                "--regressors".into(),
                "treat".into(),
            ],
            2,
            &["nocol", "not found"],
        ),
        owned(
            "regress: nothing to fit",
            regress(&[]),
            2,
            &["--regressors", "--fe"],
        ),
        owned(
            "regress: both --cluster and --vcov",
            regress(&[
                "--regressors",
                "treat",
                "--cluster",
                "countyreal",
                "--vcov",
                "hc1",
            ]),
            2,
            &["--cluster", "--vcov"],
        ),
        owned(
            "regress: missing data file",
            vec![
                "regress".into(),
                "--data".into(),
                "nope.csv".into(),
                "--outcome".into(),
                "y".into(),
                "--regressors".into(),
                "x".into(),
            ],
            2,
            &["cannot read", "nope.csv"],
        ),
        // simulate
        case(
            "simulate: scale 0",
            &[
                "simulate",
                "contact-centre",
                "--out",
                "target/never",
                "--scale",
                "0",
            ],
            2,
            &["--scale", "at least 1"],
        ),
        owned(
            "simulate: output path is a file",
            vec![
                "simulate".into(),
                "contact-centre".into(),
                "--out".into(),
                a_file.clone(),
            ],
            2,
            &["not_a_dir.txt"],
        ),
        // ab
        owned(
            "ab: missing arm column",
            ab(&["--arm", "nocol"]),
            2,
            &["column `nocol` not found"],
        ),
        owned(
            "ab: alpha above 1",
            ab(&["--alpha", "2"]),
            2,
            &["--alpha", "(0, 1)", "2"],
        ),
        owned(
            "ab: unknown control arm",
            ab(&["--control", "nobody"]),
            2,
            &["control arm `nobody` not found", "treatment"],
        ),
        owned(
            "ab: winsorize level outside [0, 1]",
            ab(&["--winsorize", "2,3"]),
            2,
            &["--winsorize", "2"],
        ),
        owned(
            "ab: n-plan NaN",
            ab(&["--sequential", "cs", "--n-plan", "nan"]),
            2,
            &["--n-plan", "positive", "NaN"],
        ),
        case(
            "ab: metric on a missing column",
            &["ab", "--data", AB, "--metric", "aht=mean(nocol)"],
            2,
            &["column `nocol` not found"],
        ),
        // ab plan
        case(
            "ab plan: zero sd",
            &[
                "ab", "plan", "--mean", "1", "--sd", "0", "--effect", "0.1", "--power", "0.8",
            ],
            2,
            &["sd", "positive", "0"],
        ),
        case(
            "ab plan: power above 1",
            &[
                "ab", "plan", "--mean", "1", "--sd", "1", "--effect", "0.1", "--power", "1.5",
            ],
            2,
            &["power", "1.5"],
        ),
        case(
            "ab plan: baseline rate above 1",
            &[
                "ab",
                "plan",
                "--proportion",
                "1.5",
                "--effect",
                "0.1",
                "--power",
                "0.8",
            ],
            2,
            &["baseline rate", "(0, 1)", "1.5"],
        ),
        case(
            "ab plan: zero effect",
            &[
                "ab", "plan", "--mean", "1", "--sd", "1", "--effect", "0", "--power", "0.8",
            ],
            2,
            &["effect", "non-zero"],
        ),
        case(
            "ab plan: one of effect / n / power only",
            &["ab", "plan", "--mean", "1", "--sd", "1", "--effect", "0.1"],
            2,
            &["two of --effect, --n-total and --power"],
        ),
        case(
            "ab plan: no metric",
            &["ab", "plan", "--effect", "0.1", "--power", "0.8"],
            2,
            &["--mean", "--sd", "--proportion"],
        ),
        // did
        owned(
            "did: missing data file",
            vec![
                "did".into(),
                "--data".into(),
                "datasets/nonexist.csv".into(),
                "--outcome".into(),
                "y".into(),
                "--cohort".into(),
                "g".into(),
            ],
            2,
            &["cannot read", "nonexist.csv", "no such file"],
        ),
        owned(
            "did: alpha 0",
            did(&["--outcome", "lemp", "--method", "cs", "--alpha", "0"]),
            2,
            &["alpha", "(0, 1)", "0"],
        ),
        owned(
            "did: missing outcome column",
            did(&["--outcome", "nocol", "--method", "twfe"]),
            2,
            &["nocol"],
        ),
        // synth
        owned(
            "synth: unknown treated unit",
            synth(&["--treated-unit", "Atlantis"]),
            2,
            &["Atlantis"],
        ),
        owned(
            "synth: ASCM alpha above 1",
            synth(&[
                "--treated-unit",
                "California",
                "--method",
                "ascm",
                "--alpha",
                "5",
            ]),
            2,
            &["alpha", "(0, 1)", "5"],
        ),
        owned(
            "synth: too few placebo replications",
            synth(&[
                "--treated-unit",
                "California",
                "--method",
                "sdid",
                "--placebo",
                "0",
            ]),
            2,
            &["at least 2"],
        ),
    ]
}

#[test]
fn bad_inputs_exit_with_the_right_code_and_a_message_naming_the_fault() {
    let mut failures = Vec::new();
    for c in cases() {
        let out = run(&c.args);
        let err = stderr(&out);
        let code = out.status.code();
        if code != Some(c.code) {
            failures.push(format!(
                "{}: exit {code:?}, want {}; stderr: {err}",
                c.what, c.code
            ));
            continue;
        }
        if !out.stdout.is_empty() {
            failures.push(format!("{}: printed a result on failure", c.what));
        }
        for w in &c.words {
            if !err.contains(w) {
                failures.push(format!("{}: message lacks `{w}`: {err}", c.what));
            }
        }
        if err.contains("panicked") || err.contains("RUST_BACKTRACE") {
            failures.push(format!("{}: panicked: {err}", c.what));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Numeric values a user might type by mistake or on purpose.
fn numeric_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("-inf".to_string()),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("1e300".to_string()),
        Just("-1e300".to_string()),
        Just("1e-300".to_string()),
        Just("2".to_string()),
        (-1e6f64..1e6).prop_map(|v| format!("{v}")),
        (0.0f64..1.0).prop_map(|v| format!("{v}")),
    ]
}

/// Runs the command and checks: no crash (panic exit 101, abort 134, signal), exit 0 or 2,
/// and on success no NaN in what is printed.
fn check_no_crash(args: &[String]) -> Result<(), TestCaseError> {
    let out = run(args);
    let code = out.status.code();
    let (o, e) = (stdout(&out), stderr(&out));
    prop_assert!(
        matches!(code, Some(0) | Some(2)),
        "`causalkit {}` exited {code:?}: {e}",
        args.join(" ")
    );
    prop_assert!(!e.contains("panicked"), "panic: {e}");
    if code == Some(0) {
        prop_assert!(
            !o.contains("NaN") && !e.contains("NaN"),
            "`causalkit {}` printed NaN:\n{o}\n{e}",
            args.join(" ")
        );
    }
    Ok(())
}

proptest! {
    // Each case runs the binary (well under a second in a debug build); the case counts keep
    // the whole test under about a minute.
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn ab_plan_numeric_flags_never_crash(
        flag in prop::sample::select(vec![
            "mean", "sd", "effect", "power", "n-total", "daily-units", "treatment-share",
            "alpha", "cuped-rho",
        ]),
        value in numeric_value(),
        mde in any::<bool>(),
    ) {
        // Either sample size (effect + power) or MDE (n + power); the flag under test
        // replaces or joins the baseline flags. `--flag=value` keeps negative values values.
        let mut flags: Vec<(String, String)> = if mde {
            vec![("mean", "1"), ("sd", "1"), ("n-total", "1000"), ("power", "0.8")]
        } else {
            vec![("mean", "1"), ("sd", "1"), ("effect", "0.1"), ("power", "0.8")]
        }
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        match flags.iter_mut().find(|(k, _)| k == flag) {
            Some(kv) => kv.1 = value.clone(),
            None => flags.push((flag.to_string(), value.clone())),
        }
        let mut args = vec!["ab".to_string(), "plan".to_string()];
        args.extend(flags.iter().map(|(k, v)| format!("--{k}={v}")));
        check_no_crash(&args)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn alpha_of_estimating_commands_never_crashes(
        which in 0usize..3,
        value in numeric_value(),
    ) {
        let alpha = format!("--alpha={value}");
        let args = match which {
            0 => regress(&["--regressors", "treat", &alpha]),
            1 => did(&["--outcome", "lemp", "--method", "twfe", &alpha]),
            _ => ab(&[&alpha]),
        };
        check_no_crash(&args)?;
    }
}

//! The HTML report's building blocks: the one number formatter, the sentences about
//! effects (sign and magnitude always those of the table), the gated headline, the checks,
//! the timestamp and SHA-256 helpers, and the page's safety properties (CSP, no script, the
//! embedded JSON cannot break out of its tag).

use causalkit_report::html::{self, Direction, InputFile, ReproMeta, Status, Tone};
use causalkit_stats::{Effect, EffectKey, EffectKind, EstimationResult};
use proptest::prelude::*;
use serde_json::json;

#[test]
fn numbers_have_four_significant_digits_like_printf_alt_g() {
    // Expected strings from Python's `'%#.4g' % x` (CPython 3.11) for magnitudes in
    // [1e-4, 1e4), where the report's rule and printf's %#.4g coincide; above 1e4 the
    // report keeps the integer digits (printf switches to 1.235e+05), and below 1e-4 or from
    // 1e9 it uses Rust's `{:.3e}` (1.000e-7 where printf writes 1.000e-07).
    let cases = [
        (-28.29074522554322, "-28.29"),
        (0.039875803883152594, "0.03988"),
        (0.1270223525, "0.1270"),
        (9.99996, "10.00"),
        (0.00012, "0.0001200"),
        (1.0, "1.000"),
        (6.389682227823434, "6.390"),
        (-0.008852086725950309, "-0.008852"),
        (123456.7, "123457"),
        (1e-7, "1.000e-7"),
        (2.5e10, "2.500e10"),
        (0.0, "0"),
        (-0.0, "0"),
        (f64::NAN, "NaN"),
        (f64::NEG_INFINITY, "-Inf"),
    ];
    for (x, want) in cases {
        assert_eq!(html::fmt_number(x), want, "{x}");
    }
    assert_eq!(html::fmt_percent(-0.06389682227823434), "-6.390%");
}

fn effect(kind: Option<EffectKind>, x: f64) -> Effect {
    Effect {
        label: "m".into(),
        estimate: x,
        std_error: Some(1.0),
        ci_low: Some(x - 1.0),
        ci_high: Some(x + 1.0),
        p_value: Some(0.04),
        key: EffectKey {
            kind,
            metric: Some("aht".into()),
            ..Default::default()
        },
    }
}

proptest! {
    /// Whatever the value, the sentence's number is the table's number without its sign, and
    /// its verb is the sign the table prints.
    #[test]
    fn prose_never_disagrees_with_the_table(
        mantissa in -9.999f64..9.999,
        exp in -12i32..12,
        kind in prop::sample::select(vec![EffectKind::Absolute, EffectKind::Relative, EffectKind::Att, EffectKind::Coefficient]),
    ) {
        let x = mantissa * 10f64.powi(exp);
        let mut r = EstimationResult::new("m", "e");
        r.effects.push(effect(Some(kind), x));
        let s = html::sentence(&r, 0).unwrap();
        let cell = html::fmt_estimate(&r.effects[0], x);
        match s.direction {
            Direction::Rose => {
                prop_assert!(x > 0.0 && !cell.starts_with('-'));
                prop_assert_eq!(&s.magnitude, &cell);
                let want = format!("rose by {cell}");
                prop_assert!(s.text.contains(&want));
            }
            Direction::Fell => {
                prop_assert!(x < 0.0 && cell.starts_with('-'));
                prop_assert_eq!(&s.magnitude, &cell[1..]);
                let want = format!("fell by {}", &cell[1..]);
                prop_assert!(s.text.contains(&want));
            }
            Direction::Unchanged => prop_assert_eq!(cell.trim_end_matches('%'), "0"),
            Direction::Level => prop_assert!(false, "a contrast is a change"),
        }
    }
}

#[test]
fn levels_state_the_signed_value() {
    let mut r = EstimationResult::new("uplift", "ranking quality");
    r.effects.push(Effect::point("qini_auc (email)", -0.0123));
    let s = html::sentence(&r, 0).unwrap();
    assert_eq!(s.direction, Direction::Level);
    assert_eq!(s.text, "qini_auc (email) = -0.01230.");
}

fn ab_result(srm_p: f64) -> EstimationResult {
    let mut r = EstimationResult::new("A/B test: Welch t, delta method", "lift")
        .with_diagnostic("alpha", 0.05)
        .with_diagnostic("verdict", "ship")
        .with_diagnostic(
            "verdict_reasons",
            json!(["primary metric aht improved significantly"]),
        )
        .with_diagnostic("srm", json!({"p_value": srm_p}))
        .with_diagnostic(
            "guardrails",
            json!([{"metric": "repeat", "non_inferiority_p": 0.2, "margin": 0.02}]),
        );
    let mut e = effect(Some(EffectKind::Absolute), -28.29074522554322);
    e.key.arm = Some("treatment".into());
    e.key.control = Some("control".into());
    r.effects.push(e);
    r
}

#[test]
fn failed_checks_come_first_and_gate_the_headline() {
    let r = ab_result(1e-6);
    let cs = html::checks(&r);
    assert_eq!(cs[0].status, Status::Failed);
    assert!(cs.windows(2).all(|w| w[0].status <= w[1].status));
    assert!(cs
        .iter()
        .any(|c| c.text.contains("sample ratio mismatch") && c.status == Status::Failed));
    // Guardrail not shown non-inferior at alpha 0.05 (p = 0.2): failed.
    assert!(cs
        .iter()
        .any(|c| c.text.contains("guardrail repeat") && c.status == Status::Failed));
    let h = html::headline(&r);
    assert_eq!(h.tone, Tone::Caution);
    assert_eq!(h.title, "Verdict: ship");
    assert!(h.details[0].starts_with("Do not act on this result"));
    // The same result with a passing SRM and guardrail: a good headline.
    let mut ok = ab_result(0.5);
    ok.diagnostics.insert(
        "guardrails".into(),
        json!([{"metric": "repeat", "non_inferiority_p": 0.001, "margin": 0.02}]),
    );
    let h = html::headline(&ok);
    assert_eq!(h.tone, Tone::Good);
    let s = h.effect.unwrap();
    assert_eq!(
        s.text,
        "aht (treatment vs control) fell by 28.29 (95% CI -29.29 to -27.29; p = 0.0400)."
    );
}

#[test]
fn the_srm_threshold_is_the_one_the_review_used() {
    // p = 0.005: a mismatch at the review's own `srm.alpha` 0.01, none at the default 0.001.
    let mut r = ab_result(0.005);
    let srm = |r: &EstimationResult| {
        html::checks(r)
            .into_iter()
            .find(|c| c.text.contains("sample ratio mismatch"))
            .unwrap()
    };
    assert_eq!(srm(&r).status, Status::Passed);
    assert!(srm(&r).text.contains("threshold 0.001"), "{}", srm(&r).text);
    r.diagnostics
        .insert("srm".into(), json!({"p_value": 0.005, "alpha": 0.01}));
    assert_eq!(srm(&r).status, Status::Failed);
    assert!(srm(&r).text.contains("threshold 0.01"), "{}", srm(&r).text);
    // A top-level `srm_alpha` is read when the srm object has none.
    r.diagnostics
        .insert("srm".into(), json!({"p_value": 0.005}));
    r.diagnostics.insert("srm_alpha".into(), json!(0.01));
    assert_eq!(srm(&r).status, Status::Failed);
}

#[test]
fn the_headline_effect_is_the_primary_metric() {
    // Two absolute effects; the `primary` diagnostic names the second one.
    let mut r = ab_result(0.5);
    let mut fcr = effect(Some(EffectKind::Absolute), 0.0125);
    fcr.key.metric = Some("fcr".into());
    r.effects.insert(0, fcr);
    assert_eq!(html::primary_effect(&r), Some(0));
    r.diagnostics.insert("primary".into(), json!("aht"));
    assert_eq!(html::primary_effect(&r), Some(1));
    let s = html::headline(&r).effect.unwrap();
    assert_eq!(s.effect, 1);
    assert_eq!(s.direction, Direction::Fell);
    assert_eq!(s.magnitude, "28.29");
}

#[test]
fn pre_trend_rejection_is_a_warning() {
    let mut r = EstimationResult::new("Callaway-Sant'Anna (2021)", "ATT");
    r.diagnostics
        .insert("pretrend_test".into(), json!({"p_value": 0.01}));
    r.effects.push(effect(Some(EffectKind::Att), 1.5));
    let cs = html::checks(&r);
    assert_eq!(cs.len(), 1);
    assert_eq!(cs[0].status, Status::Warning);
    assert!(cs[0].text.contains("pre-trend"));
    let h = html::headline(&r);
    assert_eq!(h.tone, Tone::Neutral);
    assert!(h.title.starts_with("aht rose by 1.500"), "{}", h.title);
}

#[test]
fn papers_follow_the_method_and_cuped() {
    let r = ab_result(0.5).with_diagnostic("metrics", json!({"aht": {"cuped_theta": [0.7]}}));
    let ps = html::papers_for(&r);
    assert!(ps.iter().any(|p| p.starts_with("Welch")));
    assert!(ps.iter().any(|p| p.starts_with("Deng, A., Xu")));
    assert!(
        html::papers("synthetic difference-in-differences (Arkhangelsky et al. 2021)")
            .iter()
            .any(|p| p.contains("Arkhangelsky"))
    );
}

#[test]
fn utc_timestamps_match_python_datetime() {
    // Expected values from Python: datetime.fromtimestamp(t, datetime.UTC).
    for (t, want) in [
        (0u64, "1970-01-01T00:00:00Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (1_709_210_096, "2024-02-29T12:34:56Z"),
        (1_764_797_386, "2025-12-03T21:29:46Z"),
        (4_102_444_799, "2099-12-31T23:59:59Z"),
    ] {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(t);
        assert_eq!(html::utc_timestamp(at), want);
    }
}

#[test]
fn input_files_are_hashed_with_sha256() {
    // FIPS 180-4 example "abc" (NIST CSRC example values).
    let p = std::env::temp_dir().join(format!("causalkit-html-{}.txt", std::process::id()));
    std::fs::write(&p, b"abc").unwrap();
    let f = InputFile::hash(&p).unwrap();
    assert_eq!(
        f.sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(f.bytes, 3);
    std::fs::remove_file(&p).unwrap();
    let err = InputFile::hash("no/such/file.csv").unwrap_err().to_string();
    assert!(err.contains("no/such/file.csv"), "{err}");
}

#[test]
fn the_page_is_offline_script_free_and_its_json_cannot_break_out() {
    let mut r = ab_result(0.5);
    r.effects[0].label = "</script><script>alert(1)</script> & <b>".into();
    r.warnings.push("<img src=x onerror=alert(1)>".into());
    let meta = ReproMeta {
        version: "0.1.0".into(),
        command: "causalkit ab --data 'a b.csv'".into(),
        ..Default::default()
    };
    let page = html::render(std::slice::from_ref(&r), &[], &meta).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        html::CSP
    )));
    assert!(!page.contains("<script>") && !page.contains("<img"));
    assert_eq!(
        page.matches("<script").count(),
        1,
        "only the JSON data block"
    );
    let body = page
        .split("<script type=\"application/json\" id=\"causalkit-results\">")
        .nth(1)
        .unwrap()
        .split("</script>")
        .next()
        .unwrap();
    let back: Vec<EstimationResult> = serde_json::from_str(body).unwrap();
    assert_eq!(back, vec![r]);
    assert!(page.contains(html::REPRO_BEGIN) && page.contains(html::REPRO_END));
    assert!(page.contains("@media print") && page.contains("@media (max-width: 600px)"));
    assert!(html::render(&[], &[], &meta).is_err());
}

#[test]
fn charts_are_drawn_from_the_result_alone() {
    let mut r = EstimationResult::new("Callaway-Sant'Anna (2021)", "ATT(g,t)");
    for (g, t, x) in [(3, 2, -1.0), (3, 3, 2.0), (5, 3, 0.5), (5, 5, -2.0)] {
        r.effects.push(Effect {
            label: format!("ATT({g},{t})"),
            estimate: x,
            ci_low: Some(x - 1.0),
            ci_high: Some(x + 1.0),
            key: EffectKey::kind(EffectKind::GroupTime).group(g).time(t),
            ..Default::default()
        });
    }
    for e in -2..=2 {
        r.effects.push(Effect {
            label: format!("e={e}"),
            estimate: f64::from(e),
            ci_low: Some(f64::from(e) - 1.0),
            ci_high: Some(f64::from(e) + 1.0),
            key: EffectKey::kind(EffectKind::EventTime).event_time(i64::from(e)),
            ..Default::default()
        });
    }
    r.effects.push(Effect {
        label: "ATT".into(),
        estimate: 1.0,
        ci_low: Some(0.0),
        ci_high: Some(2.0),
        key: EffectKey::kind(EffectKind::Att),
        ..Default::default()
    });
    r = r
        .with_diagnostic(
            "qini_curve",
            json!({"x": [0.0, 1.0, 2.0], "y": [0.0, 0.5, 0.6]}),
        )
        .with_diagnostic("unit_weights", json!({"a": 0.7, "b": 0.3, "c": 0.0}))
        .with_diagnostic(
            "policy",
            json!({"fraction": [0.0, 0.5, 1.0], "profit": [0.0, 1.0, -1.0], "best_fraction": 0.5}),
        );
    let names: Vec<String> = html::charts_from_result(&r, "x_")
        .unwrap()
        .into_iter()
        .map(|c| {
            assert!(c.svg.contains("<svg"), "{}", c.name);
            c.name
        })
        .collect();
    assert_eq!(
        names,
        [
            "x_forest",
            "x_event_study",
            "x_att_gt_heatmap",
            "x_qini",
            "x_profit_curve",
            "x_unit_weights"
        ]
    );
}

/// A release attribution result as `causalkit attribute` writes it (the shape of
/// `causalkit_attribution::Attribution::result`), with a cost node falling by `change`.
fn attribution_result(change: f64, better: Option<&str>) -> EstimationResult {
    let mut r = EstimationResult::new("release attribution: A/B test", "effect of the release")
        .with_diagnostic("alpha", 0.05)
        .with_diagnostic("release", "r1")
        .with_diagnostic("design", "randomised")
        .with_diagnostic(
            "design_diagnostics",
            json!({"srm": {"mismatch": false, "p_value": 0.5}}),
        )
        .with_diagnostic(
            "refuters",
            json!({"status": "not run", "why": "switched off", "results": []}),
        )
        .with_diagnostic("verdict", "the release pays: value:total falls");
    let node = |name: &str, expr: &str, x: f64| {
        let mut n = json!({
            "name": name, "expr": expr, "without": 1000.0, "with": 1000.0 + x,
            "change": {"label": format!("value:{name}"), "estimate": x, "ci_low": x - 10.0, "ci_high": x + 10.0},
            "views": {"annualised": {"estimate": 12.0 * x, "ci_low": 12.0 * (x - 10.0), "ci_high": 12.0 * (x + 10.0)}},
        });
        if let Some(b) = better {
            n["better"] = json!(b);
        }
        n
    };
    r.diagnostics.insert(
        "value".into(),
        json!({"period": "month", "recurring": true, "top_node": "total",
               "nodes": [node("a", "k * x", change / 4.0), node("b", "k * y", 3.0 * change / 4.0),
                         node("total", "a + b", change)]}),
    );
    r.effects.push(effect(Some(EffectKind::Absolute), -2.5));
    r
}

#[test]
fn the_attribution_headline_is_sign_aware_money_from_the_table_number() {
    // A cost node (better = lower) falling by 12 x 1000.5 a year: savings of $12,006.
    let r = attribution_result(-1000.5, Some("lower"));
    let h = html::headline(&r);
    let m = h.money.unwrap();
    assert_eq!(m.kind, html::MoneyKind::Savings);
    assert_eq!(m.change, -12006.0);
    assert_eq!(m.amount, "$12,006");
    assert_eq!(
        m.text,
        "Estimated annual savings: $12,006 (95% CI $11,886 to $12,126)"
    );
    assert_eq!(h.title, m.text);
    assert_eq!(h.tone, Tone::Good);
    // The same fall of a benefit node is a loss; a rise of a cost node an extra cost; without
    // `better` the signed change is stated.
    let m = html::headline(&attribution_result(-1000.5, Some("higher")))
        .money
        .unwrap();
    assert_eq!(
        (m.kind, m.amount.as_str()),
        (html::MoneyKind::Loss, "$12,006")
    );
    let m = html::headline(&attribution_result(1000.5, Some("lower")))
        .money
        .unwrap();
    assert_eq!(
        (m.kind, m.amount.as_str()),
        (html::MoneyKind::ExtraCost, "$12,006")
    );
    // Without `better`, the verdict's words say which way is better ("pays ... falls").
    let m = html::headline(&attribution_result(-1000.5, None))
        .money
        .unwrap();
    assert_eq!(m.kind, html::MoneyKind::Savings);
    let mut r = attribution_result(-1000.5, None);
    r.diagnostics
        .insert("verdict".into(), json!("inconclusive"));
    let m = html::headline(&r).money.unwrap();
    assert_eq!(m.kind, html::MoneyKind::Change);
    assert_eq!(
        m.text,
        "Estimated annual change in total: -$12,006 (95% CI -$12,126 to -$11,886)"
    );
    // The page's money table prints the same number.
    let page = html::render(
        &[attribution_result(-1000.5, Some("lower"))],
        &[],
        &ReproMeta::default(),
    )
    .unwrap();
    assert!(
        page.contains("<td class=\"num money\" data-view=\"annual\">-$12,006</td>"),
        "money table"
    );
    assert!(
        page.contains("data-chart=\"money_waterfall\""),
        "waterfall of total = a + b"
    );
    assert!(
        page.contains("refuters not run: switched off"),
        "refuters state"
    );
}

#[test]
fn failed_refuters_and_srm_gate_the_attribution_headline() {
    let mut r = attribution_result(-1000.5, Some("lower"));
    r.diagnostics.insert(
        "refuters".into(),
        json!({"results": [
            {"name": "placebo release date", "rule": "CI covers 0", "outcome": "fail", "detail": "aht moved 5 s"},
            {"name": "placebo KPI", "rule": "CI covers 0", "outcome": "pass", "detail": "ok"},
            {"name": "pre-trends", "rule": "p > 0.05", "outcome": "not_applicable", "detail": "randomised"}]}),
    );
    r.diagnostics.insert(
        "design_diagnostics".into(),
        json!({"srm": {"mismatch": true, "p_value": 1e-6}}),
    );
    let cs = html::checks(&r);
    let failed: Vec<&str> = cs
        .iter()
        .filter(|c| c.status == Status::Failed)
        .map(|c| c.text.as_str())
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed[0].contains("placebo release date") || failed[1].contains("placebo release date")
    );
    assert!(failed.iter().any(|t| t.contains("sample ratio mismatch")));
    assert!(cs
        .iter()
        .any(|c| c.status == Status::Passed && c.text.contains("placebo KPI")));
    let h = html::headline(&r);
    assert_eq!(h.tone, Tone::Caution);
    assert!(h.details[0].starts_with("Do not act on this result"));
}

#[test]
fn errors_are_ranked_by_money_with_a_pareto_curve_and_cumulative_money_is_drawn() {
    let mut r = attribution_result(-1000.5, Some("lower"));
    for (label, x) in [
        ("error:billing->tech", 50.0),
        ("error:tech->billing", -400.0),
        ("error:sales->billing", 150.0),
        ("error:sales->billing:aht", 9.0),
    ] {
        let mut e = effect(None, x);
        e.label = label.into();
        r.effects.push(e);
    }
    let ranked: Vec<&str> = html::ranked_errors(&r)
        .iter()
        .map(|e| e.label.as_str())
        .collect();
    assert_eq!(
        ranked,
        [
            "error:tech->billing",
            "error:sales->billing",
            "error:billing->tech"
        ]
    );
    r.diagnostics.insert(
        "cumulative".into(),
        json!({"axis": "period", "method": "running", "points": [
            {"period": 1, "elapsed": 1.0, "effects": [], "money": [{"node": "total", "rate": {"label": "total", "estimate": -10.0}, "accrued": {"label": "total", "estimate": -1.0, "ci_low": -2.0, "ci_high": 0.0}}]},
            {"period": 2, "elapsed": 2.0, "effects": [], "money": [{"node": "total", "rate": {"label": "total", "estimate": -10.0}, "accrued": {"label": "total", "estimate": -2.0, "ci_low": -3.0, "ci_high": -1.0}}]}]}),
    );
    let names: Vec<String> = html::charts_from_result(&r, "")
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    for want in [
        "money_waterfall",
        "kpi_effects",
        "cumulative_money",
        "errors_by_money",
        "errors_pareto",
    ] {
        assert!(names.iter().any(|n| n == want), "{want}: {names:?}");
    }
    // Every part missing: still a page, nothing drawn that cannot be.
    let mut bare = EstimationResult::new("release attribution: x", "y");
    bare.diagnostics
        .insert("value".into(), json!({"status": "not applicable"}));
    let page = html::render(&[bare], &[], &ReproMeta::default()).unwrap();
    assert!(
        page.contains("not run (absent from the result)"),
        "absent parts say so"
    );
}

#[test]
fn the_decomposition_is_tabled_when_computed_and_its_absence_is_said() {
    let mut r = attribution_result(-1000.5, Some("lower"));
    let part = |term: &str, x: f64| json!({"label": format!("aht: {term}"), "estimate": x, "ci_low": x - 1.0, "ci_high": x + 1.0, "term": term});
    r.diagnostics.insert(
        "decomposition".into(),
        json!({"applies": true, "kpis": {"aht": {"kpi": "aht", "parts": [part("rate", -20.5), part("mix", -7.75)]},
                                          "fcr": {"not_decomposed": "a proportion has no numerator/denominator split"}}}),
    );
    let page = html::render(&[r.clone()], &[], &ReproMeta::default()).unwrap();
    assert!(page.contains("<h4>Decomposition</h4>"), "parts table");
    assert!(
        page.contains("<td>aht: rate</td><td class=\"num\">-20.50</td>"),
        "rate part"
    );
    assert!(
        page.contains("<td>aht: mix</td><td class=\"num\">-7.750</td>"),
        "mix part"
    );
    r.diagnostics.insert(
        "decomposition".into(),
        json!({"applies": false, "why": "a single-unit design has no arms"}),
    );
    let page = html::render(&[r], &[], &ReproMeta::default()).unwrap();
    assert!(page.contains("not applicable: a single-unit design has no arms"));
    assert!(!page.contains("<h4>Decomposition</h4>"));
}

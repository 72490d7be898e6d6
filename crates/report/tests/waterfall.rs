//! Waterfall charts: parts adding up to a total, with intervals; refusals.

use causalkit_report::{Interval, ReportError, WaterfallChart, WaterfallStep};

fn parts() -> Vec<WaterfallStep> {
    vec![
        WaterfallStep::new("handle_cost", -750_000.0, Some((-900_000.0, -600_000.0))),
        WaterfallStep::new("followup_cost", -720_000.0, Some((-950_000.0, -490_000.0))),
        WaterfallStep::new("licence", 100_000.0, None),
    ]
}

#[test]
fn draws_parts_and_total_with_labels() {
    let total = WaterfallStep::new(
        "total_cost",
        -1_370_000.0,
        Some((-1_700_000.0, -1_040_000.0)),
    );
    let chart = WaterfallChart::new("Money by node")
        .x_label("EUR per year")
        .interval(Interval::pointwise(0.95))
        .chart("waterfall", &parts(), &total)
        .unwrap();
    assert_eq!(chart.name, "waterfall");
    for text in [
        "handle_cost",
        "followup_cost",
        "licence",
        "total_cost",
        "Money by node",
        "-1370000",
    ] {
        assert!(chart.svg.contains(text), "missing {text}");
    }
    assert!(chart.svg.contains("95%"));
    assert!(chart.png.starts_with(&[0x89, b'P', b'N', b'G']));
}

#[test]
fn parts_must_add_up() {
    let total = WaterfallStep::new("total_cost", -1_000_000.0, None);
    let err = WaterfallChart::new("t")
        .chart("w", &parts(), &total)
        .unwrap_err();
    assert!(
        matches!(err, ReportError::Invalid(ref m) if m.contains("add up")),
        "{err}"
    );
}

#[test]
fn bad_values_are_refused() {
    let total = WaterfallStep::new("t", f64::NAN, None);
    assert!(matches!(
        WaterfallChart::new("t").chart("w", &parts(), &total),
        Err(ReportError::NonFinite { .. })
    ));
    let total = WaterfallStep::new("t", 1.0, None);
    assert!(matches!(
        WaterfallChart::new("t").chart("w", &[], &total),
        Err(ReportError::Empty(_))
    ));
    let reversed = [WaterfallStep::new("a", 1.0, Some((2.0, 0.0)))];
    assert!(matches!(
        WaterfallChart::new("t").chart("w", &reversed, &total),
        Err(ReportError::Invalid(_))
    ));
}

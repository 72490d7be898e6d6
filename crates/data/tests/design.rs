//! The data layer's unit × period design roles (`design::PanelRoles`): rows read as given,
//! event rows aggregated to unit × period cells (with period blocks), treated units from
//! names, covariate matrices and the one-call KPI panel. Expected values are computed by hand
//! in the comments from the small files below (exact arithmetic on these inputs: tolerance
//! 1e-12).

use causalkit_data::design::{covariate_cells, kpi_panel, pre_period_means, PanelRoles};
use causalkit_data::{DataError, Dataset, MissingPolicy, WeightRule};
use std::path::PathBuf;

fn file(name: &str, contents: &str) -> Dataset {
    let dir = std::env::temp_dir().join(format!("causalkit-design-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p: PathBuf = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    Dataset::read(&p).unwrap()
}

fn close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}");
    }
}

const PANEL: &str = "unit,t,y,g,tr,post,w,x,c\n\
a,1,1.5,2,1,0,1,0.1,k\n\
a,2,2.5,2,1,1,2,0.2,k\n\
b,1,,0,0,0,1,0.3,k\n\
b,2,3.0,,0,1,0.5,0.4,m\n";

fn panel_roles() -> PanelRoles {
    let mut r = PanelRoles::new("y");
    r.unit = Some("unit".into());
    r.time = Some("t".into());
    r
}

#[test]
fn rows_as_given_are_masked_typed_and_validated() {
    let d = file("panel.csv", PANEL);
    let mut r = panel_roles();
    r.cohort = Some("g".into());
    r.weight = Some("w".into());
    r.covariates = vec!["x".into()];
    r.cluster = vec!["c".into()];
    // The outcome is missing in row 2 (0-based): an error naming it, or dropped on request.
    let e = r.read(&d).unwrap_err();
    assert!(
        matches!(e, DataError::MissingValues { ref column, first_row: 2, .. } if column == "y"),
        "{e}"
    );
    r.policy = MissingPolicy::Drop;
    let c = r.read(&d).unwrap();
    assert_eq!(c.rows, [0, 1, 3]);
    assert_eq!(c.dropped, 1);
    assert_eq!(c.unit.as_deref().unwrap(), ["a", "a", "b"]);
    assert_eq!(c.time.as_deref().unwrap(), [1, 2, 2]);
    // A cohort of 0 or missing is never treated.
    assert_eq!(c.cohort.as_deref().unwrap(), [Some(2), Some(2), None]);
    close(&c.outcome, &[1.5, 2.5, 3.0]);
    close(c.weights.as_deref().unwrap(), &[1.0, 2.0, 0.5]);
    close(&c.covariates[0].1, &[0.1, 0.2, 0.4]);
    assert_eq!(c.cluster[0].1, ["k", "k", "m"]);
    assert!(c.events.is_none() && !c.dated());
    c.check_panel(&r, false, true).unwrap();
    // The 2x2 indicators give the cohort: treated units first treated at the first post period.
    let mut r2 = panel_roles();
    r2.treated = Some("tr".into());
    r2.post = Some("post".into());
    r2.policy = MissingPolicy::Drop;
    let c2 = r2.read(&d).unwrap();
    assert_eq!(
        c2.cohort_from_treated_post().unwrap(),
        [Some(2), Some(2), None]
    );
    // A weight of 0 is refused for analytic weights, read for sampling weights.
    let zero = file("zero_w.csv", "unit,t,y,w\na,1,1,0\na,2,2,1\n");
    let mut rw = panel_roles();
    rw.weight = Some("w".into());
    let e = rw.read(&zero).unwrap_err();
    assert!(
        matches!(e, DataError::OutOfRange { ref column, row: 0, .. } if column == "w"),
        "{e}"
    );
    rw.weight_rule = WeightRule::Numeric;
    close(
        rw.read(&zero).unwrap().weights.as_deref().unwrap(),
        &[0.0, 1.0],
    );
}

#[test]
fn role_conflicts_and_bad_values_name_the_column_and_row() {
    let d = file("panel2.csv", PANEL);
    let mut r = panel_roles();
    r.covariates = vec!["y".into()];
    let e = r.read(&d).unwrap_err();
    assert!(
        matches!(e, DataError::ColumnInTwoRoles { ref column, .. } if column == "y"),
        "{e}"
    );
    // A non-0/1 treated column names the column and the first bad row.
    let mut r = panel_roles();
    r.treated = Some("t".into());
    r.post = Some("post".into());
    r.policy = MissingPolicy::Drop;
    let e = r.read(&d).unwrap_err();
    assert!(
        matches!(e, DataError::OutOfRange { ref column, row: 1, .. } if column == "t"),
        "{e}"
    );
    // A cohort that varies within a unit names the unit and both rows.
    let varying = file(
        "varying.csv",
        "unit,t,y,g\na,1,1,2\na,2,2,3\nb,1,1,0\nb,2,2,0\n",
    );
    let mut r = panel_roles();
    r.cohort = Some("g".into());
    let c = r.read(&varying).unwrap();
    let e = c.check_panel(&r, false, false).unwrap_err();
    assert!(
        matches!(e, DataError::NotConstantWithinUnit { ref unit, first_row: 0, second_row: 1, .. } if unit == "a"),
        "{e}"
    );
    // A width on a column of numbers without event rows is refused.
    let mut r = panel_roles();
    r.period_width = Some(7);
    r.policy = MissingPolicy::Drop;
    assert!(matches!(r.read(&d), Err(DataError::PeriodWidth { .. })));
    // A KPI expression needs event rows.
    let mut r = panel_roles();
    r.outcome = "ratio(y, w)".into();
    assert!(matches!(r.read(&d), Err(DataError::InvalidKpi { .. })));
}

/// Contacts of two sites over days 1..4; site a adopts on day 3.
const EVENTS: &str = "site,day,secs,resolved,adopt,on\n\
a,1,10,1,3,0\n\
a,1,20,0,3,0\n\
a,2,30,1,3,0\n\
a,3,40,1,3,1\n\
a,4,50,0,3,1\n\
a,4,70,1,3,1\n\
b,1,5,1,0,0\n\
b,2,15,0,0,0\n\
b,3,25,1,0,0\n\
b,4,35,1,0,0\n";

fn event_roles(outcome: &str) -> PanelRoles {
    let mut r = PanelRoles::new(outcome);
    r.unit = Some("site".into());
    r.time = Some("day".into());
    r.events = true;
    r
}

#[test]
fn event_rows_become_unit_period_cells_with_counts_as_weights() {
    let d = file("events.csv", EVENTS);
    let mut r = event_roles("secs");
    r.cohort = Some("adopt".into());
    r.treated = Some("on".into());
    let c = r.read(&d).unwrap();
    assert_eq!(c.events, Some(8));
    assert_eq!(
        c.unit.as_deref().unwrap(),
        ["a", "a", "a", "a", "b", "b", "b", "b"]
    );
    assert_eq!(c.time.as_deref().unwrap(), [1, 2, 3, 4, 1, 2, 3, 4]);
    // Cell means: a day 1 (10+20)/2 = 15, a day 4 (50+70)/2 = 60.
    close(&c.outcome, &[15.0, 30.0, 40.0, 60.0, 5.0, 15.0, 25.0, 35.0]);
    close(
        c.weights.as_deref().unwrap(),
        &[2.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0, 1.0],
    );
    assert_eq!(
        c.cohort.as_deref().unwrap(),
        [Some(3), Some(3), Some(3), Some(3), None, None, None, None]
    );
    close(
        c.treated.as_deref().unwrap(),
        &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0],
    );
    assert!(c.rows.is_empty());
    // A ratio KPI: resolved per contact; a day 1 = 1/2.
    let c = event_roles("fcr=ratio(resolved, count)").read(&d).unwrap();
    assert_eq!(c.outcome_name, "fcr");
    close(&c.outcome, &[0.5, 1.0, 1.0, 0.5, 1.0, 0.0, 1.0, 1.0]);
    // Blocks of 2 days from day 1: block 1 = days 1-2, block 2 = days 3-4; the block mean is
    // event-weighted: a block 1 = (10+20+30)/3 = 20, a block 2 = (40+50+70)/3 = 53.33...
    let mut r = event_roles("secs");
    r.cohort = Some("adopt".into());
    r.treated = Some("on".into());
    r.period_width = Some(2);
    let c = r.read(&d).unwrap();
    assert_eq!(c.time.as_deref().unwrap(), [1, 2, 1, 2]);
    close(&c.outcome, &[20.0, 160.0 / 3.0, 10.0, 30.0]);
    close(c.weights.as_deref().unwrap(), &[3.0, 3.0, 2.0, 2.0]);
    assert_eq!(c.cohort.as_deref().unwrap(), [Some(2), Some(2), None, None]);
    close(c.treated.as_deref().unwrap(), &[0.0, 1.0, 0.0, 0.0]);
    assert!(c.notes.is_empty(), "{:?}", c.notes);
    assert_eq!(c.period_of("3"), Some(2));
    // Blocks of 3 days: day 3 does not start a block, which a note says.
    r.period_width = Some(3);
    let c = r.read(&d).unwrap();
    assert!(c.notes[0].contains("cohort 3"), "{:?}", c.notes);
    // A cohort that differs between a unit's events names the unit and both rows.
    let bad = EVENTS.replace("a,3,40,1,3,1", "a,3,40,1,4,1");
    let d = file("events_bad.csv", &bad);
    let mut r = event_roles("secs");
    r.cohort = Some("adopt".into());
    let e = r.read(&d).unwrap_err();
    assert!(
        matches!(e, DataError::NotConstantWithinUnit { ref unit, first_row: 0, second_row: 3, .. } if unit == "a"),
        "{e}"
    );
    // Event rows take no covariate, weight or cluster.
    let mut r = event_roles("secs");
    r.covariates = vec!["resolved".into()];
    assert!(r.read(&d).is_err());
}

#[test]
fn treated_units_and_start_name_what_exists() {
    let d = file("events2.csv", EVENTS);
    let r = event_roles("secs");
    let c = r.read(&d).unwrap();
    let d1 = c.treated_from_units(&r, &["a".into()], "3").unwrap();
    close(&d1, &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    let e = c.treated_from_units(&r, &["z".into()], "3").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("--treated-unit") && msg.contains("`site`") && msg.contains("a, b"),
        "{msg}"
    );
    let e = c.treated_from_units(&r, &["a".into()], "3.5").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("--treatment-start") && msg.contains("1, 2, 3, 4"),
        "{msg}"
    );
}

#[test]
fn covariate_matrices_follow_the_panel_order_and_name_missing_cells() {
    let csv = "unit,t,y,x\nb,2,1,4\nb,1,1,3\na,1,1,1\na,2,1,\n";
    let d = file("cov.csv", csv);
    let mut r = panel_roles();
    r.covariates = vec!["x".into()];
    let units = ["a".to_string(), "b".to_string()];
    // Only period index 0 is needed: the blank (a, 2) is NaN.
    let m = covariate_cells(&d, &r, &units, &[1, 2], |j| j == 0, "pre-period").unwrap();
    assert_eq!((m[0].n_units, m[0].n_periods), (2, 2));
    assert!((m[0].get(0, 0) - 1.0).abs() < 1e-12 && m[0].get(0, 1).is_nan());
    assert!((m[0].get(1, 0) - 3.0).abs() < 1e-12 && (m[0].get(1, 1) - 4.0).abs() < 1e-12);
    // Pre-period means over the first period: a 1, b 3; over both for b: (3+4)/2.
    close(&pre_period_means(&m, 1), &[1.0, 3.0]);
    // Every period needed: the blank is an error naming the row, unit and period.
    let e = covariate_cells(&d, &r, &units, &[1, 2], |_| true, "needed").unwrap_err();
    assert!(
        matches!(e, DataError::MissingCell { ref unit, row: 3, ref period, .. } if unit == "a" && period == "2"),
        "{e}"
    );
    assert!(e.to_string().contains("row 4 (CSV line 5)"), "{e}");
}

#[test]
fn kpi_panel_is_one_call_and_equals_the_roles_path() {
    let d = file("events3.csv", EVENTS);
    let p = kpi_panel(
        &d,
        "site",
        "day",
        "fcr=ratio(resolved, count)",
        None,
        MissingPolicy::Error,
    )
    .unwrap();
    let c = event_roles("fcr=ratio(resolved, count)").read(&d).unwrap();
    assert_eq!(p.unit, c.unit.unwrap());
    assert_eq!(p.period, c.time.unwrap());
    close(&p.values["fcr"], &c.outcome);
    close(&p.weights["fcr"], &c.weights.unwrap());
    // A width in days needs a date column.
    assert!(matches!(
        kpi_panel(
            &d,
            "site",
            "day",
            "mean(secs)",
            Some(7),
            MissingPolicy::Error
        ),
        Err(DataError::PeriodWidth { .. })
    ));
}

#[test]
fn date_periods_keep_gaps_and_date_cohorts_share_the_origin() {
    // ISO text dates with a gap (no rows on 2024-01-08..2024-01-14) in periods of 7 days
    // from 2024-01-01: days 0, 1, 15, 16 -> periods 0, 0, 2, 2 (period 1 is a gap, kept).
    // Cohort 2024-01-16 is day 15 -> period 2; 0 and empty mean never treated.
    let csv = "unit,d,y,g\n\
a,2024-01-01,1,2024-01-16\n\
a,2024-01-16,2,2024-01-16\n\
b,2024-01-02,3,0\n\
b,2024-01-17,4,\n";
    let d = file("dates.csv", csv);
    let mut r = PanelRoles::new("y");
    r.unit = Some("unit".into());
    r.time = Some("d".into());
    r.cohort = Some("g".into());
    r.period_width = Some(7);
    let c = r.read(&d).unwrap();
    assert!(c.dated());
    assert_eq!(c.time.as_deref().unwrap(), [0, 2, 0, 2]);
    assert_eq!(c.cohort.as_deref().unwrap(), [Some(2), Some(2), None, None]);
    assert_eq!(c.period_of("2024-01-20"), Some(2));
    assert_eq!(c.period_label(2), "2024-01-15");
    assert!(c.period_note("d").unwrap().contains("2024-01-01"));
    // A cohort that is not a date names the column and row.
    let bad = file("dates_bad.csv", &csv.replace("2024-01-16\nb", "soon\nb"));
    let e = r.read(&bad).unwrap_err();
    assert!(
        matches!(e, DataError::NotADate { ref column, row: 1, .. } if column == "g"),
        "{e}"
    );
}

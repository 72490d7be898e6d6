//! The data layer's column roles for DiD, synthetic control and `regress`: masked columns
//! read once under one missing-value policy, role conflicts and panel checks, each error
//! naming the user's column, value and data row (0-based, as every `DataError` row).

use causalkit_data::roles::{
    check_constant_within_units, check_distinct_roles, check_unique_unit_periods, MaskedColumns,
};
use causalkit_data::{DataError, Dataset, MissingPolicy};
use std::path::PathBuf;

fn file(name: &str, contents: &str) -> Dataset {
    let dir = std::env::temp_dir().join(format!("causalkit-roles-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p: PathBuf = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    Dataset::read(&p).unwrap()
}

const CSV: &str = "unit,t,y,g,d,w\n1,1,1.5,2,0,1\n1,2,2.5,2,1,2\n2,1,,0,0,1\n2,2,3.0,,0,0.5\n";

#[test]
fn masked_columns_keep_rows_and_type_values() {
    let d = file("a.csv", CSV);
    // The outcome has a missing value in row 2: an error naming it, or dropped on request.
    let e = MaskedColumns::new(&d, &["y"], &[], MissingPolicy::Error).unwrap_err();
    assert!(
        matches!(e, DataError::MissingValues { ref column, count: 1, first_row: 2 } if column == "y"),
        "{e}"
    );
    let m = MaskedColumns::new(
        &d,
        &["unit", "t", "y", "d", "w"],
        &["g"],
        MissingPolicy::Drop,
    )
    .unwrap();
    assert_eq!(m.rows, vec![0, 1, 3]);
    assert_eq!(m.dropped, 1);
    assert_eq!(m.labels("unit").unwrap(), ["1", "1", "2"]);
    assert_eq!(m.periods("t").unwrap(), [1, 2, 2]);
    assert_eq!(m.numeric("y").unwrap(), [1.5, 2.5, 3.0]);
    // Cohort: 0 and empty both mean never treated.
    assert_eq!(m.cohorts("g").unwrap(), [Some(2), Some(2), None]);
    assert_eq!(m.binary("d").unwrap(), [0.0, 1.0, 0.0]);
    assert_eq!(m.weights("w").unwrap(), [1.0, 2.0, 0.5]);
    // Errors name the user's column and the data row of the offending value.
    let e = m.binary("y").unwrap_err();
    assert!(
        matches!(e, DataError::OutOfRange { ref column, row: 0, .. } if column == "y"),
        "{e}"
    );
    let e = m.periods("y").unwrap_err().to_string();
    assert!(
        e.contains("`y`") && e.contains("row 1 (CSV line 2)") && e.contains("whole-number"),
        "{e}"
    );
    let e = MaskedColumns::new(&d, &["nope"], &[], MissingPolicy::Error)
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope") && e.contains("unit"), "{e}");
}

#[test]
fn weights_must_be_positive_and_cohorts_non_negative() {
    let d = file("b.csv", "y,w,g\n1,1,0\n2,0,-3\n");
    let m = MaskedColumns::new(&d, &["y", "w"], &["g"], MissingPolicy::Error).unwrap();
    let e = m.weights("w").unwrap_err();
    assert!(
        matches!(e, DataError::OutOfRange { ref column, row: 1, .. } if column == "w"),
        "{e}"
    );
    let e = m.cohorts("g").unwrap_err();
    assert!(
        matches!(e, DataError::OutOfRange { ref column, row: 1, .. } if column == "g"),
        "{e}"
    );
}

#[test]
fn role_conflicts_name_the_column_and_both_roles() {
    assert!(
        check_distinct_roles(&[("the outcome (--outcome)", "y"), ("a covariate", "x")]).is_ok()
    );
    let e = check_distinct_roles(&[
        ("the outcome (--outcome)", "lemp"),
        ("a covariate (--covariates)", "lpop"),
        ("a covariate (--covariates)", "lemp"),
    ])
    .unwrap_err();
    let s = e.to_string();
    assert!(
        s.contains("`lemp`") && s.contains("--outcome") && s.contains("--covariates"),
        "{s}"
    );
}

#[test]
fn panel_checks_name_the_users_unit_and_rows() {
    let units: Vec<String> = ["1", "1", "7", "1"].iter().map(|s| s.to_string()).collect();
    let e = check_unique_unit_periods(&units, &[2000, 2001, 2000, 2001], &[10, 11, 12, 14])
        .unwrap_err();
    assert!(
        matches!(e, DataError::DuplicateUnitPeriod { ref unit, ref period, first_row: 11, second_row: 14 } if unit == "1" && period == "2001"),
        "{e}"
    );
    assert!(check_unique_unit_periods(&units[..3], &[2000, 2001, 2000], &[0, 1, 2]).is_ok());
    let g = [Some(2004), Some(2004), None, Some(2006)];
    let e = check_constant_within_units("first.treat", &units, &g, &[0, 1, 2, 3], |v| {
        v.map_or("never".into(), |x| x.to_string())
    })
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("`first.treat`")
            && e.contains("`1`")
            && e.contains("2004")
            && e.contains("2006")
            && e.contains("row 4 (CSV line 5)"),
        "{e}"
    );
}

//! The DiD / synthetic-control panel tests shared by every engine (`tests/panel_postgres.rs`,
//! `tests/spark.rs`): seeded contact-centre events with a staggered go-live, the in-process
//! panel they must equal, and the estimators run on both.
//!
//! The independent implementation is the data layer's event path (`PanelRoles::read` with
//! `events`, plain Rust loops over the rows); an engine's cells (`run_panel` →
//! `PanelColumns::from_cells`) must equal it to 1e-9 relative (the two differ only in the
//! order of floating-point additions), and so must TWFE (weighted by events per cell) and
//! synthetic DiD (Arkhangelsky et al. 2021) on the two panels.

use causalkit_data::design::{EventCells, PanelColumns, PanelRoles};
use causalkit_data::{Dataset, MissingPolicy};
use causalkit_did::twfe::twfe;
use causalkit_did::StaggeredPanel;
use causalkit_stats::Factor;
use causalkit_synth::panel::SynthPanel;
use causalkit_synth::sdid::{sdid, SdidMethod, SdidOptions};
use causalkit_warehouse::{
    run_panel, Denominator, Engine, Metric, MetricKind, PanelCells, PanelRequest, PanelTime,
    TableName, WarehouseError,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::path::PathBuf;

/// The columns of [`simulate`]'s rows, as a PostgreSQL table definition.
pub const COLUMNS: &str =
    "site TEXT, day DATE, day_index INTEGER, handle_seconds DOUBLE PRECISION, \
    talk_seconds DOUBLE PRECISION, resolved INTEGER, go_live DATE, go_live_index INTEGER, \
    treated INTEGER";

/// Seeded contacts: 24 sites, 56 days from 2024-01-01, 2–7 contacts per site and day; a third
/// of the sites go live on 2024-01-29, a third on 2024-02-12 (handle time falls by 25 s),
/// the rest never. `talk_seconds` is missing on ~5% of contacts (never on a cell's first).
pub fn simulate(seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let z = Normal::new(0.0, 1.0).unwrap();
    let mut csv = String::from(
        "site,day,day_index,handle_seconds,talk_seconds,resolved,go_live,go_live_index,treated\n",
    );
    for s in 0..24 {
        let site = format!("s{s:02}");
        let level = 300.0 + 30.0 * z.sample(&mut rng);
        let go = match s % 3 {
            0 => Some(28),
            1 => Some(42),
            _ => None,
        };
        for day in 0..56i64 {
            let date = format!("2024-{:02}-{:02}", 1 + day / 31, 1 + day % 31);
            let treated = go.is_some_and(|g| day >= g);
            for k in 0..rng.random_range(2..8) {
                let hs = level + 0.4 * day as f64 - if treated { 25.0 } else { 0.0 }
                    + 60.0 * z.sample(&mut rng);
                let talk = if k > 0 && rng.random_bool(0.05) {
                    String::new()
                } else {
                    format!("{:?}", 0.7 * hs + 10.0 * z.sample(&mut rng))
                };
                let resolved = rng.random_bool(if treated { 0.75 } else { 0.7 }) as i64;
                let (g, gi) = match go {
                    Some(g) => (
                        format!("2024-{:02}-{:02}", 1 + g / 31, 1 + g % 31),
                        g.to_string(),
                    ),
                    None => (String::new(), "0".into()),
                };
                csv += &format!(
                    "{site},{date},{day},{hs:?},{talk},{resolved},{g},{gi},{}\n",
                    treated as i64
                );
            }
        }
    }
    csv
}

pub fn dataset(csv: &str, name: &str) -> Dataset {
    let dir = std::env::temp_dir().join(format!("causalkit_wh_panel_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(format!("{name}.csv"));
    std::fs::write(&path, csv).unwrap();
    Dataset::read(&path).unwrap()
}

pub fn close(a: f64, b: f64, what: &str) {
    let scale = a.abs().max(b.abs()).max(1e-300);
    assert!(
        (a - b).abs() <= 1e-9 * scale,
        "{what}: engine {a} vs in process {b}"
    );
}

/// An engine's cells as the data layer's panel columns.
pub fn columns_of(roles: &PanelRoles, c: PanelCells) -> PanelColumns {
    PanelColumns::from_cells(
        roles,
        EventCells {
            unit: c.unit,
            period: c.period,
            value: c.value,
            weight: c.weight,
            cohort: c.cohort,
            treated: c.treated,
            dates: c.dates,
            dropped: c.dropped_rows,
        },
    )
    .unwrap()
}

/// Cell by cell: the same units, periods, cohorts, treated flags and dropped rows, values and
/// weights to 1e-9 relative.
pub fn assert_same_panel(engine: &PanelColumns, local: &PanelColumns) {
    assert_eq!(engine.unit, local.unit);
    assert_eq!(engine.time, local.time);
    assert_eq!(engine.cohort, local.cohort);
    assert_eq!(engine.treated, local.treated);
    assert_eq!(engine.dropped, local.dropped);
    assert_eq!(engine.notes, local.notes);
    assert_eq!(engine.outcome_name, local.outcome_name);
    assert_eq!(engine.period_note("day"), local.period_note("day"));
    let (we, wl) = (
        engine.weights.as_ref().unwrap(),
        local.weights.as_ref().unwrap(),
    );
    assert_eq!(engine.outcome.len(), local.outcome.len());
    for i in 0..local.outcome.len() {
        close(
            engine.outcome[i],
            local.outcome[i],
            &format!("value of cell {i}"),
        );
        close(we[i], wl[i], &format!("weight of cell {i}"));
    }
}

pub fn twfe_of(c: &PanelColumns) -> (f64, f64) {
    let panel = StaggeredPanel::new(
        Factor::from_labels("site", c.unit.as_ref().unwrap()),
        c.time.clone().unwrap(),
        c.outcome.clone(),
        c.cohort.clone().unwrap(),
    )
    .unwrap()
    .with_weights(c.weights.clone().unwrap())
    .unwrap();
    let fit = twfe(&panel, None, 0.05, None).unwrap();
    let e = fit.effect();
    (e.estimate, e.std_error.unwrap())
}

pub fn sdid_of(c: &PanelColumns) -> f64 {
    let time: Vec<f64> = c.time.as_ref().unwrap().iter().map(|&t| t as f64).collect();
    let treated: Vec<bool> = c
        .treated
        .as_ref()
        .unwrap()
        .iter()
        .map(|&d| d > 0.5)
        .collect();
    let panel =
        SynthPanel::from_long(c.unit.as_ref().unwrap(), &time, &c.outcome, &treated).unwrap();
    sdid(&panel, &SdidOptions::new(SdidMethod::Sdid))
        .unwrap()
        .estimate
}

/// Weekly average handle time from dated contacts with a go-live date: the panel, TWFE and
/// synthetic DiD equal the in-process path.
/// `csv` is [`simulate`]'s output, which the engine holds as `table`.
pub fn dated_weekly_panel(engine: &mut dyn Engine, table: &TableName, csv: &str) {
    let data = dataset(csv, "contacts");
    let mut roles = PanelRoles::new("aht=mean(handle_seconds)");
    roles.unit = Some("site".into());
    roles.time = Some("day".into());
    roles.cohort = Some("go_live".into());
    roles.treated = Some("treated".into());
    roles.events = true;
    roles.period_width = Some(7);
    let local = roles.read(&data).unwrap();
    let mut req = PanelRequest::new(
        table.clone(),
        "site",
        "day",
        Metric {
            name: "aht".into(),
            kind: MetricKind::Mean {
                column: "handle_seconds".into(),
            },
        },
    );
    req.time_kind = PanelTime::Dates { width_days: 7 };
    req.cohort = Some("go_live".into());
    req.treated = Some("treated".into());
    let cells = run_panel(engine, &req).unwrap();
    assert_eq!(cells.len(), 24 * 8, "24 sites x 8 weeks");
    assert!(
        cells.events.iter().all(|&e| e >= 14),
        "several contacts per cell"
    );
    let cells = columns_of(&roles, cells);
    assert_same_panel(&cells, &local);
    assert_eq!(
        local.cohort.as_ref().unwrap()[0],
        Some(4),
        "go-live in week 4"
    );
    let (e, l) = (twfe_of(&cells), twfe_of(&local));
    close(e.0, l.0, "TWFE estimate");
    close(e.1, l.1, "TWFE standard error");
    assert!(
        (l.0 + 25.0).abs() < 10.0,
        "TWFE near the true -25 s: {}",
        l.0
    );
    let (e, l) = (sdid_of(&cells), sdid_of(&local));
    close(e, l, "SDID estimate");
    assert!((l + 25.0).abs() < 10.0, "SDID near the true -25 s: {l}");
}

/// Whole-number day indices grouped into blocks of 7 (`--period-width` with `--events`), a
/// ratio KPI with missing numerators dropped: the same panel and TWFE.
/// `csv` is [`simulate`]'s output, which the engine holds as `table`.
pub fn blocked_ratio_panel(engine: &mut dyn Engine, table: &TableName, csv: &str) {
    let data = dataset(csv, "contacts_idx");
    let mut roles = PanelRoles::new("talk_share=ratio(talk_seconds, handle_seconds)");
    roles.unit = Some("site".into());
    roles.time = Some("day_index".into());
    roles.cohort = Some("go_live_index".into());
    roles.events = true;
    roles.period_width = Some(7);
    roles.policy = MissingPolicy::Drop;
    let local = roles.read(&data).unwrap();
    assert!(local.dropped > 0, "the simulation drops rows");
    let mut req = PanelRequest::new(
        table.clone(),
        "site",
        "day_index",
        Metric {
            name: "talk_share".into(),
            kind: MetricKind::Ratio {
                numerator: "talk_seconds".into(),
                denominator: Denominator::Column("handle_seconds".into()),
            },
        },
    );
    req.cohort = Some("go_live_index".into());
    req.drop_missing = true;
    let cells = run_panel(engine, &req).unwrap();
    assert_eq!(cells.len(), 24 * 56, "day cells before blocking");
    let cells = columns_of(&roles, cells);
    assert_same_panel(&cells, &local);
    let (e, l) = (twfe_of(&cells), twfe_of(&local));
    close(e.0, l.0, "TWFE estimate");
    close(e.1, l.1, "TWFE standard error");
    // Without dropping, the missing numerators are an error naming the columns.
    req.drop_missing = false;
    match run_panel(engine, &req) {
        Err(WarehouseError::MissingValues { columns, rows, .. }) => {
            assert!(columns.contains("`talk_seconds`"), "{columns}");
            assert_eq!(rows as usize, local.dropped);
        }
        other => panic!("{other:?}"),
    }
}

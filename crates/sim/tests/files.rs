//! Output files: reproducibility, CSV layout, truth.json structure and config validation.

use std::path::PathBuf;

use causalkit_sim::{
    simulate_ab, simulate_staggered, truth, write_contact_centre, Assignment, ContactCentreConfig,
    SimError, AB_COLUMNS, COMMON_COLUMNS, STAGGERED_COLUMNS,
};

fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("causalkit-sim-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A smaller world so the file tests stay quick.
fn small() -> ContactCentreConfig {
    ContactCentreConfig {
        contacts_per_day: 60,
        customers: 1_000,
        ..ContactCentreConfig::default()
    }
}

#[test]
fn same_seed_gives_identical_files_and_different_seeds_differ() {
    let config = small();
    let a = write_contact_centre(&config, &out_dir("seed-a")).unwrap();
    let b = write_contact_centre(&config, &out_dir("seed-b")).unwrap();
    let c = write_contact_centre(&config.with_seed(config.seed + 1), &out_dir("seed-c")).unwrap();
    for (pa, pb, pc) in [
        (&a.ab_contacts, &b.ab_contacts, &c.ab_contacts),
        (
            &a.staggered_contacts,
            &b.staggered_contacts,
            &c.staggered_contacts,
        ),
        (&a.truth, &b.truth, &c.truth),
    ] {
        let (xa, xb, xc) = (
            std::fs::read(pa).unwrap(),
            std::fs::read(pb).unwrap(),
            std::fs::read(pc).unwrap(),
        );
        assert!(!xa.is_empty());
        assert_eq!(xa, xb, "{} differs between identical runs", pa.display());
        assert_ne!(xa, xc, "{} identical across seeds", pa.display());
    }
    // In memory too.
    assert_eq!(simulate_ab(&config), simulate_ab(&config));
    assert_eq!(simulate_staggered(&config), simulate_staggered(&config));
    assert_ne!(
        simulate_ab(&config),
        simulate_ab(&config.with_seed(config.seed + 1))
    );
}

fn split(line: &str) -> Vec<&str> {
    line.split(',').collect()
}

#[test]
fn csv_headers_and_empty_csat_for_unsurveyed() {
    let config = small();
    let w = write_contact_centre(&config, &out_dir("csv")).unwrap();
    let ab_text = std::fs::read_to_string(&w.ab_contacts).unwrap();
    let st_text = std::fs::read_to_string(&w.staggered_contacts).unwrap();

    let mut ab_header: Vec<&str> = COMMON_COLUMNS.to_vec();
    ab_header.extend(AB_COLUMNS);
    let mut st_header: Vec<&str> = COMMON_COLUMNS.to_vec();
    st_header.extend(STAGGERED_COLUMNS);
    assert_eq!(
        ab_header.join(","),
        "contact_id,day,site,queue,agent,intent,customer_id,customer_tier,pre_handle_seconds,\
         handle_seconds,fcr,csat,repeat_contact,arm"
    );
    assert_eq!(ab_text.lines().next().unwrap(), ab_header.join(","));
    assert_eq!(
        st_text.lines().next().unwrap(),
        format!("{},adoption_day,model_live", COMMON_COLUMNS.join(","))
    );

    let ab = simulate_ab(&config);
    let rows: Vec<&str> = ab_text.lines().skip(1).collect();
    assert_eq!(rows.len(), ab.len());
    assert_eq!(rows.len() as u64, config.contacts_per_design());
    let csat_col = 11;
    let mut surveyed = 0usize;
    for (line, c) in rows.iter().zip(&ab) {
        let f = split(line);
        assert_eq!(f.len(), ab_header.len(), "{line}");
        assert_eq!(f[0], c.contact_id.to_string());
        assert_eq!(f[2], c.site_label());
        assert_eq!(f[4], c.agent_label());
        assert!(f[4].starts_with(f[2]));
        assert!(["billing", "tech", "sales"].contains(&f[3]));
        assert!(["bronze", "silver", "gold"].contains(&f[7]));
        assert!(["control", "treatment"].contains(&f[13]));
        assert!(f[9].parse::<f64>().unwrap() > 0.0);
        assert!(["0", "1"].contains(&f[10]) && ["0", "1"].contains(&f[12]));
        match c.csat {
            None => assert_eq!(f[csat_col], "", "{line}"),
            Some(s) => {
                surveyed += 1;
                assert_eq!(f[csat_col], s.to_string());
                assert!((1..=5).contains(&s));
            }
        }
    }
    let rate = surveyed as f64 / ab.len() as f64;
    assert!(
        (rate - config.survey_rate).abs() < 0.03,
        "survey rate {rate}"
    );

    let st = simulate_staggered(&config);
    for (line, c) in st_text.lines().skip(1).zip(&st) {
        let f = split(line);
        assert_eq!(f.len(), st_header.len(), "{line}");
        assert_eq!(f[csat_col].is_empty(), c.csat.is_none());
        let Assignment::Staggered {
            adoption_day,
            model_live,
        } = c.assignment
        else {
            panic!("wrong assignment")
        };
        assert_eq!(f[13], adoption_day.to_string());
        assert_eq!(f[14] == "1", model_live);
        assert_eq!(model_live, adoption_day > 0 && c.day >= adoption_day);
    }
}

#[test]
fn default_files_are_small_enough_to_commit() {
    let config = ContactCentreConfig::default();
    let n = config.contacts_per_design();
    assert!((19_000..=21_000).contains(&n), "{n} contacts");
    let w = write_contact_centre(&config, &out_dir("default")).unwrap();
    for p in [&w.ab_contacts, &w.staggered_contacts] {
        let len = std::fs::metadata(p).unwrap().len();
        assert!(len < 3_000_000, "{} is {len} bytes", p.display());
    }
}

#[test]
fn truth_json_has_documented_structure() {
    let config = small();
    let w = write_contact_centre(&config, &out_dir("truth")).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&w.truth).unwrap()).unwrap();
    let t = truth(&config);
    assert_eq!(v["parameters"]["seed"], config.seed);
    assert_eq!(v["ab"]["aht_seconds"], t.ab.aht_seconds);
    assert_eq!(v["ab"]["aht_seconds"], config.effects.aht_seconds);
    assert_eq!(v["ab"]["fcr"], config.effects.fcr);
    assert_eq!(v["ab"]["csat"], t.ab.csat);
    let cohorts = v["staggered"]["cohorts"].as_array().unwrap();
    assert_eq!(cohorts.len(), config.rollout.cohorts.len());
    assert_eq!(cohorts[0]["adoption_day"], 15);
    assert!(cohorts[0]["att"]["aht_seconds"].is_f64());
    let rows = v["staggered"]["att_by_cohort_event_time"]
        .as_array()
        .unwrap();
    let expected_rows: u32 = config
        .rollout
        .cohorts
        .iter()
        .map(|c| config.days - c.adoption_day + 1)
        .sum();
    assert_eq!(rows.len() as u32, expected_rows);
    for key in [
        "adoption_day",
        "event_time",
        "day",
        "effect_multiplier",
        "expected_contacts",
        "aht_seconds",
        "fcr",
        "csat",
        "repeat_contact",
    ] {
        assert!(rows[0].get(key).is_some(), "missing {key}");
    }
    assert!(v["staggered"]["att_overall"]["aht_seconds"].is_f64());
    assert_eq!(
        v["staggered"]["never_treated_sites"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(v["sites"].as_array().unwrap().len(), config.sites as usize);
    assert_eq!(v["days"].as_array().unwrap().len(), config.days as usize);
    // Round trip (serde_json's default float parsing may differ in the last bit).
    let back: causalkit_sim::Truth = serde_json::from_value(v).unwrap();
    assert_eq!(back.parameters.seed, t.parameters.seed);
    assert_eq!(
        back.staggered.att_by_cohort_event_time.len(),
        t.staggered.att_by_cohort_event_time.len()
    );
    assert!(
        (back.staggered.att_overall.effects.csat - t.staggered.att_overall.effects.csat).abs()
            < 1e-12
    );

    // Ramp: first cell of the first cohort gets 1/R of the cohort effect, and from
    // event time R-1 on, the full cohort effect.
    let c0 = &config.rollout.cohorts[0];
    let r0 = &t.staggered.att_by_cohort_event_time[0];
    let r_days = f64::from(config.rollout.ramp_days);
    assert_eq!(r0.event_time, 0);
    assert!(
        (r0.effects.aht_seconds - c0.effect_scale * config.effects.aht_seconds / r_days).abs()
            < 1e-12
    );
    let full = t
        .staggered
        .att_by_cohort_event_time
        .iter()
        .find(|r| r.adoption_day == c0.adoption_day && r.event_time == config.rollout.ramp_days)
        .unwrap();
    assert!((full.effects.fcr - c0.effect_scale * config.effects.fcr).abs() < 1e-12);
    // The overall ATT lies between the smallest and largest cell effect.
    let (lo, hi) = t
        .staggered
        .att_by_cohort_event_time
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
            (lo.min(r.effects.csat), hi.max(r.effects.csat))
        });
    let o = t.staggered.att_overall.effects.csat;
    assert!(lo <= o && o <= hi);
}

/// A modification of the default config.
type Change = dyn FnOnce(&mut ContactCentreConfig);

/// The field named by the validation error of the default config after `change`.
fn field_after(change: impl FnOnce(&mut ContactCentreConfig)) -> String {
    let mut config = ContactCentreConfig::default();
    change(&mut config);
    match config.validate() {
        Err(SimError::InvalidConfig { field, .. }) => field,
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn config_validation_names_the_field() {
    assert!(ContactCentreConfig::default().validate().is_ok());

    let zero_sites = ContactCentreConfig {
        sites: 0,
        ..ContactCentreConfig::default()
    };
    let err = write_contact_centre(&zero_sites, &out_dir("invalid")).unwrap_err();
    assert_eq!(err.field(), Some("sites"));
    assert!(err.to_string().contains("sites"));

    let cases: Vec<(&str, Box<Change>)> = vec![
        ("sites", Box::new(|c| c.sites = 0)),
        ("days", Box::new(|c| c.days = 0)),
        ("contacts_per_day", Box::new(|c| c.contacts_per_day = 0)),
        ("agents_per_site", Box::new(|c| c.agents_per_site = 0)),
        ("customers", Box::new(|c| c.customers = 0)),
        // An effect larger than the floor margin.
        (
            "effects.aht_seconds",
            Box::new(|c| c.effects.aht_seconds = -200.0),
        ),
        (
            "handle.floor_seconds",
            Box::new(|c| c.handle.floor_seconds = 10.0),
        ),
        // Pushes resolution probabilities above 1.
        ("effects.fcr", Box::new(|c| c.effects.fcr = 0.3)),
        (
            "intents[2].fcr_base",
            Box::new(|c| c.intents[2].fcr_base = 0.05),
        ),
        ("intents[].share", Box::new(|c| c.intents[0].share = 0.5)),
        (
            "intents[1].csat_if_resolved",
            Box::new(|c| c.intents[1].csat_if_resolved[0] = 0.5),
        ),
        ("survey_rate", Box::new(|c| c.survey_rate = 1.5)),
        // Times the largest cohort effect scale (1.25) exceeds 1.
        (
            "effects.csat_uplift_prob",
            Box::new(|c| c.effects.csat_uplift_prob = 0.9),
        ),
        (
            "rollout.cohorts[1].adoption_day",
            Box::new(|c| c.rollout.cohorts[1].adoption_day = 99),
        ),
        (
            "rollout.cohorts[2].adoption_day",
            Box::new(|c| c.rollout.cohorts[2].adoption_day = 15),
        ),
        ("rollout.cohorts[].sites", Box::new(|c| c.sites = 5)),
        ("rollout.ramp_days", Box::new(|c| c.rollout.ramp_days = 0)),
        ("tier_shares", Box::new(|c| c.tier_shares = [0.5, 0.5, 0.5])),
        (
            "resolution.repeat_if_unresolved",
            Box::new(|c| c.resolution.repeat_if_unresolved = -0.1),
        ),
    ];
    for (field, change) in cases {
        assert_eq!(field_after(change), field);
    }
}

#[test]
#[should_panic(expected = "sites")]
fn simulate_panics_on_invalid_config() {
    simulate_ab(&ContactCentreConfig {
        sites: 0,
        ..ContactCentreConfig::default()
    });
}

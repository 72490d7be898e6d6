//! CSV and JSON output.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::config::ContactCentreConfig;
use crate::error::SimError;
use crate::model::{Customers, World};
use crate::record::{Assignment, Contact};
use crate::simulate::simulate_both;
use crate::truth::truth_from;

/// Columns shared by both contact logs, in file order.
pub const COMMON_COLUMNS: [&str; 13] = [
    "contact_id",
    "day",
    "site",
    "queue",
    "agent",
    "intent",
    "customer_id",
    "customer_tier",
    "pre_handle_seconds",
    "handle_seconds",
    "fcr",
    "csat",
    "repeat_contact",
];

/// Extra column of the A/B log (after the common columns).
pub const AB_COLUMNS: [&str; 1] = ["arm"];

/// Extra columns of the staggered log (after the common columns).
pub const STAGGERED_COLUMNS: [&str; 2] = ["adoption_day", "model_live"];

/// File name of the A/B contact log.
pub const AB_FILE: &str = "ab_contacts.csv";
/// File name of the staggered contact log.
pub const STAGGERED_FILE: &str = "staggered_contacts.csv";
/// File name of the truth file.
pub const TRUTH_FILE: &str = "truth.json";

/// Paths written by [`write_contact_centre`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// `out_dir/ab_contacts.csv`.
    pub ab_contacts: PathBuf,
    /// `out_dir/staggered_contacts.csv`.
    pub staggered_contacts: PathBuf,
    /// `out_dir/truth.json`.
    pub truth: PathBuf,
    /// `out_dir/single_site_contacts.csv` (single-site release design).
    pub single_site_contacts: PathBuf,
}

/// Writes `contacts` as CSV (header row, then one row per contact) to `w`.
///
/// The extra columns follow the first contact's design (`arm` for A/B, `adoption_day`
/// and `model_live` for staggered; an empty slice gets the A/B header). Seconds are
/// written with one decimal, booleans as `0`/`1`, and `csat` is empty when not surveyed.
/// `config` supplies intent names and queues.
pub fn write_contacts_csv<W: Write>(
    config: &ContactCentreConfig,
    contacts: &[Contact],
    w: W,
) -> io::Result<()> {
    let mut w = BufWriter::new(w);
    let staggered = matches!(
        contacts.first().map(|c| c.assignment),
        Some(Assignment::Staggered { .. })
    );
    let mut header: Vec<&str> = COMMON_COLUMNS.to_vec();
    header.extend_from_slice(if staggered {
        &STAGGERED_COLUMNS[..]
    } else {
        &AB_COLUMNS[..]
    });
    writeln!(w, "{}", header.join(","))?;
    for c in contacts {
        let intent = &config.intents[c.intent];
        write!(
            w,
            "{},{},site_{:02},{},site_{:02}_agent_{:02},{},cust_{:06},{},{:.1},{:.1},{},",
            c.contact_id,
            c.day,
            c.site,
            intent.queue,
            c.site,
            c.agent,
            intent.name,
            c.customer_id,
            c.customer_tier.as_str(),
            c.pre_handle_seconds,
            c.handle_seconds,
            u8::from(c.fcr),
        )?;
        if let Some(s) = c.csat {
            write!(w, "{s}")?;
        }
        write!(w, ",{}", u8::from(c.repeat_contact))?;
        match c.assignment {
            Assignment::Ab { arm } => writeln!(w, ",{}", arm.as_str())?,
            Assignment::Staggered {
                adoption_day,
                model_live,
            } => writeln!(w, ",{},{}", adoption_day, u8::from(model_live))?,
        }
    }
    w.flush()
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SimError + '_ {
    move |source| SimError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn write_csv_file(
    config: &ContactCentreConfig,
    contacts: &[Contact],
    path: &Path,
) -> Result<(), SimError> {
    let file = File::create(path).map_err(io_err(path))?;
    write_contacts_csv(config, contacts, file).map_err(io_err(path))
}

/// Validates `config`, simulates both designs and writes `ab_contacts.csv`,
/// `staggered_contacts.csv` and `truth.json` into `out_dir` (created if missing), plus the
/// single-site release design `single_site_contacts.csv` (own stream, see
/// [`crate::single_site`]).
///
/// The same config (including the seed) always produces byte-identical files.
pub fn write_contact_centre(
    config: &ContactCentreConfig,
    out_dir: &Path,
) -> Result<Written, SimError> {
    config.validate()?;
    std::fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    let written = Written {
        ab_contacts: out_dir.join(AB_FILE),
        staggered_contacts: out_dir.join(STAGGERED_FILE),
        truth: out_dir.join(TRUTH_FILE),
        single_site_contacts: out_dir.join(crate::single_site::SINGLE_SITE_FILE),
    };
    let (ab, staggered) = simulate_both(config);
    write_csv_file(config, &ab, &written.ab_contacts)?;
    drop(ab);
    write_csv_file(config, &staggered, &written.staggered_contacts)?;
    drop(staggered);
    let single_config = crate::single_site::SingleSiteConfig::default();
    crate::single_site::validate_single_site(&single_config).map_err(|reason| {
        SimError::InvalidConfig {
            field: "single_site".into(),
            reason,
        }
    })?;
    let single = crate::single_site::simulate_single_site(config, &single_config);
    let path = &written.single_site_contacts;
    let file = File::create(path).map_err(io_err(path))?;
    crate::single_site::write_single_site_csv(&single, file).map_err(io_err(path))?;
    drop(single);

    let world = World::new(config);
    let customers = Customers::new(config, &world);
    let truth = truth_from(config, &world, &customers);
    let path = &written.truth;
    let file = File::create(path).map_err(io_err(path))?;
    let mut w = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut w, &truth)?;
    writeln!(w).map_err(io_err(path))?;
    w.flush().map_err(io_err(path))?;
    Ok(written)
}

//! Writes the default simulated data set (or a scaled one) into a directory.
//!
//! `cargo run -p causalkit-sim --example write_contact_centre -- OUT_DIR [SCALE] [SEED]`

use std::path::PathBuf;

use causalkit_sim::{write_contact_centre, ContactCentreConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "contact_centre".to_string()));
    let scale: u32 = args
        .next()
        .map_or(1, |s| s.parse().expect("SCALE must be an integer"));
    let mut config = ContactCentreConfig::default().scaled(scale);
    if let Some(seed) = args.next() {
        config.seed = seed.parse().expect("SEED must be an integer");
    }
    match write_contact_centre(&config, &out) {
        Ok(w) => {
            for p in [&w.ab_contacts, &w.staggered_contacts, &w.truth] {
                println!("{}", p.display());
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

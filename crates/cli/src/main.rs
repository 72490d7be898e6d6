//! `causalkit` — the command-line tool.
//!
//! Exit codes: 0 on success, 2 on bad input (the message on stderr), 1 on a numerical failure
//! (an iteration that did not converge on valid input) or an internal error. Results go to
//! stdout; warnings and verdicts go to stderr in every output format.

#![deny(clippy::float_cmp)]

mod ab;
mod attribute;
mod attribute_errors;
mod commands;
mod did;
mod output;
mod report;
mod reward;
mod reward_choose;
mod simulate_intent;
mod synth;
mod uplift;
mod warehouse;
mod warehouse_panel;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    match commands::run(cli) {
        Ok(out) => {
            print!("{}", out.stdout);
            eprint!("{}", out.stderr);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", e.message);
            ExitCode::from(e.code())
        }
    }
}

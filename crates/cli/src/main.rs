//! `causalkit` — the command-line tool.
//!
//! Exit codes: 0 on success, 2 on bad input (the message on stderr), 1 on internal error.

mod ab;
mod commands;
mod did;
mod output;
mod synth;
mod uplift;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    match commands::run(cli) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", e.message);
            ExitCode::from(e.code())
        }
    }
}

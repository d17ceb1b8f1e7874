//! `isthmus`: the one command-line tool of Isthmus.
//!
//! It only wires library crates together; the logic lives in them.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(cli::EXIT_TOOL_ERROR)
        }
    }
}

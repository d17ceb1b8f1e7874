//! `isthmus`: the one command-line tool of Isthmus.
//!
//! It only wires library crates together; the logic lives in them.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// The ledger and the relay allocate many small, short-lived objects from
/// several threads (sled's among them); mimalloc serves that pattern with far
/// less contention than the system allocator (see `isthmus bench ledger`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

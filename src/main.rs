//! `isthmus`: the one command-line tool of Isthmus.
//!
//! It only wires library crates together; the logic lives in them.

mod cli;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use cli::output::{self, OutputError};

/// The ledger and the relay allocate many small, short-lived objects from
/// several threads (sled's among them); mimalloc serves that pattern with far
/// less contention than the system allocator (see `isthmus bench ledger`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Prints clap's help, version or usage error. Its messages quote the
/// arguments, so they are escaped and capped like every other message (only
/// its own line breaks are kept); nothing here can panic on a closed stream.
fn argument_error(error: &clap::Error) -> ExitCode {
    let text = error.render().to_string();
    let text = output::escape_keeping_newlines(&text);
    let text = output::cap(&text, 4 * output::MAX_MESSAGE_CHARS);
    let _ = if error.use_stderr() {
        io::stderr().lock().write_all(text.as_bytes())
    } else {
        io::stdout().lock().write_all(text.as_bytes())
    };
    // clap's convention: 0 for --help and --version, 2 for a usage error.
    ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(cli::EXIT_TOOL_ERROR))
}

/// One line for the whole error chain (`error: outer: inner: cause`): every
/// item escaped and capped at a quarter of [`output::MAX_MESSAGE_CHARS`] (so a
/// huge path argument cannot hide the cause after it), the line at all of it.
fn error_line(error: &anyhow::Error) -> String {
    let chain: Vec<String> = error
        .chain()
        .map(|item| {
            let item = item.to_string();
            output::cap(&output::escape(&item), output::MAX_MESSAGE_CHARS / 4).into_owned()
        })
        .collect();
    format!(
        "error: {}",
        output::cap(&chain.join(": "), output::MAX_MESSAGE_CHARS)
    )
}

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(error) => return argument_error(&error),
    };
    match cli::run(args) {
        Ok(code) => code,
        Err(error) => {
            let closed_pipe = error.chain().any(|item| {
                item.downcast_ref::<OutputError>()
                    .is_some_and(OutputError::is_broken_pipe)
            });
            // The reader of standard output went away (`| head -1`): nothing to
            // tell it; the status still says the output is incomplete.
            if !closed_pipe {
                let mut line = error_line(&error);
                line.push('\n');
                let _ = io::stderr().lock().write_all(line.as_bytes());
            }
            ExitCode::from(cli::EXIT_TOOL_ERROR)
        }
    }
}

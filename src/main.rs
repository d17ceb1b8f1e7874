//! `isthmus`: the one command-line tool (placeholder until the CLI lands).
fn main() {}

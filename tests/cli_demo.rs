#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `isthmus demo`, the README's first command, as a user runs it: it settles
//! its story over loopback QUIC, prints each part, checks everything and
//! exits 0; `--keep` leaves files that the ledger's own tools verify;
//! `--trades N` settles N trades and reports throughput and latency.

use std::process::Command;

fn isthmus() -> Command {
    Command::new(env!("CARGO_BIN_EXE_isthmus"))
}

#[test]
fn the_demo_settles_its_story_checks_everything_and_keeps_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("demo");
    let out = isthmus()
        .args(["demo", "--keep", keep.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for part in [
        // Trades against payment both ways, and free of payment, settled
        // (settlements are numbered in the order they match, which load may change).
        ": SECURITIES leg on XETR Claimed, CASH leg on XASX Claimed\n",
        ": CASH leg on XETR Claimed, SECURITIES leg on XASX Claimed\n",
        ": SECURITIES leg on XETR Claimed\n",
        // Insufficient securities: the lock refused.
        "SECURITIES leg on XASX LockRefused",
        // The buyer without the cash: the cash lock refused (the securities,
        // if locked before the abort came, refunded after their expiry).
        ": CASH leg on XETR LockRefused",
        // Unmatched, and a counterparty who never instructs.
        "UNMATCHED (UNMATCHED_QUANTITY",
        "CANCELLED (MATCHING_EXPIRED",
        // Each participant in its dialect.
        "sese.025",
        "MT545",
        "{2:I545",
        "holdings before:",
        "holdings after:",
        "journal XETR: OK",
        "journal XASX: OK",
        "all checks passed",
    ] {
        assert!(stdout.contains(part), "{part:?} missing from:\n{stdout}");
    }
    // The kept files: the public network files and two ledgers that verify.
    assert!(keep.join("network/membership.json").is_file());
    for market in ["XETR", "XASX"] {
        let verify = isthmus()
            .args(["ledger", "verify", "--data"])
            .arg(keep.join("ledgers").join(market))
            .output()
            .unwrap();
        assert!(
            verify.status.success(),
            "{market}: {}",
            String::from_utf8_lossy(&verify.stdout)
        );
    }
}

#[test]
fn the_demo_under_load_settles_every_trade_and_reports_its_figures() {
    let out = isthmus().args(["demo", "--trades", "20"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("20 trades settled in"), "{stdout}");
    assert!(stdout.contains("settlements/s, latency p50"), "{stdout}");
    assert!(stdout.contains("all checks passed"), "{stdout}");
}

//! `isthmus demo`: the end-to-end demonstration.

use std::process::ExitCode;

use super::output::Out;

/// What the demo will do once the ledger, adapters, relay and gateway exist.
/// Until then it says so and succeeds, so the README's first command works.
pub fn run() -> anyhow::Result<ExitCode> {
    let mut out = Out::new();
    writeln!(
        out,
        "\
Isthmus demo (preview)

When the settlement components land, this command will, on loopback only:
  1. start two market ledgers (XNYS with USD cash, XETR with EUR cash) with demo accounts;
  2. start a relay and one gateway per market, connected over QUIC with mutual TLS;
  3. send a seller's delivery and a buyer's receipt against payment as ISM/1 instructions;
  4. match them, lock both legs under one SHA-256 hashlock, reveal the secret and claim both;
  5. print each ISM/1 message, the journal entries, and the final holdings of both parties.

What works today: the ISM/1 standard, the ledger and the adapters. Try
  isthmus spec vectors                       run the published ISM/1 and RFC 8785 test vectors
  isthmus spec validate specs/samples/settlement-instruction.json
  isthmus translate --from mt --to iso20022 adapters/tests/data/mt/01-mt543-us-dtc-deliver-against-usd.fin
  isthmus bench ledger                       durable HTLC throughput of the ledger
  isthmus keys generate --out DIR            an Ed25519 message-signing key"
    )?;
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

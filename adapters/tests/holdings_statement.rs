//! A ledger's holdings as a statement of holdings: the ISM/1
//! `HoldingsStatement` built from them, and its MT535 form checked against
//! the MT535 format specification (sequence and field order, mandatory
//! fields, the usage rule AVAI + NAVL = AGGR), and its semt.002 form read
//! back as the same statement.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use isthmus_adapters::statement::{holdings_statement, StatementError};
use isthmus_adapters::{iso20022, mt, Dialect, TranslateCode};
use isthmus_ledger::state::Holding;
use isthmus_ledger::Asset;
use isthmus_spec::body::{AccountRef, HoldingsStatement};
use isthmus_spec::ident::Mic;
use isthmus_spec::ids::Reference;
use isthmus_spec::time::Timestamp;
use isthmus_spec::Body;
use proptest::prelude::*;

const ACCOUNT: &str = "549300ISTHMUSSELL015/SAFE-SELLER-01";

fn statement(holdings: &[(Asset, Holding)]) -> Result<HoldingsStatement, StatementError> {
    holdings_statement(
        Reference::parse("HLD0123456789ABC").unwrap(),
        Mic::parse("XETR").unwrap(),
        AccountRef::parse_text(ACCOUNT).unwrap(),
        Timestamp::parse("2026-12-02T14:30:05.250Z").unwrap(),
        holdings,
    )
}

fn security(isin: &str) -> Asset {
    Asset::parse(isin).unwrap()
}

fn holding(available: u64, locked: u64) -> Holding {
    Holding { available, locked }
}

/// The text block's lines, without the `{4:` and `-}` lines.
fn text_lines(message: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(message).unwrap();
    let start = text.find("{4:\r\n").unwrap() + 5;
    let end = text.rfind("\r\n-}").unwrap();
    text[start..end].split("\r\n").map(str::to_string).collect()
}

#[test]
fn a_statement_lists_each_security_held_with_its_locked_part_sorted_by_isin() {
    let held = [
        (security("US0378331005"), holding(0, 0)),
        (security("DE0005557508"), holding(1_500_000, 0)),
        (security("AU000000BHP4"), holding(250_500_000, 100_000_000)),
    ];
    let statement = statement(&held).unwrap();
    let rows: Vec<(String, String, Option<String>)> = statement
        .balances
        .iter()
        .map(|b| {
            (
                b.isin.to_string(),
                b.total.to_string(),
                b.locked.as_ref().map(ToString::to_string),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("AU000000BHP4".into(), "350.5".into(), Some("100".into())),
            ("DE0005557508".into(), "1.5".into(), None),
        ]
    );
    // The statement is a valid ISM/1 body.
    let body = Body::HoldingsStatement(statement);
    Body::from_json(body.kind(), &body.to_json(), "body").unwrap();
}

#[test]
fn cash_held_is_refused_rather_than_left_out() {
    let held = [
        (security("DE0005557508"), holding(1, 0)),
        (Asset::parse("EUR").unwrap(), holding(0, 500)),
    ];
    match statement(&held) {
        Err(StatementError::CashHeld { currencies, .. }) => assert_eq!(currencies, "EUR"),
        other => panic!("expected CashHeld, got {other:?}"),
    }
    // An emptied cash balance is no cash held.
    let emptied = [(Asset::parse("EUR").unwrap(), holding(0, 0))];
    assert!(statement(&emptied).unwrap().balances.is_empty());
}

/// The MT535 message written by hand from the format specification (not
/// from the writer): sequence A with its mandatory fields in their order,
/// sequence B once (`:17B::CONS//N`) with one B1 per security.
#[test]
fn mt535_follows_the_format_specification() {
    let held = [
        (security("DE0005557508"), holding(1_500_000, 0)),
        (security("AU000000BHP4"), holding(250_500_000, 100_000_000)),
    ];
    let written = mt::from_ism(&Body::HoldingsStatement(statement(&held).unwrap())).unwrap();
    let text = String::from_utf8(written.value.clone()).unwrap();
    assert!(text.starts_with("{1:F01"), "blocks 1, 2 and 4: {text}");
    assert!(text.contains("{2:I535"), "an input MT535: {text}");
    let expected = [
        ":16R:GENL",
        ":28E:1/ONLY",
        ":20C::SEME//HLD0123456789ABC",
        ":23G:NEWM",
        ":98E::STAT//20261202143005,250/0000",
        ":22F::SFRE//ADHO",
        ":22F::CODE//COMP",
        ":22F::STTY//CUST",
        ":22F::STBA//SETT",
        ":97A::SAFE//SAFE-SELLER-01",
        ":17B::ACTI//Y",
        ":17B::CONS//N",
        ":16S:GENL",
        ":16R:SUBSAFE",
        ":16R:FIN",
        ":35B:ISIN AU000000BHP4",
        ":93B::AGGR//UNIT/350,5",
        ":93B::AVAI//UNIT/250,5",
        ":93B::NAVL//UNIT/100,",
        ":16S:FIN",
        ":16R:FIN",
        ":35B:ISIN DE0005557508",
        ":93B::AGGR//UNIT/1,5",
        ":16S:FIN",
        ":16S:SUBSAFE",
    ];
    assert_eq!(text_lines(&written.value), expected);
    let fields: Vec<&str> = written
        .unrepresented
        .iter()
        .map(|u| u.field.as_str())
        .collect();
    assert_eq!(fields, ["body.market", "body.account.owner"]);
    // The same statement through the dialect a gateway hosts.
    let through_dialect = Dialect::Mt
        .outbound(&Body::HoldingsStatement(statement(&held).unwrap()))
        .unwrap();
    assert_eq!(through_dialect.value, written.value);
}

#[test]
fn an_empty_statement_says_no_activity_and_has_no_sequence_b() {
    let written = mt::from_ism(&Body::HoldingsStatement(statement(&[]).unwrap())).unwrap();
    let lines = text_lines(&written.value);
    assert!(lines.contains(&":17B::ACTI//N".to_string()), "{lines:?}");
    assert!(
        !lines.iter().any(|l| l.starts_with(":16R:SUBSAFE")),
        "{lines:?}"
    );
    assert_eq!(lines.last().map(String::as_str), Some(":16S:GENL"));
}

#[test]
fn a_statement_id_longer_than_16x_is_refused_not_cut() {
    let mut long = statement(&[]).unwrap();
    long.statement_id = Reference::parse("HOLDINGS-2026-12-02-0001").unwrap();
    let error = mt::from_ism(&Body::HoldingsStatement(long)).unwrap_err();
    assert_eq!(error.code, TranslateCode::NotRepresentable);
    assert_eq!(error.field.as_deref(), Some("body.statement_id"));
}

#[test]
fn semt002_reads_back_as_the_same_statement() {
    let held = [
        (security("DE0005557508"), holding(1_500_000, 0)),
        (security("AU000000BHP4"), holding(250_500_000, 100_000_000)),
    ];
    let body = Body::HoldingsStatement(statement(&held).unwrap());
    let xml = iso20022::from_ism(&body).unwrap().value;
    assert!(String::from_utf8_lossy(&xml).contains("semt.002"));
    assert_eq!(iso20022::to_ism(&xml).unwrap().value, body);
}

proptest! {
    /// Whatever the ledger holds, the MT535 balances add up: AVAI + NAVL =
    /// AGGR for each security, NAVL only where something is locked, and the
    /// aggregate is what the ledger holds.
    #[test]
    fn mt535_balances_add_up(
        rows in proptest::collection::vec((0u64..10_000_000_000, 0u64..10_000_000_000), 1..6)
    ) {
        let isins = ["AU000000BHP4", "DE0005557508", "GB0002634946", "US0378331005", "US5949181045", "JP3633400001"];
        let held: Vec<(Asset, Holding)> = rows
            .iter()
            .zip(isins)
            .map(|((available, locked), isin)| (security(isin), holding(*available, *locked)))
            .collect();
        let written = mt::from_ism(&Body::HoldingsStatement(statement(&held).unwrap())).unwrap();
        let lines = text_lines(&written.value);
        // Millionths of a unit, from an MT decimal.
        let units = |text: &str| -> u128 {
            let (integer, fraction) = text.split_once(',').unwrap();
            let fraction = format!("{fraction:0<6}");
            integer.parse::<u128>().unwrap() * 1_000_000 + fraction.parse::<u128>().unwrap()
        };
        let mut seen = 0;
        for block in lines.split(|l| l == ":16R:FIN").skip(1) {
            let value = |qualifier: &str| {
                block
                    .iter()
                    .find_map(|l| l.strip_prefix(&format!(":93B::{qualifier}//UNIT/")))
                    .map(units)
            };
            let isin = block[0].strip_prefix(":35B:ISIN ").unwrap();
            let (_, h) = held.iter().find(|(a, _)| a.to_string() == isin).unwrap();
            prop_assert_eq!(value("AGGR"), Some(u128::from(h.available) + u128::from(h.locked)));
            if h.locked > 0 {
                prop_assert_eq!(value("NAVL"), Some(u128::from(h.locked)));
                prop_assert_eq!(value("AVAI"), Some(u128::from(h.available)));
            } else {
                prop_assert_eq!(value("NAVL"), None);
            }
            seen += 1;
        }
        prop_assert_eq!(seen, held.iter().filter(|(_, h)| h.available + h.locked > 0).count());
    }
}

//! The same business message reads the same in both dialects, and every
//! instruction of either corpus travels through the other dialect and back
//! with its cash side and parties intact (issue 7; ISM-1 §6.1, Appendix A).
//!
//! - `the_same_instruction_reads_the_same_in_both_dialects`: ISO 20022 corpus
//!   46–48 are hand-written twins of MT corpus 30, 31 and 42, and 70–72 were
//!   written in each dialect from one description; each pair reads to one body,
//!   derives the same members (each from its own dialect's routing) and leaves
//!   out as many.
//! - `every_corpus_instruction_crosses_to_the_other_dialect_and_back`: native →
//!   ISM/1 → the other dialect → ISM/1 → the first dialect → ISM/1, for every
//!   valid instruction and confirmation of both corpora; what a writer reports
//!   as not carried is the only difference allowed.
//! - `a_pair_instructed_in_two_dialects_gives_both_legs`: a seller's MT543 and
//!   a buyer's sese.023, each completed by its own gateway, determine both legs.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod dialect_support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use isthmus_adapters::{Dialect, InboundContext, TranslateCode, Translation};
use isthmus_spec::body::{CashSide, Leg};
use isthmus_spec::ident::{Mic, PartyId};
use isthmus_spec::ids::Reference;
use isthmus_spec::legs::settlement_legs;
use isthmus_spec::{Body, Kind};

fn data(dialect: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(dialect)
}

/// The one corpus file of `dialect` whose name starts with `number-` and ends with `extension`.
fn corpus_file(dialect: &str, number: &str, extension: &str) -> PathBuf {
    let mut found: Vec<PathBuf> = fs::read_dir(data(dialect))
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            name.starts_with(&format!("{number}-")) && name.ends_with(extension)
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{dialect} corpus {number}{extension}: {found:?}"
    );
    found.remove(0)
}

fn read(dialect: Dialect, path: &Path) -> Translation<Body> {
    dialect
        .inbound(&fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn derived_fields(translation: &Translation<Body>) -> BTreeSet<String> {
    translation
        .derived
        .iter()
        .map(|d| d.field.clone())
        .collect()
}

#[test]
fn the_same_instruction_reads_the_same_in_both_dialects() {
    // 70–72 are written in both dialects from one description (a cash
    // servicer with its own account, a trade date with a time of day, a free
    // delivery carrying a cash market), by two people who did not see each
    // other's files.
    for (mt, iso) in [
        ("30", "46"),
        ("31", "47"),
        ("42", "48"),
        ("70", "70"),
        ("71", "71"),
        ("72", "72"),
    ] {
        let from_mt = read(Dialect::Mt, &corpus_file("mt", mt, ".fin"));
        let from_iso = read(Dialect::Iso20022, &corpus_file("iso20022", iso, ".xml"));
        assert_eq!(
            from_mt.value.to_json(),
            from_iso.value.to_json(),
            "MT {mt} and ISO 20022 {iso} are one business message"
        );
        assert!(
            !from_mt.derived.is_empty(),
            "MT {mt} leaves its own side implied"
        );
        assert_eq!(
            derived_fields(&from_mt),
            derived_fields(&from_iso),
            "MT {mt} and ISO 20022 {iso} derive the same members"
        );
        // The twins of 30 and 42 leave out the MT fields ISO 20022 has no
        // counterpart for in this corpus (a deal price, a preparation date);
        // 70–72 describe the same content in both.
        assert!(
            mt != iso || from_mt.unrepresented.len() == from_iso.unrepresented.len(),
            "MT {mt} and ISO 20022 {iso} leave out as much: {:?} / {:?}",
            from_mt.unrepresented,
            from_iso.unrepresented
        );
        // Each derives from its own routing: block 1/2 against the AppHdr.
        for (translation, marker) in [(&from_mt, "{"), (&from_iso, "/AppHdr/")] {
            assert!(
                translation
                    .derived
                    .iter()
                    .all(|d| d.source.contains(marker)),
                "{:?}",
                translation.derived
            );
        }
    }
}

/// ISM/1 → `dialect` → ISM/1: the body comes back as it went, except for what
/// the writer reports as not carried; reading our own output derives nothing.
fn through(dialect: Dialect, body: &Body, what: &str) -> Body {
    let written = dialect
        .outbound(body)
        .unwrap_or_else(|e| panic!("{what}: writing {dialect:?}: {e}"));
    let lost: Vec<&str> = written
        .unrepresented
        .iter()
        .map(|u| u.field.as_str())
        .collect();
    let back = dialect
        .inbound(&written.value)
        .unwrap_or_else(|e| panic!("{what}: reading our own {dialect:?}: {e}"));
    assert!(back.derived.is_empty(), "{what}: {:?}", back.derived);
    assert_eq!(
        back.value.to_json(),
        dialect_support::without_reported(&body.to_json(), &written.unrepresented),
        "{what}: through {dialect:?}, apart from {lost:?}"
    );
    back.value
}

/// Whether the body has a reference MT54x's `:20C:` (16x) cannot hold.
fn reference_too_long_for_mt(body: &Body) -> bool {
    let json = body.to_json();
    ["instruction_id", "common_reference"].iter().any(|member| {
        json[*member]
            .as_str()
            .is_some_and(|text| text.chars().count() > 16)
    })
}

#[test]
fn every_corpus_instruction_crosses_to_the_other_dialect_and_back() {
    let mut crossed = 0;
    let mut with_cash = 0;
    let mut with_proprietary_party = 0;
    let mut skipped = 0;
    for (dialect, other, extension) in [
        ("mt", Dialect::Iso20022, ".fin"),
        ("iso20022", Dialect::Mt, ".xml"),
    ] {
        let own = if dialect == "mt" {
            Dialect::Mt
        } else {
            Dialect::Iso20022
        };
        for path in dialect_support::files(&data(dialect), extension) {
            let first = read(own, &path);
            if !matches!(
                first.value.kind(),
                Kind::SettlementInstruction | Kind::SettlementConfirmation
            ) {
                continue;
            }
            let what = path.file_name().unwrap().to_string_lossy().to_string();
            let json = first.value.to_json().to_string();
            with_cash += usize::from(json.contains("\"cash\""));
            with_proprietary_party += usize::from(json.contains("\"proprietary_id\""));
            if other == Dialect::Mt && reference_too_long_for_mt(&first.value) {
                // MT's :20C: holds 16 characters and a longer reference is
                // refused rather than cut (ISM-1 Appendix A); the older corpus
                // uses ISM/1's 35. The refusal itself is pinned in tests/mt.rs.
                let refused = Dialect::Mt.outbound(&first.value).err();
                assert_eq!(
                    refused.map(|e| e.code),
                    Some(TranslateCode::NotRepresentable),
                    "{what}"
                );
                skipped += 1;
                continue;
            }
            let there = through(other, &first.value, &what);
            through(own, &there, &what);
            crossed += 1;
        }
    }
    eprintln!("{crossed} crossed ({with_cash} with a cash side, {with_proprietary_party} with a proprietary party), {skipped} refused by MT for a long reference");
    assert!(
        crossed >= 50,
        "{crossed} corpus messages crossed ({skipped} with references MT cannot hold)"
    );
    assert!(with_cash >= 15, "{with_cash} of them with a cash side");
    assert!(
        with_proprietary_party >= 15,
        "{with_proprietary_party} of them with a proprietary party"
    );
}

#[test]
fn a_pair_instructed_in_two_dialects_gives_both_legs() {
    // Trade A: the seller instructs in MT543 at its XNYS gateway, the buyer in
    // sese.023 at its XNAS gateway (cash on the buyer's market, in USD).
    let participant = |id: &str| PartyId::parse(id).ok();
    let seller_context = InboundContext {
        participant: participant("IMGRUS33"),
        market: Mic::parse("XNYS").ok(),
        ..InboundContext::default()
    };
    let buyer_context = InboundContext {
        participant: participant("IMBYUS33"),
        market: Mic::parse("XNAS").ok(),
        cash: Some(CashSide {
            market: None,
            account: None,
            owner: participant("5493001KJTIIGC8Y1R12"),
            servicer: None,
        }),
        ..InboundContext::default()
    };
    let seller = Dialect::Mt
        .inbound_with(
            &fs::read(corpus_file("mt", "30", ".fin")).unwrap(),
            &seller_context,
        )
        .unwrap();
    let buyer = Dialect::Iso20022
        .inbound_with(
            &fs::read(corpus_file("iso20022", "47", ".xml")).unwrap(),
            &buyer_context,
        )
        .unwrap();
    let (Body::SettlementInstruction(deliver), Body::SettlementInstruction(receive)) =
        (&seller.value, &buyer.value)
    else {
        panic!("two instructions");
    };
    let legs = settlement_legs(deliver, receive).unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(legs.securities.leg, Leg::Securities);
    assert_eq!(legs.securities.market.as_str(), "XNYS");
    assert_eq!(legs.securities.from.owner.as_str(), "IMGRUS33");
    assert_eq!(legs.securities.from.account.as_str(), "IM-US-EQ-0007");
    assert_eq!(legs.securities.to.owner.as_str(), "IMBYUS33");
    assert_eq!(legs.securities.to.account.as_str(), "BNY-IMBY-221");
    let (cash, amount) = legs.cash.unwrap();
    assert_eq!(cash.market.as_str(), "XNAS");
    assert_eq!(cash.from.owner.as_str(), "5493001KJTIIGC8Y1R12");
    assert_eq!(cash.from.account, Reference::parse("BNY-USD-221").unwrap());
    assert_eq!(cash.to.owner.as_str(), "IMGRUS33");
    assert_eq!(cash.to.account.as_str(), "USD-0071-4410");
    assert_eq!(amount.amount.as_str(), "2061750.00");
    // Everything the gateways supplied is reported as such.
    for (translation, fields) in [
        (
            &seller,
            &["body.account_owner", "body.securities_market"][..],
        ),
        (
            &buyer,
            &["body.account_owner", "body.cash.market", "body.cash.owner"][..],
        ),
    ] {
        for field in fields {
            assert!(
                translation
                    .derived
                    .iter()
                    .any(|d| d.field == *field && d.source == "gateway"),
                "{field}: {:?}",
                translation.derived
            );
        }
    }
}

#[test]
fn a_date_only_settlement_reads_the_same_in_both_dialects() {
    // MT corpus 15 gives only `:98A::ESET//`; the same confirmation in
    // ISO 20022 gives only `FctvSttlmDt/Dt/Dt`. Both read midnight UTC of
    // that date and report the instant as derived.
    let from_mt = read(Dialect::Mt, &corpus_file("mt", "15", ".fin"));
    let written = Dialect::Iso20022.outbound(&from_mt.value).unwrap();
    let xml = String::from_utf8(written.value).unwrap();
    let instant = "<DtTm>2026-12-02T00:00:00Z</DtTm>";
    assert!(xml.contains(instant), "{xml}");
    let date_only = xml.replace(instant, "<Dt>2026-12-02</Dt>");
    let from_iso = Dialect::Iso20022.inbound(date_only.as_bytes()).unwrap();
    assert_eq!(from_mt.value.to_json(), from_iso.value.to_json());
    for translation in [&from_mt, &from_iso] {
        assert_eq!(
            derived_fields(translation),
            BTreeSet::from(["body.settled_at".to_string()])
        );
    }
}

//! The MT54x dialect against instructions as market participants write them
//! (issue 7): the implied own side derived from the routing and reported,
//! the cash side, parties by proprietary code, the ISM/1 vectors with the new
//! members through MT and back, a gateway completing a translation with what
//! it knows, and the relay's question — which accounts and which ledgers do
//! both legs use? — answered from two matched MT instructions alone.

// A failed expectation in a test is a failed test: panicking is how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod dialect_support;

use std::fs;
use std::path::{Path, PathBuf};

use isthmus_adapters::context::GATEWAY_SOURCE;
use isthmus_adapters::{mt, Dialect, InboundContext, TranslateCode, Translation};
use isthmus_spec::body::{CashSide, Leg, Party, SettlementInstruction};
use isthmus_spec::ident::{Bic, Mic, PartyId};
use isthmus_spec::ids::Reference;
use isthmus_spec::legs::settlement_legs;
use isthmus_spec::{Body, Kind, ReasonCode};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

fn corpus(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/mt")
        .join(format!("{name}.fin"));
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors/valid")
}

fn instruction(translation: &Translation<Body>) -> &SettlementInstruction {
    match &translation.value {
        Body::SettlementInstruction(instruction) => instruction,
        other => panic!("not an instruction: {other:?}"),
    }
}

fn derived(translation: &Translation<Body>) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = translation
        .derived
        .iter()
        .map(|d| (d.field.clone(), d.source.clone()))
        .collect();
    found.sort();
    found
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// A corpus message with one line replaced by others (CR LF messages).
fn edited(name: &str, old: &str, new: &[&str]) -> Vec<u8> {
    edited_lines(name, &[(old, new)])
}

// --- ISM-1 §6.1 duty 8: what the routing implies, reported as derived ------

#[test]
fn implied_owner_and_own_agent_come_from_the_routing_and_are_reported() {
    // Sent by the account owner to its custodian: the sender owns the
    // account, the receiver is the own agent at the place of settlement.
    let read = mt::to_ism(&corpus(
        "30-mt543-us-dtc-deliver-against-usd-implied-own-side",
    ))
    .unwrap();
    let body = instruction(&read);
    assert_eq!(
        body.account_owner.as_ref().map(PartyId::as_str),
        Some("IMGRUS33")
    );
    assert_eq!(
        body.delivering_agent
            .as_ref()
            .and_then(|p| p.bic.as_ref())
            .map(Bic::as_str),
        Some("CHASUS33")
    );
    assert_eq!(
        derived(&read),
        pairs(&[
            ("body.account_owner", "{1:} sender"),
            ("body.delivering_agent", "{2:} receiver"),
        ])
    );
    assert!(read.derived.iter().all(|d| !d.reason.is_empty()));

    // Sent straight to the place of settlement: the sender is a direct
    // participant and its own agent.
    let direct = mt::to_ism(&corpus(
        "34-mt541-be-euroclear-bank-receive-against-usd-direct-participant",
    ))
    .unwrap();
    assert_eq!(
        instruction(&direct)
            .receiving_agent
            .as_ref()
            .and_then(|p| p.bic.as_ref())
            .map(Bic::as_str),
        Some("BBRUBEBB")
    );
    assert!(derived(&direct).contains(&("body.receiving_agent".into(), "{1:} sender".into())));

    // An output message: the sender is in block 2, the receiver in block 1.
    let output = mt::to_ism(&corpus("43-mt540-us-dtc-receive-free-output-header")).unwrap();
    assert_eq!(
        derived(&output),
        pairs(&[
            ("body.account_owner", "{2:} sender"),
            ("body.receiving_agent", "{1:} receiver"),
        ])
    );
}

#[test]
fn what_the_message_states_is_never_replaced_by_a_derivation() {
    // An own agent in a form ISM/1 cannot carry is reported, not replaced by the receiver.
    let named = edited(
        "30-mt543-us-dtc-deliver-against-usd-implied-own-side",
        ":95R::REAG/DTCYID/0901",
        &[
            ":95R::REAG/DTCYID/0901",
            ":16S:SETPRTY",
            ":16R:SETPRTY",
            ":95Q::DEAG//JPMORGAN CHASE BANK NA",
        ],
    );
    let read = mt::to_ism(&named).unwrap();
    assert_eq!(instruction(&read).delivering_agent, None);
    assert_eq!(
        derived(&read),
        pairs(&[("body.account_owner", "{1:} sender")])
    );
    assert!(read
        .unrepresented
        .iter()
        .any(|u| u.field == "E/SETDET/E1/SETPRTY/:95Q::DEAG//"));

    // An owner by proprietary code likewise: reported, and the sender is not taken instead.
    let coded = edited(
        "30-mt543-us-dtc-deliver-against-usd-implied-own-side",
        ":97A::SAFE//IM-US-EQ-0007",
        &[":95R::ACOW/DTCYID/7777", ":97A::SAFE//IM-US-EQ-0007"],
    );
    let read = mt::to_ism(&coded).unwrap();
    assert_eq!(instruction(&read).account_owner, None);
    assert_eq!(
        derived(&read),
        pairs(&[("body.delivering_agent", "{2:} receiver")])
    );

    // An owner stated by BIC is read, not derived.
    let stated = edited(
        "30-mt543-us-dtc-deliver-against-usd-implied-own-side",
        ":97A::SAFE//IM-US-EQ-0007",
        &[":95P::ACOW//IMGRUS33", ":97A::SAFE//IM-US-EQ-0007"],
    );
    let read = mt::to_ism(&stated).unwrap();
    assert_eq!(
        derived(&read),
        pairs(&[("body.delivering_agent", "{2:} receiver")])
    );
}

#[test]
fn placeholder_addresses_imply_nothing() {
    let placeholders = edited(
        "31-mt541-us-dtc-receive-against-usd-implied-own-side",
        "{1:F01IMBYUS33AXXX0000000000}{2:I541IRVTUS3NXXXXN}{4:",
        &[&format!(
            "{{1:F01{}0000000000}}{{2:I541{}N}}{{4:",
            mt::INSTRUCTION_SENDER_ADDRESS,
            mt::INSTRUCTION_RECEIVER_ADDRESS
        )],
    );
    let read = mt::to_ism(&placeholders).unwrap();
    let body = instruction(&read);
    assert_eq!(body.account_owner, None);
    assert_eq!(body.receiving_agent, None);
    assert!(read.derived.is_empty(), "{:?}", read.derived);
}

#[test]
fn the_counterparty_agent_is_required_with_a_sentence() {
    let error = mt::to_ism(&edited(
        "30-mt543-us-dtc-deliver-against-usd-implied-own-side",
        ":95R::REAG/DTCYID/0901",
        &[":95P::SELL//IMGRUS33"],
    ))
    .unwrap_err();
    assert_eq!(
        error.code,
        TranslateCode::Ism(ReasonCode::CounterpartyRequired)
    );
    assert_eq!(
        error.field.as_deref(),
        Some("E/SETDET/E1/SETPRTY/:95a::REAG//")
    );
    assert!(error.message.contains("receiving agent"), "{error}");
}

// --- the cash side (ISM-1 §6.0.9) ------------------------------------------

#[test]
fn the_own_cash_side_is_read_and_the_counterpartys_reported() {
    let read = mt::to_ism(&corpus(
        "37-mt543-de-clearstream-frankfurt-deliver-against-eur-cash-parties",
    ))
    .unwrap();
    let cash = instruction(&read).cash.clone().unwrap();
    // The account in the servicer's (ACCW) sequence is the servicer's own
    // account, not the instructing party's cash account (D2).
    assert_eq!(cash.account, None);
    assert_eq!(cash.owner.as_ref().map(PartyId::as_str), Some("IMGRDEFF"));
    let servicer = cash.servicer.as_ref().unwrap();
    assert_eq!(servicer.bic.as_ref().map(Bic::as_str), Some("DEUTDEFF"));
    assert_eq!(
        servicer.safekeeping_account.as_ref().map(Reference::as_str),
        Some("DE89370400440532013000")
    );
    assert!(read.unrepresented.iter().any(
        |u| u.field == "E/SETDET/E2/CSHPRTY/:95P::PAYE//" && u.reason.contains("counterparty")
    ));

    // A receipt pays: its side is DEBT and PAYE; an intermediary is reported.
    let read = mt::to_ism(&corpus(
        "40-mt541-au-chess-receive-against-aud-cash-parties",
    ))
    .unwrap();
    let cash = instruction(&read).cash.clone().unwrap();
    assert_eq!(
        cash.owner.as_ref().map(PartyId::as_str),
        Some("549300ISTHMUSAUBYR90")
    );
    // PAYE's account is the paying institution's own, as ACCW's is (D2).
    assert_eq!(cash.account, None);
    assert_eq!(
        cash.servicer
            .as_ref()
            .and_then(|p| p.safekeeping_account.as_ref())
            .map(Reference::as_str),
        Some("AUD-CASH-BUYER-3")
    );

    // In a free message the same fields are read, left out and reported.
    let read = mt::to_ism(&corpus("41-mt540-ch-six-receive-free-implied-own-side")).unwrap();
    assert_eq!(instruction(&read).cash, None);
    let note = read
        .unrepresented
        .iter()
        .find(|u| u.field == "C/FIAC/:97A::CASH//")
        .unwrap();
    assert!(note.reason.contains("FREE_OF_PAYMENT"), "{note:?}");
}

// --- ISM/1 → MT → ISM/1 for the vectors with the new members ---------------

#[test]
fn spec_vectors_19_to_21_survive_ism_to_mt_to_ism() {
    let expected_losses: &[(&str, &[&str])] = &[
        // The servicer's own account travels as :97A::CASH// in its E2
        // sequence (D2); an owner known by LEI alone still has no MT field.
        ("19-instruction-with-cash-side", &["body.cash.owner"]),
        (
            "20-instruction-receive-with-implied-parties",
            &["body.delivering_agent.proprietary_id.scheme"],
        ),
        ("21-instruction-deliver-free-minimal", &[]),
    ];
    for (name, losses) in expected_losses {
        let vector: Value =
            serde_json::from_slice(&fs::read(vectors_dir().join(format!("{name}.json"))).unwrap())
                .unwrap();
        let mut value = vector["input"]["body"].clone();
        if let Some(common) = value["common_reference"].as_str() {
            // Vector 19's common reference has 21 characters; MT's :20C::COMM//
            // holds 16, so MT refuses it whole (ISM-1 Appendix A) …
            let body = Body::from_json(Kind::SettlementInstruction, &value, "body").unwrap();
            if common.chars().count() > 16 {
                let refused = mt::from_ism(&body).unwrap_err();
                assert_eq!(
                    (refused.code, refused.field.as_deref()),
                    (
                        TranslateCode::NotRepresentable,
                        Some("body.common_reference")
                    ),
                    "{name}"
                );
                // … and everything else travels once it fits.
                value["common_reference"] = json!("TRADE-7781");
            }
        }
        let body = Body::from_json(Kind::SettlementInstruction, &value, "body").unwrap();
        let written = mt::from_ism(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let lost: Vec<&str> = written
            .unrepresented
            .iter()
            .map(|u| u.field.as_str())
            .collect();
        assert_eq!(&lost, losses, "{name}");
        let read = mt::to_ism(&written.value).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            read.value.to_json(),
            dialect_support::without_reported(&body.to_json(), &written.unrepresented),
            "{name}: {}",
            String::from_utf8_lossy(&written.value)
        );
        assert!(
            read.unrepresented.is_empty(),
            "{name}: {:?}",
            read.unrepresented
        );
        assert!(read.derived.is_empty(), "{name}: {:?}", read.derived);
        assert_eq!(
            mt::from_ism(&read.value).unwrap().value,
            written.value,
            "{name}"
        );
    }
}

#[test]
fn writer_addresses_imply_nothing_the_instruction_does_not_say() {
    let base = expected_body("30-mt543-us-dtc-deliver-against-usd-implied-own-side");
    let header = |value: &Value| {
        let body = Body::from_json(Kind::SettlementInstruction, value, "body").unwrap();
        let bytes = mt::from_ism(&body).unwrap().value;
        let text = String::from_utf8(bytes.clone()).unwrap();
        let read = mt::to_ism(&bytes).unwrap();
        assert!(read.derived.is_empty(), "{:?}", read.derived);
        assert_eq!(read.value.to_json(), *value);
        text.split("{4:").next().unwrap().to_string()
    };
    // Owner and own agent stated: from the owner to the place of settlement.
    assert_eq!(
        header(&base),
        "{1:F01IMGRUS33AXXX0000000000}{2:I543DTCYUS33XXXXN}"
    );
    // No owner: the participant placeholder sends.
    let mut no_owner = base.clone();
    no_owner.as_object_mut().unwrap().remove("account_owner");
    assert_eq!(
        header(&no_owner),
        "{1:F01ISMPXXXXAXXX0000000000}{2:I543DTCYUS33XXXXN}"
    );
    // An owner but no own agent: it goes to the gateway placeholder, since
    // neither the sender nor the place of settlement is its agent.
    let mut no_agent = base.clone();
    no_agent.as_object_mut().unwrap().remove("delivering_agent");
    assert_eq!(
        header(&no_agent),
        "{1:F01IMGRUS33AXXX0000000000}{2:I543ISMGXXXXXXXXN}"
    );
}

#[test]
fn proprietary_ids_mt_cannot_hold_are_refused_or_reported() {
    let mut body = expected_body("30-mt543-us-dtc-deliver-against-usd-implied-own-side");
    body["receiving_agent"] =
        json!({"proprietary_id": {"id": "0901", "issuer": "DTC PARTICIPANTS"}});
    let refused =
        mt::from_ism(&Body::from_json(Kind::SettlementInstruction, &body, "body").unwrap())
            .unwrap_err();
    assert_eq!(
        (refused.code, refused.field.as_deref()),
        (
            TranslateCode::NotRepresentable,
            Some("body.receiving_agent.proprietary_id.issuer")
        )
    );
    // The same party as the optional buyer is left out and reported.
    body["receiving_agent"] = json!({"bic": "IRVTUS3N"});
    body["buyer"] = json!({"proprietary_id": {"id": "A".repeat(35), "issuer": "DTCYID"}});
    let written =
        mt::from_ism(&Body::from_json(Kind::SettlementInstruction, &body, "body").unwrap())
            .unwrap();
    let lost: Vec<&str> = written
        .unrepresented
        .iter()
        .map(|u| u.field.as_str())
        .collect();
    assert_eq!(lost, ["body.buyer"]);
}

fn expected_body(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/mt")
        .join(format!("{name}.ism.json"));
    let value: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    value["body"].clone()
}

// --- a gateway completes; the relay builds both legs (ISM-1 §6.1 duty 7) ---

fn mic(text: &str) -> Option<Mic> {
    Mic::parse(text).ok()
}

#[test]
fn an_against_payment_pair_read_from_mt_gives_both_legs() {
    // The seller's gateway (US equities) knows its market; the buyer's gateway
    // knows the participant it authenticated and its market, where the buyer's cash is.
    let seller = Dialect::Mt
        .inbound_with(
            &corpus("30-mt543-us-dtc-deliver-against-usd-implied-own-side"),
            &InboundContext {
                market: mic("XNAS"),
                ..InboundContext::default()
            },
        )
        .unwrap();
    let buyer = Dialect::Mt
        .inbound_with(
            &corpus("31-mt541-us-dtc-receive-against-usd-implied-own-side"),
            &InboundContext {
                participant: PartyId::parse("549300ISTHMUSBUYR064").ok(),
                market: mic("XNYS"),
                ..InboundContext::default()
            },
        )
        .unwrap();
    // The authenticated participant replaces the owner derived from the
    // routing; the own agent guessed from it is not forwarded.
    assert_eq!(
        derived(&buyer),
        pairs(&[
            ("body.account_owner", GATEWAY_SOURCE),
            ("body.cash.market", GATEWAY_SOURCE),
        ])
    );
    assert_eq!(instruction(&buyer).receiving_agent, None);
    assert!(derived(&seller).contains(&("body.securities_market".into(), GATEWAY_SOURCE.into())));

    let legs = settlement_legs(instruction(&seller), instruction(&buyer)).unwrap();
    assert_eq!(legs.securities.leg, Leg::Securities);
    assert_eq!(legs.securities.market.as_str(), "XNAS");
    assert_eq!(legs.securities.from.owner.as_str(), "IMGRUS33");
    assert_eq!(legs.securities.from.account.as_str(), "IM-US-EQ-0007");
    assert_eq!(legs.securities.to.owner.as_str(), "549300ISTHMUSBUYR064");
    assert_eq!(legs.securities.to.account.as_str(), "BNY-IMBY-221");
    let (cash, amount) = legs.cash.unwrap();
    assert_eq!(cash.leg, Leg::Cash);
    assert_eq!(cash.market.as_str(), "XNYS");
    assert_eq!(cash.from.owner.as_str(), "549300ISTHMUSBUYR064");
    assert_eq!(cash.from.account.as_str(), "BNY-USD-221");
    assert_eq!(cash.to.owner.as_str(), "IMGRUS33");
    assert_eq!(cash.to.account.as_str(), "USD-0071-4410");
    assert_eq!(
        (amount.amount.as_str(), amount.currency.as_str()),
        ("2061750.00", "USD")
    );

    // Without what the gateways know, the relay names what is missing.
    let bare_seller = mt::to_ism(&corpus(
        "30-mt543-us-dtc-deliver-against-usd-implied-own-side",
    ))
    .unwrap();
    let bare_buyer = mt::to_ism(&corpus(
        "31-mt541-us-dtc-receive-against-usd-implied-own-side",
    ))
    .unwrap();
    let refused = settlement_legs(instruction(&bare_seller), instruction(&bare_buyer)).unwrap_err();
    assert_eq!(refused.code, ReasonCode::InstructionIncomplete);
    assert_eq!(refused.field.as_deref(), Some("deliver.securities_market"));
}

#[test]
fn a_free_of_payment_pair_read_from_mt_gives_the_securities_leg_only() {
    let seller = Dialect::Mt
        .inbound_with(
            &corpus("42-mt542-ch-six-deliver-free-direct-participant-lei"),
            &InboundContext {
                market: mic("XSWX"),
                ..InboundContext::default()
            },
        )
        .unwrap();
    let buyer = Dialect::Mt
        .inbound_with(
            &corpus("41-mt540-ch-six-receive-free-implied-own-side"),
            &InboundContext::default(),
        )
        .unwrap();
    let legs = settlement_legs(instruction(&seller), instruction(&buyer)).unwrap();
    assert_eq!(legs.securities.market.as_str(), "XSWX");
    assert_eq!(legs.securities.from.owner.as_str(), "BFM8T61CT2L1QCEMIK50");
    assert_eq!(legs.securities.from.account.as_str(), "SIS-1234");
    assert_eq!(legs.securities.to.owner.as_str(), "IMBYCHZZ");
    assert_eq!(legs.securities.to.account.as_str(), "CS-IMBY-7781");
    assert!(legs.cash.is_none());
    // Each side names the counterparty's agent; the own agents, only derived
    // from the routing, are not forwarded (ISM-1 §6.1 duty 8), so a relay
    // compares only what the participants stated.
    let (d, r) = (instruction(&seller), instruction(&buyer));
    assert_eq!(d.delivering_agent, None);
    assert_eq!(r.receiving_agent, None);
    assert!(r.delivering_agent.is_some() && d.receiving_agent.is_some());
    for (translation, guessed) in [
        (&seller, "body.delivering_agent"),
        (&buyer, "body.receiving_agent"),
    ] {
        assert!(
            translation.unrepresented.iter().any(|u| u.field == guessed),
            "{guessed}: {:?}",
            translation.unrepresented
        );
    }
}

#[test]
fn a_gateway_fills_the_cash_side_from_static_data() {
    let context = InboundContext {
        participant: None,
        market: mic("XTKS"),
        settlement_agent: Bic::parse("MHCBJPJT").ok().map(Party::by_bic),
        cash: Some(CashSide {
            market: None,
            account: None,
            owner: None,
            servicer: Bic::parse("BOTKJPJT").ok().map(Party::by_bic),
        }),
    };
    let read = Dialect::Mt
        .inbound_with(
            &corpus("38-mt541-jp-jasdec-receive-against-jpy-participant-code"),
            &context,
        )
        .unwrap();
    let body = instruction(&read);
    let cash = body.cash.clone().unwrap();
    // The message's own cash account stays; the gateway adds what it knows.
    assert_eq!(
        cash.account.as_ref().map(Reference::as_str),
        Some("JPY-IMBY-5521")
    );
    assert_eq!(cash.market.as_ref().map(Mic::as_str), Some("XTKS"));
    assert_eq!(
        cash.servicer.and_then(|p| p.bic).map(|b| b.to_string()),
        Some("BOTKJPJT".to_string())
    );
    assert_eq!(
        derived(&read),
        pairs(&[
            ("body.account_owner", "{1:} sender"),
            ("body.cash.market", GATEWAY_SOURCE),
            ("body.cash.servicer", GATEWAY_SOURCE),
            ("body.receiving_agent", GATEWAY_SOURCE),
        ])
    );
}

// --- review fixes (issue 7): the same business message reads alike in MT and ISO 20022

/// A line of a corpus message and the lines that replace it.
type LineEdit<'a> = (&'a str, &'a [&'a str]);

/// A corpus message with several lines replaced, each by others.
fn edited_lines(name: &str, edits: &[LineEdit<'_>]) -> Vec<u8> {
    let text = String::from_utf8(corpus(name)).unwrap();
    dialect_support::with_lines_replaced(&text, name, edits)
}

fn left_out(translation: &Translation<Body>) -> Vec<&str> {
    translation
        .unrepresented
        .iter()
        .map(|u| u.field.as_str())
        .collect()
}

const T70: &str = "70-mt543-fr-euroclear-france-deliver-against-eur-servicer-account";
const T71: &str = "71-mt541-us-dtc-receive-against-usd-trade-date-with-time";
const T72: &str = "72-mt542-ch-six-deliver-free-direct-participant-cash-market";

#[test]
fn cross_member_rules_are_reported_in_their_order_the_counterparty_last() {
    // D1: ISM-1 §6.1 rule 1 (settlement before trade) comes before rule 5
    // (no counterparty agent), as the ISO 20022 reader reports them.
    let both = edited_lines(
        "30-mt543-us-dtc-deliver-against-usd-implied-own-side",
        &[
            (":98A::SETT//20261127", &[":98A::SETT//20261124"]),
            (":95R::REAG/DTCYID/0901", &[":95P::SELL//IMGRUS33"]),
        ],
    );
    let error = mt::to_ism(&both).unwrap_err();
    assert_eq!(
        (error.code, error.field.as_deref()),
        (
            TranslateCode::Ism(ReasonCode::SettlementBeforeTrade),
            Some("B/TRADDET/:98A::SETT//")
        )
    );
    // Rule 2 (no amount against payment) too comes before rule 5.
    let no_amount = edited_lines(
        "30-mt543-us-dtc-deliver-against-usd-implied-own-side",
        &[
            (":19A::SETT//USD2061750,00", &[":19A::OCMT//USD2061750,00"]),
            (":95R::REAG/DTCYID/0901", &[":95P::SELL//IMGRUS33"]),
        ],
    );
    let error = mt::to_ism(&no_amount).unwrap_err();
    assert_eq!(error.code, TranslateCode::Ism(ReasonCode::AmountRequired));
    // Alone, the missing agent is reported at its MT location, in MT terms.
    let alone = edited(
        "31-mt541-us-dtc-receive-against-usd-implied-own-side",
        ":95R::DEAG/DTCYID/0902",
        &[":95P::BUYR//IMBYUS33"],
    );
    let error = mt::to_ism(&alone).unwrap_err();
    assert_eq!(
        (error.code, error.field.as_deref()),
        (
            TranslateCode::Ism(ReasonCode::CounterpartyRequired),
            Some("E/SETDET/E1/SETPRTY/:95a::DEAG//")
        )
    );
    assert!(
        error.message.starts_with("this MT541 receives securities"),
        "{error}"
    );
}

#[test]
fn an_account_in_the_servicers_sequence_is_the_servicers_own() {
    // D2, T70: :97A::CASH// in C is the instructing party's cash account;
    // the one in the ACCW sequence is the servicer's own account.
    let read = mt::to_ism(&corpus(T70)).unwrap();
    let cash = instruction(&read).cash.clone().unwrap();
    assert_eq!(
        cash.account.as_ref().map(Reference::as_str),
        Some("FR7630006000011234567890189")
    );
    assert_eq!(cash.owner.as_ref().map(PartyId::as_str), Some("IMFDFRPP"));
    let servicer = cash.servicer.unwrap();
    assert_eq!(servicer.bic.as_ref().map(Bic::as_str), Some("BNPAFRPP"));
    assert_eq!(
        servicer.safekeeping_account.as_ref().map(Reference::as_str),
        Some("BNP-NOSTRO-EUR-9")
    );
    assert!(read.unrepresented.is_empty(), "{:?}", read.unrepresented);

    // Written back, it goes to the servicer's sequence again.
    let text = String::from_utf8(mt::from_ism(&read.value).unwrap().value).unwrap();
    assert!(
        text.contains(":95P::ACCW//BNPAFRPP\r\n:97A::CASH//BNP-NOSTRO-EUR-9\r\n"),
        "{text}"
    );

    // Without the account in C, the servicer's account is still its own and
    // never becomes the cash account; the owner's (BENM) account would.
    let no_fiac = edited(T70, ":97A::CASH//FR7630006000011234567890189", &[]);
    let read = mt::to_ism(&no_fiac).unwrap();
    let cash = instruction(&read).cash.clone().unwrap();
    assert_eq!(cash.account, None);
    assert_eq!(
        cash.servicer
            .and_then(|s| s.safekeeping_account)
            .map(|a| a.to_string()),
        Some("BNP-NOSTRO-EUR-9".to_string())
    );
    let on_owner = edited_lines(
        T70,
        &[
            (":97A::CASH//FR7630006000011234567890189", &[]),
            (
                ":95P::BENM//IMFDFRPP",
                &[
                    ":95P::BENM//IMFDFRPP",
                    ":97A::CASH//FR7630006000011234567890189",
                ],
            ),
        ],
    );
    let read = mt::to_ism(&on_owner).unwrap();
    assert_eq!(
        instruction(&read)
            .cash
            .as_ref()
            .and_then(|c| c.account.as_ref())
            .map(Reference::as_str),
        Some("FR7630006000011234567890189")
    );

    // A servicer given by name is left out and withheld, and its account
    // is left out with it — never moved to the cash account.
    let by_name = edited_lines(
        T70,
        &[
            (":97A::CASH//FR7630006000011234567890189", &[]),
            (":95P::ACCW//BNPAFRPP", &[":95Q::ACCW//BNP PARIBAS SA"]),
        ],
    );
    let read = mt::to_ism(&by_name).unwrap();
    let cash = instruction(&read).cash.clone().unwrap();
    assert_eq!((cash.account, cash.servicer), (None, None));
    assert_eq!(
        left_out(&read),
        [
            "E/SETDET/E2/CSHPRTY/:95Q::ACCW//",
            "E/SETDET/E2/CSHPRTY/:97A::CASH//"
        ]
    );
    assert_eq!(read.withheld, ["body.cash.servicer"]);
}

#[test]
fn a_free_instructions_cash_market_is_read_left_out_and_listed() {
    // D3, T72: like its other cash details, not refused.
    let read = mt::to_ism(&corpus(T72)).unwrap();
    let body = instruction(&read);
    assert_eq!(body.cash, None);
    assert_eq!(left_out(&read), ["B/TRADDET/:70E::SPRO// /CMKT/"]);
    assert!(
        read.unrepresented[0].reason.contains("FREE_OF_PAYMENT"),
        "{:?}",
        read.unrepresented
    );
    // Beside a securities market, which is read.
    let both = edited_lines(
        T72,
        &[(
            ":70E::SPRO///CMKT/XSWX",
            &[":70E::SPRO///SMKT/XSWX", "/CMKT/XSWX"],
        )],
    );
    let read = mt::to_ism(&both).unwrap();
    assert_eq!(
        instruction(&read)
            .securities_market
            .as_ref()
            .map(Mic::as_str),
        Some("XSWX")
    );
    assert_eq!(left_out(&read), ["B/TRADDET/:70E::SPRO// /CMKT/"]);
}

#[test]
fn trade_and_settlement_dates_with_a_time_keep_the_date_as_written() {
    // D4, T71: the time is left out and listed, never derived.
    let read = mt::to_ism(&corpus(T71)).unwrap();
    assert_eq!(instruction(&read).trade_date.as_str(), "2026-11-25");
    assert_eq!(left_out(&read), ["B/TRADDET/:98C::TRAD//"]);
    assert!(read.derived.iter().all(|d| d.field != "body.trade_date"));
    // A UTC indicator does not shift the calendar date (23:30 five hours
    // west of UTC is the 26th in UTC, but the trade date is the 25th).
    for (trade, settle) in [
        (":98E::TRAD//20261125233000/N05", ":98A::SETT//20261127"),
        (
            ":98E::TRAD//20261125003000,5/0930",
            ":98E::SETT//20261127000000/0100",
        ),
    ] {
        let read = mt::to_ism(&edited_lines(
            T71,
            &[
                (":98C::TRAD//20261125103000", &[trade]),
                (":98A::SETT//20261127", &[settle]),
            ],
        ))
        .unwrap_or_else(|e| panic!("{trade}: {e}"));
        let body = instruction(&read);
        assert_eq!(
            (body.trade_date.as_str(), body.settlement_date.as_str()),
            ("2026-11-25", "2026-11-27"),
            "{trade}"
        );
        assert!(read.derived.iter().all(|d| !d.field.ends_with("_date")));
    }
    // The time is validated fully.
    for (line, code) in [
        (":98C::TRAD//20261125253000", "TIMESTAMP_INVALID"),
        (":98C::TRAD//20261125106000", "TIMESTAMP_INVALID"),
        (":98C::TRAD//20261125103060", "TIMESTAMP_INVALID"),
        (":98C::TRAD//20261125103000/0100", "MT_FIELD_FORMAT"),
        (":98C::TRAD//2026112510300", "MT_FIELD_FORMAT"),
        (":98E::TRAD//20261125103000,1234", "MT_FIELD_FORMAT"),
        (":98E::TRAD//20261125103000/N2500", "MT_FIELD_FORMAT"),
        (":98E::TRAD//20261125103000/0160", "MT_FIELD_FORMAT"),
        (":98E::TRAD//20261125103000/1", "MT_FIELD_FORMAT"),
        (":98E::TRAD//20261125103000/X05", "MT_FIELD_FORMAT"),
    ] {
        let error = mt::to_ism(&edited(T71, ":98C::TRAD//20261125103000", &[line]))
            .err()
            .unwrap_or_else(|| panic!("{line} was accepted"));
        assert_eq!(error.code.as_str(), code, "{line}: {error}");
        assert!(
            error
                .field
                .as_deref()
                .is_some_and(|f| f.starts_with("B/TRADDET/:98")),
            "{line}: {error}"
        );
    }
    // The reviewer's example: :98C: takes no UTC indicator.
    let error = mt::to_ism(&edited(
        T71,
        ":98A::SETT//20261127",
        &[":98C::SETT//20261127130211/0100"],
    ))
    .unwrap_err();
    assert_eq!(
        (error.code, error.field.as_deref()),
        (TranslateCode::MtFieldFormat, Some("B/TRADDET/:98C::SETT//"))
    );
}

#[test]
fn members_stated_in_a_form_ism_cannot_carry_are_withheld() {
    // D5: the member's ISM/1 path is listed in `withheld`, and a gateway
    // does not fill it in from elsewhere.
    let cases: &[(&str, &[LineEdit<'_>], &[&str])] = &[
        (
            // An own agent by name and address, a seller by alternate id.
            "30-mt543-us-dtc-deliver-against-usd-implied-own-side",
            &[(
                ":95R::REAG/DTCYID/0901",
                &[
                    ":95R::REAG/DTCYID/0901",
                    ":16S:SETPRTY",
                    ":16R:SETPRTY",
                    ":95Q::DEAG//JPMORGAN CHASE BANK NA",
                    ":16S:SETPRTY",
                    ":16R:SETPRTY",
                    ":95S::SELL//ALTE/US/123456789",
                ],
            )],
            &["body.delivering_agent", "body.seller"],
        ),
        (
            // An account owner by proprietary code; a buyer by name.
            "30-mt543-us-dtc-deliver-against-usd-implied-own-side",
            &[
                (
                    ":97A::SAFE//IM-US-EQ-0007",
                    &[":95R::ACOW/DTCYID/7777", ":97A::SAFE//IM-US-EQ-0007"],
                ),
                (":95P::BUYR//IMBYUS33", &[":95Q::BUYR//IM BUYER LLC"]),
            ],
            &["body.account_owner", "body.buyer"],
        ),
        (
            // A cash owner by name, a cash servicer by proprietary code is read.
            T70,
            &[
                (":95P::BENM//IMFDFRPP", &[":95Q::BENM//IM FUNDS SICAV"]),
                (":95P::ACCW//BNPAFRPP", &[":95R::ACCW/SICV/0031"]),
            ],
            &["body.cash.owner"],
        ),
        (
            // A paying institution by name.
            "40-mt541-au-chess-receive-against-aud-cash-parties",
            &[(":95P::PAYE//ANZBAU3M", &[":95Q::PAYE//ANZ BANKING GROUP"])],
            &["body.cash.servicer"],
        ),
    ];
    for (name, edits, withheld) in cases {
        let bytes = edited_lines(name, edits);
        let read = mt::to_ism(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&read.withheld, withheld, "{name}");
        for member in *withheld {
            let path = member.strip_prefix("body.").unwrap();
            let mut at = &read.value.to_json();
            for part in path.split('.') {
                at = &at[part];
            }
            assert!(at.is_null(), "{member} is absent");
        }
        // The gateway knows all of it, yet fills none of the withheld members.
        let context = InboundContext {
            participant: PartyId::parse("549300ISTHMUSSELL015").ok(),
            market: mic("XNYS"),
            settlement_agent: Bic::parse("CHASUS33").ok().map(Party::by_bic),
            cash: Some(CashSide {
                market: None,
                account: None,
                owner: PartyId::parse("IMGRUS33").ok(),
                servicer: Bic::parse("CHASUS33").ok().map(Party::by_bic),
            }),
        };
        let completed = Dialect::Mt.inbound_with(&bytes, &context).unwrap();
        let json = completed.value.to_json();
        for member in *withheld {
            let path = member.strip_prefix("body.").unwrap();
            let mut at = &json;
            for part in path.split('.') {
                at = &at[part];
            }
            assert!(at.is_null(), "{name}: the gateway filled {member}: {json}");
        }
    }
    // Nothing is withheld from a message that says all in ISM/1's forms.
    for name in [T70, T71, T72] {
        assert!(mt::to_ism(&corpus(name)).unwrap().withheld.is_empty());
    }
}

#[test]
fn a_routing_address_that_is_no_valid_bic_gives_nothing_and_is_listed() {
    // D6: the message is fine; its routing is not ours to judge. Nothing is
    // derived from a sender or receiver whose BIC breaks the ISM/1 BIC rules
    // (here the country ZZ), and the address is listed as left out.
    let bytes = edited(
        "31-mt541-us-dtc-receive-against-usd-implied-own-side",
        "{1:F01IMBYUS33AXXX0000000000}{2:I541IRVTUS3NXXXXN}{4:",
        &["{1:F01IMBYZZ33AXXX0000000000}{2:I541IRVTZZ3NXXXXN}{4:"],
    );
    let read = mt::to_ism(&bytes).unwrap();
    let body = instruction(&read);
    assert_eq!(
        (body.account_owner.as_ref(), body.receiving_agent.as_ref()),
        (None, None)
    );
    assert!(read.derived.is_empty(), "{:?}", read.derived);
    assert_eq!(left_out(&read), ["{1:} sender", "{2:} receiver"]);
    assert!(read.unrepresented[0].reason.contains("BIC_COUNTRY"));
    // Only the invalid one is listed; the valid one still gives its member.
    let bytes = edited(
        "31-mt541-us-dtc-receive-against-usd-implied-own-side",
        "{1:F01IMBYUS33AXXX0000000000}{2:I541IRVTUS3NXXXXN}{4:",
        &["{1:F01IMBYUS33AXXX0000000000}{2:I541IRVTZZ3NXXXXN}{4:"],
    );
    let read = mt::to_ism(&bytes).unwrap();
    assert_eq!(
        derived(&read),
        pairs(&[("body.account_owner", "{1:} sender")])
    );
    assert_eq!(left_out(&read), ["{2:} receiver"]);
    // An address never consulted (the message states owner and agents) is not listed.
    let stated = mt::to_ism(&edited(
        "01-mt543-us-dtc-deliver-against-usd",
        "{1:F01CHASUS33AXXX0000000000}{2:I543DTCYUS33XXXXN}{4:",
        &["{1:F01CHASZZ33AXXX0000000000}{2:I543DTCYUS33XXXXN}{4:"],
    ))
    .unwrap();
    assert!(
        stated.unrepresented.is_empty(),
        "{:?}",
        stated.unrepresented
    );
}

#[test]
fn own_agents_derived_from_routing_are_reported_by_translate_and_dropped_by_a_gateway() {
    // D7: `Dialect::inbound` (isthmus translate) derives and reports the own
    // agent; `inbound_with` (the gateway) does not forward a routing guess.
    let read = Dialect::Mt.inbound(&corpus(T71)).unwrap();
    assert_eq!(
        instruction(&read)
            .receiving_agent
            .as_ref()
            .and_then(|p| p.bic.as_ref())
            .map(Bic::as_str),
        Some("IRVTUS3N")
    );
    let gateway = Dialect::Mt
        .inbound_with(&corpus(T71), &InboundContext::default())
        .unwrap();
    assert_eq!(instruction(&gateway).receiving_agent, None);
    assert!(left_out(&gateway).contains(&"body.receiving_agent"));
    // A direct participant's own agent (T72: derived from the sender) likewise.
    let gateway = Dialect::Mt
        .inbound_with(&corpus(T72), &InboundContext::default())
        .unwrap();
    assert_eq!(instruction(&gateway).delivering_agent, None);
}

#[test]
fn a_settlement_transaction_other_than_a_trade_is_refused() {
    for line in [
        ":22F::SETR//REPU",
        ":22F::SETR//SECL",
        ":22F::SETR//COLI",
        ":22F::SETR/XSWX/TRAD",
    ] {
        let error = mt::to_ism(&edited(T72, ":22F::SETR//TRAD", &[line]))
            .err()
            .unwrap_or_else(|| panic!("{line} was accepted"));
        assert_eq!(error.code, TranslateCode::NotRepresentable, "{line}");
        assert!(
            error
                .field
                .as_deref()
                .is_some_and(|f| f.starts_with("E/SETDET/:22F::SETR/")),
            "{line}: {error}"
        );
        assert!(error.message.contains("trades only"), "{error}");
    }
    let error = mt::to_ism(&edited(T72, ":22F::SETR//TRAD", &[":22F::SETR//TRADE"])).unwrap_err();
    assert_eq!(error.code, TranslateCode::MtFieldFormat);
    // Absent, the trade is implied.
    let read = mt::to_ism(&edited(T72, ":22F::SETR//TRAD", &[])).unwrap();
    assert_eq!(read.value, mt::to_ism(&corpus(T72)).unwrap().value);
}

// --- properties --------------------------------------------------------------

const BICS: &[&str] = &[
    "DEUTDEFF",
    "CHASUS33",
    "MGTCBEBEECL",
    "CRSTGB22",
    "INSECHZZ",
    "UBSWCHZH80A",
    "ANZBAU3M",
    "DTCYUS33",
];
const LEIS: &[&str] = &[
    "549300ISTHMUSSELL015",
    "549300ISTHMUSBUYR064",
    "7LTWFZYICNSX8D621K86",
];
const ISSUERS: &[&str] = &["DTCYID", "CRST", "ECLR", "CEDE", "SICV", "JASDEC", "DAKV"];
const MICS: &[&str] = &["XNYS", "XNAS", "XASX", "XSES", "XSWX", "XETR"];

/// A reference of 1 to `max` characters of the SWIFT x set, without `/`.
fn reference(max: usize) -> impl Strategy<Value = String> {
    let middle = max.saturating_sub(2);
    proptest::string::string_regex(&format!(
        "[A-Za-z0-9]([A-Za-z0-9?:().,'+ -]{{0,{middle}}}[A-Za-z0-9])?"
    ))
    .unwrap()
}

/// A party by BIC or by a proprietary code MT can hold, with or without LEI and account.
fn party(with_account: bool) -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            select(BICS).prop_map(|bic| json!({"bic": bic})),
            (select(ISSUERS), reference(34))
                .prop_map(|(issuer, id)| json!({"proprietary_id": {"id": id, "issuer": issuer}})),
        ],
        proptest::option::of(select(LEIS)),
        proptest::option::of(reference(35)),
    )
        .prop_map(move |(mut party, lei, account)| {
            let members = party.as_object_mut().unwrap();
            if let Some(lei) = lei {
                members.insert("lei".into(), json!(lei));
            }
            if let (true, Some(account)) = (with_account, account) {
                members.insert("safekeeping_account".into(), json!(account));
            }
            party
        })
}

/// A cash side of members MT54x carries: account, market, owner by BIC,
/// servicer with its own account.
fn cash_side() -> impl Strategy<Value = Option<Value>> {
    (
        proptest::option::of(reference(35)),
        proptest::option::of(select(MICS)),
        proptest::option::of(select(BICS)),
        proptest::option::of(party(true)),
    )
        .prop_map(|(account, market, owner, servicer)| {
            let mut members = Map::new();
            if let Some(account) = account {
                members.insert("account".into(), json!(account));
            }
            if let Some(market) = market {
                members.insert("market".into(), json!(market));
            }
            if let Some(owner) = owner {
                members.insert("owner".into(), json!(owner));
            }
            if let Some(servicer) = servicer {
                members.insert("servicer".into(), servicer);
            }
            (!members.is_empty()).then_some(Value::Object(members))
        })
}

fn instruction_body() -> impl Strategy<Value = Value> {
    (
        (
            reference(16),
            select(&["DELIVER", "RECEIVE"][..]),
            any::<bool>(),
        ),
        (
            proptest::option::of(prop_oneof![select(LEIS), select(BICS)]),
            proptest::option::of(select(MICS)),
            cash_side(),
        ),
        (
            party(true),
            proptest::option::of(party(true)),
            proptest::option::of(party(true)),
            proptest::option::of(party(true)),
            select(BICS),
        ),
    )
        .prop_map(
            |(
                (id, direction, against),
                (owner, securities_market, cash),
                (counterparty, own, seller, buyer, pset),
            )| {
                let deliver = direction == "DELIVER";
                let mut b = json!({
                    "instruction_id": id, "direction": direction,
                    "payment": if against { "AGAINST_PAYMENT" } else { "FREE_OF_PAYMENT" },
                    "trade_date": "2026-11-25", "settlement_date": "2026-11-27",
                    "isin": "US0378331005", "quantity": "1000",
                    "safekeeping_account": "SAFE-01", "place_of_settlement": pset,
                });
                let (counterparty_member, own_member) = if deliver {
                    ("receiving_agent", "delivering_agent")
                } else {
                    ("delivering_agent", "receiving_agent")
                };
                b[counterparty_member] = counterparty;
                if let Some(own) = own {
                    b[own_member] = own;
                }
                if let Some(seller) = seller {
                    b["seller"] = seller;
                }
                if let Some(buyer) = buyer {
                    b["buyer"] = buyer;
                }
                if let Some(owner) = owner {
                    b["account_owner"] = json!(owner);
                }
                if let Some(market) = securities_market {
                    b["securities_market"] = json!(market);
                }
                if against {
                    b["settlement_amount"] = json!({"amount": "231450.00", "currency": "USD"});
                    if let Some(cash) = cash {
                        b["cash"] = cash;
                    }
                }
                b
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    /// Instructions with the new members — proprietary parties, cash sides,
    /// markets, implied members left out — survive ISM/1 → MT → ISM/1
    /// exactly, and reading our output derives nothing.
    #[test]
    fn instructions_with_the_new_members_survive_ism_to_mt_to_ism(value in instruction_body()) {
        let body = Body::from_json(Kind::SettlementInstruction, &value, "body").unwrap();
        let written = mt::from_ism(&body).unwrap();
        prop_assert!(written.unrepresented.is_empty(), "{:?}", written.unrepresented);
        let read = mt::to_ism(&written.value).unwrap();
        prop_assert_eq!(&read.value, &body, "{}", String::from_utf8_lossy(&written.value));
        prop_assert!(read.unrepresented.is_empty(), "{:?}", read.unrepresented);
        prop_assert!(read.derived.is_empty(), "{:?}", read.derived);
        prop_assert_eq!(mt::from_ism(&read.value).unwrap().value, written.value);
    }
}

// --- ISM-1 Appendix A.2 item 2: a confirmation's effective settlement ------

/// The MT544 of the corpus (settlement date 30 November 2026, settled at
/// 09:15 UTC that day) with its `:98E::ESET//` line replaced.
fn confirmation_with_eset(eset: &str) -> Vec<u8> {
    let text = String::from_utf8(corpus("13-mt544-de-receive-free-confirmation")).unwrap();
    let old = ":98E::ESET//20261130091500/0000";
    assert!(text.contains(old));
    text.replace(old, eset).into_bytes()
}

/// Issue 10, finding 11: ISO 15022 defines SETT as when the instruments "are
/// to be delivered or received" and ESET as when the transaction
/// "effectively settled"; a confirmation of a settlement before its
/// settlement date contradicts itself and is refused.
#[test]
fn an_effective_settlement_before_the_settlement_date_is_refused() {
    let location = "B/TRADDET/:98a::ESET//";
    for eset in [
        // In the sender's own clock: the dates as written.
        ":98A::ESET//20261129",
        ":98C::ESET//20261129235959",
        ":98E::ESET//20261129235959",
        ":98E::ESET//20261129235959/0100",
        ":98E::ESET//20261129235959,999/N0500",
        ":98C::ESET//20250101120000",
        // In UTC: before 30 November has begun anywhere (29 November 10:00 UTC).
        ":98E::ESET//20261129095959,999/0000",
        ":98E::ESET//20261101000000/0000",
    ] {
        let error = mt::to_ism(&confirmation_with_eset(eset)).unwrap_err();
        assert_eq!(
            error.code,
            TranslateCode::MtFieldsInconsistent,
            "{eset}: {error}"
        );
        assert!(
            error
                .field
                .as_deref()
                .is_some_and(|f| f.starts_with("B/TRADDET/:98")),
            "{eset}: {error} (expected at {location})"
        );
        assert!(
            error
                .message
                .contains("before the settlement date 2026-11-30"),
            "{eset}: {error}"
        );
    }
}

#[test]
fn an_effective_settlement_on_or_after_the_settlement_date_is_read() {
    for (eset, settled_at) in [
        (":98A::ESET//20261130", "2026-11-30T00:00:00Z"),
        (":98C::ESET//20261130000000", "2026-11-30T00:00:00Z"),
        (":98E::ESET//20261130000000/0900", "2026-11-29T15:00:00Z"),
        (":98E::ESET//20261201093000/N0500", "2026-12-01T14:30:00Z"),
        // UTC on the day before: 08:30 in Tokyo (UTC+9) on the settlement date,
        // as the reference writer writes it; and the first instant at UTC+14.
        (":98E::ESET//20261129233000/0000", "2026-11-29T23:30:00Z"),
        (":98E::ESET//20261129100000/0000", "2026-11-29T10:00:00Z"),
    ] {
        let read =
            mt::to_ism(&confirmation_with_eset(eset)).unwrap_or_else(|e| panic!("{eset}: {e}"));
        let Body::SettlementConfirmation(confirmation) = &read.value else {
            panic!("not a confirmation");
        };
        assert_eq!(confirmation.settled_at.as_str(), settled_at, "{eset}");
        // What is read is written again, and read back the same.
        let written = mt::from_ism(&read.value).unwrap();
        assert_eq!(
            mt::to_ism(&written.value).unwrap().value,
            read.value,
            "{eset}"
        );
    }
}

#[test]
fn the_writer_refuses_what_the_reader_would_refuse() {
    let read = mt::to_ism(&corpus("13-mt544-de-receive-free-confirmation")).unwrap();
    let mut value = read.value.to_json();
    value["settled_at"] = json!("2026-11-29T09:59:59.999Z");
    let early = Body::from_json(Kind::SettlementConfirmation, &value, "body").unwrap();
    let error = mt::from_ism(&early).unwrap_err();
    assert_eq!(error.code, TranslateCode::NotRepresentable);
    assert_eq!(error.field.as_deref(), Some("body.settled_at"));
    value["settled_at"] = json!("2026-11-29T10:00:00Z");
    let earliest = Body::from_json(Kind::SettlementConfirmation, &value, "body").unwrap();
    assert!(mt::from_ism(&earliest).is_ok());
}

//! HoldingsStatement → MT535 Statement of Holdings (custody statement of
//! settled positions, one page, complete, ad hoc).
//!
//! Layout (SWIFT MT535 format specification, sequences A and B with
//! subsequence B1; SMPG custody holdings reconciliation practice):
//!
//! | ISM/1 member | MT535 |
//! | --- | --- |
//! | `statement_id` | `A/GENL/:20C::SEME//` (16x; longer → `NOT_REPRESENTABLE`) |
//! | `as_of` | `A/GENL/:98E::STAT//` in UTC (`/0000`), to the millisecond |
//! | `account.account` | `A/GENL/:97A::SAFE//` |
//! | `balances[i].isin` | `B/SUBSAFE/B1/FIN/:35B:ISIN <ISIN>` |
//! | `balances[i].total` | `B1/FIN/:93B::AGGR//UNIT/` |
//! | `balances[i].locked` | `B1/FIN/:93B::NAVL//UNIT/`, with the rest in `:93B::AVAI//UNIT/` (the usage rule: AVAI + NAVL = AGGR) |
//!
//! Written always: `:28E:1/ONLY`, `:23G:NEWM`, `:22F::SFRE//ADHO` (ad hoc),
//! `:22F::CODE//COMP` (complete), `:22F::STTY//CUST` (custody statement),
//! `:22F::STBA//SETT` (settled positions), `:17B::CONS//N` (the account
//! itself, not its sub-safekeeping accounts, so sequence B comes once and
//! without an account), and `:17B::ACTI//Y` with sequence B when there is a
//! balance, `:17B::ACTI//N` without it when there is none (network rule C1).
//!
//! Not carried, and listed as unrepresented: the market (the account
//! servicer is the message's sender, whose address the gateway sets), the
//! account owner (the statement's receiver) and decimals of the second
//! beyond the third.

use isthmus_spec::body::HoldingsStatement;
use isthmus_spec::decimal::Quantity;

use super::{decimal, reference_16, Lines};
use crate::error::{TranslateError, Translation, Unrepresented};
use crate::mt::fields;
use crate::mt::fin;
use crate::mt::{ADVICE_RECEIVER_ADDRESS, ADVICE_SENDER_ADDRESS};

/// The message type.
const MT535: u16 = 535;

/// `total − locked`, exactly, as an MT decimal (`0,` when everything is
/// locked); `None` if the difference does not fit `15d`.
fn available(total: &Quantity, locked: &Quantity) -> Option<String> {
    let scale = total.value().scale().max(locked.value().scale());
    let rest = total
        .value()
        .to_minor_units(scale)?
        .checked_sub(locked.value().to_minor_units(scale)?)?;
    let digits = format!("{rest:0>width$}", width = usize::from(scale) + 1);
    let (integer, fraction) = digits.split_at(digits.len() - usize::from(scale));
    let text = if fraction.is_empty() {
        integer.to_string()
    } else {
        format!("{integer}.{fraction}")
    };
    fields::decimal_to_mt(&text)
}

/// Writes a statement of holdings. A statement id over 16 characters or a
/// quantity over the 15 characters of `:93B:` is refused
/// (`NOT_REPRESENTABLE`), never cut.
pub(super) fn write(body: &HoldingsStatement) -> Result<Translation<Vec<u8>>, TranslateError> {
    let seme = reference_16(&body.statement_id, "body.statement_id", ":20C::SEME//")?;
    let mut unrepresented = vec![
        Unrepresented {
            field: "body.market".into(),
            reason: format!("MT535 names the account servicer as the message's sender, not by MIC; the statement is of {}", body.market),
        },
        Unrepresented {
            field: "body.account.owner".into(),
            reason: "MT535 has no account owner field; the statement goes to the account owner as its receiver".into(),
        },
    ];
    let (stat, fraction) = fields::timestamp_to_98e(&body.as_of);
    if fraction.is_some() {
        unrepresented.push(Unrepresented {
            field: "body.as_of".into(),
            reason: "MT535 gives the statement time to the millisecond (:98E: holds three decimals of the second); the rest is left out".into(),
        });
    }

    let mut lines = Lines::default();
    lines.open("GENL");
    lines.field("28E", "1/ONLY");
    lines.qualified("20C", "SEME", seme);
    lines.field("23G", "NEWM");
    lines.qualified("98E", "STAT", &stat);
    lines.qualified("22F", "SFRE", "ADHO");
    lines.qualified("22F", "CODE", "COMP");
    lines.qualified("22F", "STTY", "CUST");
    lines.qualified("22F", "STBA", "SETT");
    lines.qualified("97A", "SAFE", body.account.account.as_str());
    let active = !body.balances.is_empty();
    lines.qualified("17B", "ACTI", if active { "Y" } else { "N" });
    lines.qualified("17B", "CONS", "N");
    lines.close("GENL");
    if active {
        lines.open("SUBSAFE");
        for (index, balance) in body.balances.iter().enumerate() {
            let path = format!("body.balances[{index}]");
            let total = decimal(
                balance.total.as_str(),
                &format!("{path}.total"),
                ":93B::AGGR//UNIT/",
            )?;
            lines.open("FIN");
            lines.field("35B", &format!("ISIN {}", balance.isin));
            lines.qualified("93B", "AGGR", &format!("UNIT/{total}"));
            if let Some(locked) = balance.locked.as_ref() {
                let not_available = decimal(
                    locked.as_str(),
                    &format!("{path}.locked"),
                    ":93B::NAVL//UNIT/",
                )?;
                // A decoded balance never locks more than it holds (ISM-1 §6.9).
                let rest = available(&balance.total, locked).ok_or_else(|| {
                    TranslateError::at(
                        crate::error::TranslateCode::NotRepresentable,
                        format!("{path}.locked"),
                        format!("{locked} locked of {} held leaves no available balance MT535 can write", balance.total),
                    )
                })?;
                lines.qualified("93B", "AVAI", &format!("UNIT/{rest}"));
                lines.qualified("93B", "NAVL", &format!("UNIT/{not_available}"));
            }
            lines.close("FIN");
        }
        lines.close("SUBSAFE");
    }
    let bytes = fin::write(
        MT535,
        ADVICE_SENDER_ADDRESS,
        ADVICE_RECEIVER_ADDRESS,
        &lines.finish(MT535),
    );
    Ok(Translation {
        value: bytes,
        unrepresented,
        derived: Vec::new(),
        withheld: Vec::new(),
    })
}

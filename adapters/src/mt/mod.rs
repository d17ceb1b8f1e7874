//! The SWIFT MT54x dialect: MT540–MT543 settlement instructions, MT544–MT547
//! settlement confirmations and MT548 status advices, to and from ISM/1.
//!
//! Sources followed (cited again where each rule is implemented): SWIFT
//! Standards MT (November release) message reference guides for category 5
//! as published in the ISO 15022 Data Field Dictionary
//! (iso20022.org/15022/uhb: `finmt545`, `finmt548`, `mt543-14-field-94a`,
//! `mt543-43-field-97a`, `mt543-72-field-95a`, `mt548-7-field-20a`,
//! `mt548-26-field-70e`, …), the SWIFT user handbook pages of MT540–MT548
//! for the format specifications and network rules (C1–C6, E84, E87,
//! T26, T50), ISM-1 §6.1, §6.2, §6.8 and Appendix A, and public MT54x
//! samples (prowide-core's `MT543Test` and `MessageCreation2Example`).
//!
//! Modules: [`fin`] blocks `{1:}`…`{5:}`; [`text`] the fields and
//! `:16R:`/`:16S:` sequences of block 4; `fields` field formats and value
//! conversion; `narrative` the line format of values carried in narrative;
//! `codes` code tables; `read` MT → ISM/1; `write` ISM/1 → MT.
//!
//! # Mapping
//!
//! Locations are written `<sequence letter>/<name>/…/<field>`.
//!
//! ## SettlementInstruction ↔ MT540 (RECEIVE, FREE_OF_PAYMENT), MT541 (RECEIVE, AGAINST_PAYMENT), MT542 (DELIVER, FREE_OF_PAYMENT), MT543 (DELIVER, AGAINST_PAYMENT)
//!
//! | ISM/1 member | MT |
//! | --- | --- |
//! | `instruction_id` | `A/GENL/:20C::SEME//` (16x; longer → `NOT_REPRESENTABLE`) |
//! | `common_reference` | `A/GENL/A1/LINK/:20C::COMM//` (16x; longer → `NOT_REPRESENTABLE`, ISM-1 Appendix A) |
//! | `direction`, `payment` | the message type |
//! | `place_of_trade` | `B/TRADDET/:94B::TRAD//EXCH/<MIC>` |
//! | `settlement_date` | `B/TRADDET/:98A::SETT//` (98C/98E read, time reported as left out) |
//! | `trade_date` | `B/TRADDET/:98A::TRAD//` (optional in MT, required by ISM/1) |
//! | `isin` | `B/TRADDET/:35B:ISIN <ISIN>` (description lines reported as left out) |
//! | `quantity` | `C/FIAC/:36B::SETT//UNIT/<15d>` |
//! | `account_owner` | BIC: `C/FIAC/:95P::ACOW//`; LEI: `C/FIAC/:95L::ALTE//` (the standard gives ACOW options P and R and the LEI under ALTE; `:95L::ACOW//` is read too); absent: the sender's BIC, as the account owner sends MT540–MT543 |
//! | `safekeeping_account` | `C/FIAC/:97A::SAFE//` |
//! | — | `E/SETDET/:22F::SETR//TRAD` (written; other types reported as left out) |
//! | `delivering_agent` | `E/SETDET/E1/SETPRTY`: `:95P::DEAG//`, `:95L::ALTE//` (`lei`), `:97A::SAFE//` (`safekeeping_account`) |
//! | `seller` | E1 `:95P::SELL//` (+ ALTE, SAFE) |
//! | `receiving_agent` | E1 `:95P::REAG//` (+ ALTE, SAFE) |
//! | `buyer` | E1 `:95P::BUYR//` (+ ALTE, SAFE) |
//! | `place_of_settlement` | E1 `:95P::PSET//` |
//! | `settlement_amount` | `E/SETDET/E3/AMT/:19A::SETT//<CCY><15d>` |
//!
//! ## SettlementConfirmation ↔ MT544 (RECEIVE, FREE), MT545 (RECEIVE, AGAINST), MT546 (DELIVER, FREE), MT547 (DELIVER, AGAINST)
//!
//! | ISM/1 member | MT |
//! | --- | --- |
//! | — | `A/GENL/:20C::SEME//`: the advice's own reference, derived (see [`ADVICE_SENDER_ADDRESS`] and `write`) |
//! | `instruction_id` | `A/GENL/A1/LINK/:20C::RELA//` |
//! | `settlement_id` | `A/GENL/A1/LINK/:20C::MITI//` (market infrastructure transaction id) if ≤ 16 characters, else `/SEID/` in `:70E::SPRO//` |
//! | `settlement_date` | `B/TRADDET/:98A::SETT//` |
//! | `settled_at` | `B/TRADDET/:98C::ESET//YYYYMMDDHHMMSS` in UTC, the digits after the seconds as `/FRAC/` in `:70E::SPRO//`; `:98A::ESET//` is read as midnight UTC |
//! | `isin` | `B/TRADDET/:35B:ISIN` |
//! | `securities_journal`, `cash_journal` | `/SJNL/`, `/CJNL/` in `B/TRADDET/:70E::SPRO//` |
//! | `quantity` | `C/FIAC/:36B::ESTT//UNIT/` |
//! | `settlement_amount` | `E/SETDET/E3/AMT/:19A::ESTT//` |
//!
//! An ISM/1 confirmation names no account and no settlement parties, so the
//! MT544–MT547 written carry no `:97A::SAFE//` in C and no E1 sequences,
//! which the network requires: the gateway that holds the instruction adds
//! them before the message goes on the network. Read, those fields are
//! reported as left out.
//!
//! ## InstructionStatus ↔ MT548 (`:23G:INST`)
//!
//! | ISM/1 member | MT |
//! | --- | --- |
//! | `instruction_id` | `A/GENL/A1/LINK/:20C::RELA//` |
//! | `settlement_id` | `A/GENL/A1/LINK/:20C::MITI//` if ≤ 16 characters, else reported as unrepresented |
//! | `status` | `A/GENL/A2/STAT/:25D:` — ACCEPTED `IPRC//PACK`, REJECTED `IPRC//REJT`, CANCELLED `IPRC//CAND`, MATCHED `MTCH//MACH`, UNMATCHED `MTCH//NMAT`, PENDING `SETT//PEND` (ISM-1 §6.2); several statuses read → the furthest along, the others reported |
//! | `reason.code` | `A2a/REAS/:24B::<status code>//<code>` (mapped code, `MT_<qualifier>_<code>` as is, else `NARR`) and `/ISMC/` in `:70D::REAS//` |
//! | `reason.text` | `/TEXT/` in `A2a/REAS/:70D::REAS//` |
//! | `related_message_id` | none: reported as unrepresented |
//!
//! # Values carried in narrative
//!
//! Each value is a line `/KEY/value`, continued on lines starting `//`
//! (35 characters a line, never ending in a space):
//!
//! ```text
//! :70E::SPRO///SEID/STL-20261125-0001        settlement id (when over 16 characters)
//! /SJNL/XNYS/9141/7c7151b562abb5e456a        securities journal: MIC/sequence/entry hash
//! //adea4549cf8e39590c710df99dbade4c4
//! //8dc58fa27964
//! /CJNL/XETR/552/7fc98cd98ee290a1662b        cash journal
//! //340833549dc05e568a79e4ebdc7a05679
//! //dac1da9e16f
//! /FRAC/417                                  settled_at digits after the seconds
//! :70D::REAS///ISMC/UNMATCHED-QUANTITY       ISM/1 reason code, '_' written '-'
//! /TEXT/The counterpart instructs 900 u      reason text; bytes of characters outside
//! //nits, not 1000.                          the x set, '?' and '/' escaped as ?HH
//! ```
//!
//! A `:70D::REAS//` without `/ISMC/` is read as free text (lines joined with
//! a space) and the code derived from `:24B:`.
//!
//! # Addresses
//!
//! An instruction goes from the account owner (its BIC, or for an owner
//! known by LEI only the instructing side's agent: DEAG for a delivery,
//! REAG for a receipt; LT code `A`, branch `XXX` unless the BIC has one) to
//! the place of settlement (LT code `X`). Confirmations and statuses name no
//! institution by BIC, so they carry the placeholder addresses
//! [`ADVICE_SENDER_ADDRESS`] and [`ADVICE_RECEIVER_ADDRESS`], which the
//! gateway replaces. Addresses are not mapped when read, except as the
//! account owner of last resort.
//!
//! # What is left out
//!
//! Outbound, [`Translation::unrepresented`] lists ISM/1 paths (`body.…`)
//! MT cannot carry; only InstructionStatus has any (above). Inbound, it
//! lists MT locations whose content ISM/1 has no member for (a preparation
//! date, a deal price, a `:35B:` description, other parties, other
//! amounts…). Blocks 3 and 5 and the `:20C::SEME//` of an advice are
//! transport and identity of the MT message itself, which ISM/1 keeps in
//! its envelope; they are not listed.

pub(crate) mod codes;
pub(crate) mod fields;
pub mod fin;
pub(crate) mod narrative;
mod read;
pub mod text;
mod write;

use isthmus_spec::Body;

use crate::error::{TranslateCode, TranslateError, Translation};

/// The placeholder LT address that MT544–MT548 written from ISM/1 come
/// from (an Isthmus gateway); country `XX` is no ISO 3166 country, so no
/// real BIC has it.
pub const ADVICE_SENDER_ADDRESS: &str = "ISMGXXXXAXXX";

/// The placeholder LT address that MT544–MT548 written from ISM/1 go to
/// (the participant).
pub const ADVICE_RECEIVER_ADDRESS: &str = "ISMPXXXXXXXX";

/// The placeholder LT address an MT540–MT543 written from ISM/1 comes from
/// when the instruction names no account owner by BIC (the participant,
/// whom the gateway knows); country `XX`, so no real BIC has it, and the
/// reader derives nothing from it.
pub const INSTRUCTION_SENDER_ADDRESS: &str = "ISMPXXXXAXXX";

/// The placeholder LT address an MT540–MT543 written from ISM/1 goes to when
/// it names no own agent but comes from a real institution (the account
/// servicer, whom the gateway knows).
pub const INSTRUCTION_RECEIVER_ADDRESS: &str = "ISMGXXXXXXXX";

/// Reads one native message into an ISM/1 body.
///
/// Refusals name the MT location (`B/TRADDET/:35B:`, `{2:}`…) and carry an
/// ISM/1 reason code for values that break ISM/1 rules, or one of the
/// `MT_…` codes for the dialect's own structure.
pub fn to_ism(native: &[u8]) -> Result<Translation<Body>, TranslateError> {
    let message = fin::parse(native)?;
    let kind = codes::message_kind(message.message_type).ok_or_else(|| {
        TranslateError::at(
            TranslateCode::MtMessageTypeUnsupported,
            "{2:}",
            format!(
                "MT{:03} is not translated; the MT dialect reads MT540–MT548",
                message.message_type
            ),
        )
    })?;
    let root = text::tree(text::fields(message.text)?)?;
    read::read(kind, &message, &root)
}

/// Writes an ISM/1 body as one native message.
///
/// SettlementInstruction → MT540–MT543, SettlementConfirmation →
/// MT544–MT547, InstructionStatus → MT548; other kinds are refused with
/// `KIND_UNSUPPORTED`.
pub fn from_ism(body: &Body) -> Result<Translation<Vec<u8>>, TranslateError> {
    write::write(body)
}

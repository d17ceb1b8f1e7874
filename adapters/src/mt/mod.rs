//! The SWIFT MT54x dialect: MT540–MT543 settlement instructions, MT544–MT547
//! settlement confirmations and MT548 status advices, to and from ISM/1, and
//! MT535 statements of holdings written from ISM/1 (`write/holdings.rs`).
//!
//! Sources followed (cited again where each rule is implemented): SWIFT
//! Standards MT (November release) message reference guides for category 5
//! as published in the ISO 15022 Data Field Dictionary
//! (iso20022.org/15022/uhb: `finmt545`, `finmt548`, `mt543-14-field-94a`,
//! `mt543-43-field-97a`, `mt543-72-field-95a`, `mt548-7-field-20a`,
//! `mt548-26-field-70e`, …), the SWIFT user handbook pages of MT540–MT548
//! for the format specifications and network rules (C1–C6, E84, E87,
//! T26, T50), ISM-1 §6.0.1, §6.0.8, §6.0.9, §6.1, §6.2, §6.8 and Appendix
//! A, and public MT54x samples (prowide-core's `MT541Test`, `MT543Test`,
//! `MessageCreation2Example`; see `adapters/tests/data/mt/README.md`). The
//! E2 cash parties follow `mt543-72-field-95a` (ACCW, BENM, DEBT, INTM, PAYE;
//! ALTE) and ISO 15022's `:98E:` format `8!n6!n[,3n][/[N]2!n[2!n]]`.
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
//! | `settlement_date` | `B/TRADDET/:98A::SETT//` (`:98C:`/`:98E:` read: see *Dates with a time*) |
//! | `trade_date` | `B/TRADDET/:98A::TRAD//` (optional in MT, required by ISM/1; `:98C:`/`:98E:` as for the settlement date) |
//! | `isin` | `B/TRADDET/:35B:ISIN <ISIN>` (description lines reported as left out) |
//! | `securities_market` | `/SMKT/<MIC>` in `B/TRADDET/:70E::SPRO//` (no MT field; see below) |
//! | `quantity` | `C/FIAC/:36B::SETT//UNIT/<15d>` |
//! | `account_owner` | BIC: `C/FIAC/:95P::ACOW//`; LEI: `C/FIAC/:95L::ALTE//` (the standard gives ACOW options P and R and the LEI under ALTE; `:95L::ACOW//` is read too; by proprietary code or name: reported, not derived); absent: derived from the sender (below) |
//! | `safekeeping_account` | `C/FIAC/:97A::SAFE//` |
//! | `cash.account` | `C/FIAC/:97A::CASH//`, else `:97A::CASH//` (or `:97E:`) in the own cash owner's E2 sequence (BENM of a delivery, DEBT of a receipt); a second one is reported; never the servicer's (below) |
//! | `cash.market` | `/CMKT/<MIC>` in `B/TRADDET/:70E::SPRO//` |
//! | `cash.owner` | E2 `:95P::BENM//` (DELIVER: the party is paid) or `:95P::DEBT//` (RECEIVE: it pays); its `:95L::ALTE//` LEI wins over the BIC, which is then reported; by `:95Q:`/`:95R:` alone: reported |
//! | `cash.servicer` | E2 `:95a::ACCW//` (DELIVER) or `:95a::PAYE//` (RECEIVE), as a party (P or R, `:95L::ALTE//`) |
//! | `cash.servicer.safekeeping_account` | `:97A::CASH//` in the servicer's own E2 sequence: the servicer's own account, in both directions |
//! | — | `E/SETDET/:22F::SETR//TRAD` (written; absent, a trade is implied; any other type, or a proprietary one, → `NOT_REPRESENTABLE`, as ISO 20022 refuses a `SctiesTxTp` other than `TRAD`) |
//! | `delivering_agent` | `E/SETDET/E1/SETPRTY`: `:95P::DEAG//` (BIC) or `:95R::DEAG/<issuer>/<id>`, `:95L::ALTE//` (`lei`), `:97A::SAFE//` (`safekeeping_account`); required for RECEIVE; absent in a DELIVER: derived (below) |
//! | `seller` | E1 `:95a::SELL//` (+ ALTE, SAFE) |
//! | `receiving_agent` | E1 `:95a::REAG//` (+ ALTE, SAFE); required for DELIVER; absent in a RECEIVE: derived (below) |
//! | `buyer` | E1 `:95a::BUYR//` (+ ALTE, SAFE) |
//! | `place_of_settlement` | E1 `:95P::PSET//` (required; by country or name → `NOT_REPRESENTABLE`) |
//! | `settlement_amount` | `E/SETDET/E3/AMT/:19A::SETT//<CCY><15d>` |
//!
//! **Parties** (ISM-1 §6.0.1, §6.0.8). A party is identified by its BIC
//! (`:95P::QUAL//BIC`) or by a proprietary code (`:95R::QUAL/<scheme>/<code>`):
//! the data source scheme (`8c`) is the proprietary id's `issuer` and the code
//! (`34x`) its `id`, so `:95R::DEAG/DTCYID/0901` is
//! `{"id": "0901", "issuer": "DTCYID"}`. `scheme` has no MT field and is
//! reported when written; an issuer that is not `8c` or an id over 34
//! characters refuses a required party (`NOT_REPRESENTABLE` at the member)
//! and leaves an optional one out, reported. A party by name and address
//! (`:95Q:`), alternate id (`:95S:`), LEI alone (`:95L:`) or country (`:95C:`)
//! has no ISM/1 form: the counterparty's agent is then refused, any other
//! party left out and reported (and nothing derived in its place). Such a
//! member — an own agent, seller, buyer or cash servicer so given, an
//! account owner by proprietary code or name, a cash owner by name or
//! proprietary code — is also listed by its ISM/1 path
//! (`body.delivering_agent`, `body.cash.servicer`…) in
//! [`Translation::withheld`]: the message says who it is, so a gateway's
//! [`crate::context::complete`] never fills it in from elsewhere.
//!
//! **The cash side** (ISM-1 §6.0.9) is the instructing party's own: for a
//! delivery the beneficiary of money (BENM) and its account with institution
//! (ACCW), for a receipt the debtor (DEBT) and paying institution (PAYE). The
//! counterparty's cash parties and intermediaries (INTM) are read, left out
//! and reported. `cash.account` is the instructing party's own cash account:
//! `:97A::CASH//` in sequence C, else in its own cash owner's E2 sequence. A
//! `:97A::CASH//` in the servicer's sequence (ACCW, PAYE) is the servicer's
//! own account, `cash.servicer.safekeeping_account`, as ISO 20022's
//! `CdtrAgt/CshAcct` and `DbtrAgt/CshAcct` are; when the servicer itself is
//! left out (given by name…), its account is left out and reported with it,
//! never taken as the cash account. A free-of-payment message has no cash
//! side: its cash accounts, cash parties and a `/CMKT/` cash market line are
//! read, left out and reported (ISM-1 §6.1 rule 4), as ISO 20022 does with
//! `IsmData/CshMkt`. Written, the account goes in `C/FIAC/:97A::CASH//`, the
//! owner by BIC in its E2 sequence and the servicer in its own with its
//! account as `:97A::CASH//`; an owner known by LEI alone (E2 names its party
//! by P, Q or R) has no MT field and is reported.
//!
//! **Dates with a time.** A trade or settlement date given as `:98C:`
//! (`8!n6!n`) or `:98E:` (`8!n6!n[,3n][/[N]2!n[2!n]]`) is checked whole —
//! hour 00–23, minutes and seconds 00–59, at most three decimals, a UTC
//! indicator `[N]HH` or `[N]HHMM` only in `:98E:` — and its calendar date is
//! taken as written, never shifted by the indicator; the time of day is
//! left out and listed in [`Translation::unrepresented`], not derived. (The
//! effective settlement of a confirmation, an instant, follows its own rule
//! below.)
//!
//! **Rule order.** The ISM/1 cross-member rules are reported in their order
//! (ISM-1 §6.1 rules 1–5): the reader builds the body with a missing
//! counterparty agent absent and lets the decoder refuse it after rules 1–4,
//! placed at the party's MT location and said in MT terms; a settlement date
//! before the trade date is reported first.
//!
//! **What the message leaves implied** (ISM-1 §6.1 rule 5, duty 8; SWIFT:
//! MT540–MT543 are "sent by an account owner to an account servicer"), each
//! reported in [`Translation::derived`] with the location it came from:
//!
//! 1. No account owner in sequence C (neither `:95a::ACOW//` nor
//!    `:95L::ALTE//`): the sender's BIC (`{1:} sender`, or `{2:} sender` from
//!    the message input reference of an output message).
//! 2. No E1 sequence for the instructing party's own agent (DEAG of a
//!    delivery, REAG of a receipt): the receiver's BIC, the account servicer
//!    (`{2:} receiver`, or `{1:} receiver` of an output message) — unless the
//!    receiver is the place of settlement (the same first eight characters as
//!    PSET), when the message goes straight to the depository: its sender is
//!    a direct participant and its own agent (`{1:} sender`). When the
//!    receiver is a global custodian, the agent at the depository is in truth
//!    its sub-custodian, which only static data knows: a gateway's
//!    [`crate::InboundContext`] replaces what was derived from routing.
//! 3. Nothing is derived from an Isthmus placeholder address (country `XX`),
//!    nor in place of a member the message states in a form ISM/1 cannot
//!    carry; the seller and buyer are never derived; the counterparty's agent
//!    is never derived but required (`COUNTERPARTY_REQUIRED` at
//!    `E/SETDET/E1/SETPRTY/:95a::REAG//` or `…DEAG//`, with a sentence).
//! 4. Nothing is derived from an address whose BIC breaks the ISM/1 BIC
//!    rules (an unknown country…): the message itself is fine and its
//!    routing is not the adapter's to judge, so it is not refused; where a
//!    member would have been derived from it, the address is listed as left
//!    out (`{1:} sender`, `{2:} receiver`) with the reason. The rule is the
//!    same for ISO 20022's `AppHdr` `Fr`/`To` (issue 7 review, decision D6):
//!    a FIN header's address is checked by the network, not by ISM/1.
//!
//! `Dialect::inbound` (`isthmus translate`) keeps and reports what was
//! derived; a gateway's [`crate::context::complete`] replaces it with what it
//! knows, and drops an own agent only guessed from routing.
//!
//! ## SettlementConfirmation ↔ MT544 (RECEIVE, FREE), MT545 (RECEIVE, AGAINST), MT546 (DELIVER, FREE), MT547 (DELIVER, AGAINST)
//!
//! | ISM/1 member | MT |
//! | --- | --- |
//! | — | `A/GENL/:20C::SEME//`: the advice's own reference, derived (see [`ADVICE_SENDER_ADDRESS`] and `write`) |
//! | `instruction_id` | `A/GENL/A1/LINK/:20C::RELA//` |
//! | `settlement_id` | `A/GENL/A1/LINK/:20C::MITI//` (market infrastructure transaction id) if ≤ 16 characters, else `/SEID/` in `:70E::SPRO//` |
//! | `settlement_date` | `B/TRADDET/:98A::SETT//` |
//! | `settled_at` | written `B/TRADDET/:98E::ESET//YYYYMMDDHHMMSS[,fff]/0000`, exact UTC with up to three decimals, finer fractions as `/FRAC/` in `:70E::SPRO//` instead; read: `:98E:` with a UTC indicator `/[N]HH[MM]` converted exactly, `:98C:` (and `:98E:` without indicator), a local time, read as UTC and reported as derived ("a local time without a UTC offset is read as UTC"), `:98A::ESET//` read as midnight UTC and reported as derived (as ISO 20022 reads `FctvSttlmDt/Dt/Dt`); an effective settlement before the settlement date is refused, `MT_FIELDS_INCONSISTENT` when read and `NOT_REPRESENTABLE` when written (ISM-1 Appendix A.2 item 2) |
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
//! | `status` | `A/GENL/A2/STAT/:25D:` — ACCEPTED `IPRC//PACK`, REJECTED `IPRC//REJT`, CANCELLED `IPRC//CAND`, MATCHED `MTCH//MACH`, UNMATCHED `MTCH//NMAT`, PENDING `SETT//PEND`, read also from `SETT//PENF` (failing, reported); several statuses read → the most decisive, the others and those without a state reported (ISM-1 §6.2 duty 1; table shared with sese.024 in [`crate::status_codes`]) |
//! | `reason.code` | `A2a/REAS/:24B::<status code>/[issuer]/<code>`: a standard code is its ISM/1 name or `ISO_<code>` (`NARR` is `ISO_OTHR`), a code with a data source scheme is `PRTRY_<code>` with the scheme as `reason.issuer` (ISM-1 Appendix A.1); written back the same way, else `NARR` |
//! | `reason.text` | `A2a/REAS/:70D::REAS//`: plain lines joined with a space; without narrative, `Reason code <code>, given without narrative.` |
//! | exact reason, when the above does not read back as it | `/ISMC/`, `/TEXT/`, `/ISSR/`, `/SCHM/` in `A2a/REAS/:70D::REAS//` |
//! | `related_message_id` | none: reported as unrepresented |
//!
//! # Values carried in narrative
//!
//! Each value is a line `/KEY/value`, continued on lines starting `//`
//! (35 characters a line, never ending in a space):
//!
//! ```text
//! :70E::SPRO///SMKT/XNYS                     instruction: securities_market
//! /CMKT/XASX                                 instruction: cash.market
//! :70E::SPRO///SEID/STL-20261125-0001        settlement id (when over 16 characters)
//! /SJNL/XNYS/9141/7c7151b562abb5e456a        securities journal: MIC/sequence/entry hash
//! //adea4549cf8e39590c710df99dbade4c4
//! //8dc58fa27964
//! /CJNL/XETR/552/7fc98cd98ee290a1662b        cash journal
//! //340833549dc05e568a79e4ebdc7a05679
//! //dac1da9e16f
//! /FRAC/417123                               settled_at decimals beyond :98E:'s three
//! :70D::REAS///ISMC/UNMATCHED-QUANTITY       ISM/1 reason code, '_' written '-'
//! /TEXT/The counterpart instructs 900 u      reason text; bytes of characters outside
//! //nits, not 1000.                          the x set, '?' and '/' escaped as ?HH
//! ```
//!
//! A `:70D::REAS//` without `/ISMC/` is read as free text (lines joined with
//! a space) and the code derived from `:24B:`; the writer writes the
//! Isthmus lines only when that plain form would not read back exactly. An
//! instruction's `:70E::SPRO//` that does not start with `/SMKT/` or `/CMKT/`
//! is free text, reported as left out. Real messages carry no market lines:
//! the gateway fills the markets from what it knows (ISM-1 §6.1 duty 8).
//!
//! # Addresses
//!
//! An instruction goes from the account owner to the place of settlement (LT
//! code `A` for the sender, `X` for the receiver, branch `XXX` unless the
//! BIC has one). The writer picks the addresses so that reading the message
//! back derives nothing the instruction does not say: the sender is the
//! account owner's BIC; for an owner known by LEI only, the own agent's BIC
//! (DEAG of a delivery, REAG of a receipt) if written; otherwise — no owner —
//! the placeholder [`INSTRUCTION_SENDER_ADDRESS`]. The receiver is the place
//! of settlement, except that an instruction that names no own agent but
//! comes from a real institution goes to the placeholder
//! [`INSTRUCTION_RECEIVER_ADDRESS`] (the place of settlement would make the
//! sender its own agent). Confirmations and statuses name no institution by
//! BIC, so they carry the placeholder addresses [`ADVICE_SENDER_ADDRESS`] and
//! [`ADVICE_RECEIVER_ADDRESS`]. A gateway replaces every placeholder with
//! what it knows before the message goes on the network. Read, addresses
//! give only the derived members above.
//!
//! # What is left out
//!
//! Outbound, [`Translation::unrepresented`] lists ISM/1 paths (`body.…`)
//! MT cannot carry: a proprietary id's `scheme`, a cash owner by LEI alone,
//! an optional party MT cannot name, and the InstructionStatus members
//! above. Inbound, it
//! lists MT locations whose content ISM/1 has no member for (a preparation
//! date, a deal price, a `:35B:` description, other parties, other
//! amounts, the counterparty's cash parties, the time of a trade date…) and
//! a routing address nothing could be derived from. Blocks 3 and 5 and the
//! `:20C::SEME//` of an advice are transport and identity of the MT message
//! itself, which ISM/1 keeps in its envelope; they are not listed.

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
/// MT544–MT547, InstructionStatus → MT548, HoldingsStatement → MT535; other kinds are refused with
/// `KIND_UNSUPPORTED`.
pub fn from_ism(body: &Body) -> Result<Translation<Vec<u8>>, TranslateError> {
    write::write(body)
}

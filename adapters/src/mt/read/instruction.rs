//! MT540–MT543 → SettlementInstruction.
//!
//! Besides the fields every instruction has, this reads what real
//! participants write and leave out (see the module docs of [`crate::mt`]):
//! parties by BIC (`:95P:`) or by their code at the place of settlement
//! (`:95R:`), the instructing party's cash side (`:97A::CASH//` in sequence C
//! and its own E2 cash parties), the Isthmus market lines `/SMKT/` and
//! `/CMKT/`, and the own side the message leaves implied, derived from the
//! message's routing and reported as derived. A cash servicer's own account
//! (`:97A::CASH//` in its E2 sequence) is its `safekeeping_account`, never the
//! instructing party's cash account; a member stated in a form ISM/1 cannot
//! carry is left out, reported and withheld; a missing counterparty agent is
//! left to the decoder (rule 5 after rules 1–4).

use isthmus_spec::body::{CashSide, Direction, Party, Payment, SettlementInstruction};
use isthmus_spec::decimal::Money;
use isthmus_spec::ident::{Bic, Mic, PartyId};
use isthmus_spec::ids::Reference;
use isthmus_spec::quote::quoted;

use super::confirmation::isthmus_spro_items;
use super::{check_function, date_of, sender_reference, single_line, Reader, Routing};
use crate::error::{TranslateCode, TranslateError};
use crate::mt::codes;
use crate::mt::fields::{self, Generic};
use crate::mt::narrative;
use crate::mt::text::{Field, Sequence};
use crate::routing::{own_agent_from, OwnAgentFrom};

/// Why a free-of-payment message's cash details are left out.
const FREE_HAS_NO_CASH: &str = "a FREE_OF_PAYMENT instruction moves no cash and has no cash side (ISM-1 §6.1 rule 4); read and left out";

/// Reads MT540 (receive free), MT541 (receive against payment), MT542
/// (deliver free) or MT543 (deliver against payment).
pub(super) fn read(
    reader: &mut Reader<'_>,
    root: &Sequence,
    direction: Direction,
    payment: Payment,
) -> Result<SettlementInstruction, TranslateError> {
    // A General Information: :20C::SEME//, :23G:NEWM, A1 LINK :20C::COMM//.
    let (genl, genl_path) = reader.one_sequence(root, "", "GENL")?;
    let instruction_id = sender_reference(reader, genl, &genl_path)?;
    check_function(reader, genl, &genl_path, "NEWM")?;
    let common_reference = common_reference(reader, genl, &genl_path)?;

    // B Trade Details: :98A::SETT//, :98A::TRAD//, :35B:, :94B::TRAD//EXCH/,
    // the market lines of :70E::SPRO//.
    let (trad, trad_path) = reader.one_sequence(root, "", "TRADDET")?;
    let (field, generic) =
        reader.exactly_one(trad, &trad_path, "98A", "SETT", "settlement date")?;
    let location = reader.location(&trad_path, field);
    let settlement_date = date_of(reader, field, generic, location)?;
    let (field, generic) = reader.exactly_one(
        trad,
        &trad_path,
        "98A",
        "TRAD",
        "trade date, which ISM/1 requires",
    )?;
    let location = reader.location(&trad_path, field);
    let trade_date = date_of(reader, field, generic, location)?;
    let isin = security(reader, trad, &trad_path)?;
    let place_of_trade = place_of_trade(reader, trad, &trad_path)?;
    let markets = markets(reader, trad, &trad_path)?;

    // C Financial Instrument/Account: :36B::SETT//UNIT/, owner, :97A::SAFE//, :97A::CASH//.
    let (fiac, fiac_path) = reader.single_account(
        root,
        "ISM/1 instructs one quantity from one safekeeping account",
    )?;
    let (field, generic) =
        reader.exactly_one(fiac, &fiac_path, "36B", "SETT", "quantity to settle")?;
    let location = reader.location(&fiac_path, field);
    reader.require_option(field, &location, &["B"])?;
    single_line(field, &location)?;
    let quantity = fields::quantity_36b(generic.value, &location)?;
    reader.consume(field);
    let account_owner = account_owner(reader, fiac, &fiac_path)?;
    let (field, generic) =
        reader.exactly_one(fiac, &fiac_path, "97A", "SAFE", "safekeeping account")?;
    let location = reader.location(&fiac_path, field);
    if field.option() == "B" {
        return Err(TranslateError::at(
            TranslateCode::NotRepresentable,
            location,
            "the account is given with an account type code (option B); ISM/1 carries a plain account number (:97A::SAFE//)",
        ));
    }
    reader.require_option(field, &location, &["A"])?;
    single_line(field, &location)?;
    let safekeeping_account = fields::account_35x(generic.value, &location)?;
    reader.consume(field);
    let fiac_cash = cash_account(reader, fiac, &fiac_path)?;

    // E Settlement Details: :22F::SETR//TRAD, E1 parties, E2 cash parties, E3 amount.
    let (setdet, setdet_path) = reader.one_sequence(root, "", "SETDET")?;
    settlement_transaction_type(reader, setdet, &setdet_path)?;
    let parties = Parties::read(reader, setdet, &setdet_path)?;
    let settlement_amount = settlement_amount(reader, setdet, &setdet_path, "SETT")?;
    let place_of_settlement = parties.place_of_settlement(reader, &setdet_path)?;

    // ISM-1 §6.1 rule 5: the counterparty's agent is required, the
    // instructing party's own agent may be left implied.
    let (counterparty, own) = match direction {
        Direction::Deliver => (Role::RECEIVING_AGENT, Role::DELIVERING_AGENT),
        Direction::Receive => (Role::DELIVERING_AGENT, Role::RECEIVING_AGENT),
    };
    let counterparty_agent = parties.counterparty(reader, counterparty, direction, payment)?;
    let own_agent = match parties.optional(reader, own.qualifier, own.member)? {
        Stated::Read(party) => Some(party),
        Stated::LeftOut => None,
        Stated::Absent => own_agent_from_routing(reader, own, &place_of_settlement)?,
    };
    let seller = parties.optional(reader, "SELL", "body.seller")?.read();
    let buyer = parties.optional(reader, "BUYR", "body.buyer")?.read();

    let cash_parties = CashParties::read(reader, setdet, &setdet_path)?;
    let cash = match payment {
        Payment::AgainstPayment => cash_side(
            reader,
            direction,
            fiac_cash,
            &cash_parties,
            markets.cash.map(|(mic, _, _)| mic),
        )?,
        Payment::FreeOfPayment => {
            // Like its other cash details, a free instruction's cash market
            // is read, left out and listed (not refused).
            if let Some((_, field, location)) = markets.cash {
                reader.note(field, location, FREE_HAS_NO_CASH);
            }
            if let Some((_, field, location)) = fiac_cash {
                reader.note(field, location, FREE_HAS_NO_CASH);
            }
            cash_parties.leave_out(reader, |_| FREE_HAS_NO_CASH.to_string());
            None
        }
    };

    let account_owner = match account_owner {
        Stated::Read(owner) => Some(owner),
        Stated::LeftOut => None,
        Stated::Absent => owner_from_routing(reader)?,
    };
    // A missing counterparty agent stays absent here: the decoder reports
    // it (ISM-1 §6.1 rule 5) after rules 1–4, at the MT location of the party.
    let (delivering_agent, receiving_agent) = match direction {
        Direction::Deliver => (own_agent, counterparty_agent),
        Direction::Receive => (counterparty_agent, own_agent),
    };

    Ok(SettlementInstruction {
        instruction_id,
        common_reference,
        direction,
        payment,
        trade_date,
        settlement_date,
        isin,
        quantity,
        settlement_amount,
        account_owner,
        safekeeping_account,
        securities_market: markets.securities,
        cash,
        delivering_agent,
        receiving_agent,
        seller,
        buyer,
        place_of_settlement,
        place_of_trade,
    })
}

/// A settlement agent's role: its E1 qualifier, its ISM/1 member and its name.
#[derive(Debug, Clone, Copy)]
struct Role {
    qualifier: &'static str,
    member: &'static str,
    name: &'static str,
}

impl Role {
    const DELIVERING_AGENT: Role = Role {
        qualifier: "DEAG",
        member: "body.delivering_agent",
        name: "delivering agent",
    };
    const RECEIVING_AGENT: Role = Role {
        qualifier: "REAG",
        member: "body.receiving_agent",
        name: "receiving agent",
    };
}

/// What a message says about an optional member.
enum Stated<T> {
    /// It names it in a form ISM/1 carries.
    Read(T),
    /// It names it in a form ISM/1 cannot carry (reported as left out):
    /// nothing is derived in its place.
    LeftOut,
    /// It does not name it at all: the routing may imply it.
    Absent,
}

impl<T> Stated<T> {
    fn read(self) -> Option<T> {
        match self {
            Stated::Read(value) => Some(value),
            Stated::LeftOut | Stated::Absent => None,
        }
    }
}

/// The account owner the message leaves implied: the sender, since the
/// account owner (or an instructing party for it) sends MT540–MT543 to its
/// account servicer (SWIFT MT540–MT543 scope).
fn owner_from_routing(reader: &mut Reader<'_>) -> Result<Option<PartyId>, TranslateError> {
    let Some((bic, source)) = reader.routing_bic(Routing::Sender) else {
        return Ok(None);
    };
    let owner = PartyId::parse(bic.as_str())
        .map_err(|r| TranslateError::from_rejection(r, source.as_str()))?;
    reader.derive(
        "body.account_owner",
        source,
        "sequence C names no account owner (:95P::ACOW//, :95L::ALTE//); MT540–MT543 are sent by the account owner to its account servicer, so the owner is the sender",
    );
    Ok(Some(owner))
}

/// The instructing party's own agent the message leaves implied: the
/// receiver, its account servicer at the place of settlement, unless the
/// message goes straight to the place of settlement (same first eight
/// characters), whose direct participant is its own agent: then the sender.
fn own_agent_from_routing(
    reader: &mut Reader<'_>,
    role: Role,
    place_of_settlement: &Bic,
) -> Result<Option<Party>, TranslateError> {
    let Some((receiver, receiver_source)) = reader.routing_bic(Routing::Receiver) else {
        return Ok(None);
    };
    if own_agent_from(&receiver, place_of_settlement) == OwnAgentFrom::Receiver {
        reader.derive(
            role.member,
            receiver_source,
            format!(
                "the message names no {} (:95a::{}//); it is sent to the account servicer, which acts for the instructing party at the place of settlement",
                role.name, role.qualifier
            ),
        );
        return Ok(Some(Party::by_bic(receiver)));
    }
    let Some((sender, sender_source)) = reader.routing_bic(Routing::Sender) else {
        return Ok(None);
    };
    reader.derive(
        role.member,
        sender_source,
        format!(
            "the message names no {} (:95a::{}//) and goes straight to the place of settlement {place_of_settlement}, so the sender is a direct participant, its own agent",
            role.name, role.qualifier
        ),
    );
    Ok(Some(Party::by_bic(sender)))
}

/// `:22F::SETR//` (`:4!c/[8c]/4!c`), the type of settlement transaction:
/// ISM/1 instructions settle trades, so only `TRAD` is read (absent, it is
/// implied). A repo, a securities loan, a collateral movement or any other
/// type — or a proprietary type with a data source scheme — is refused
/// rather than translated as a trade, as ISO 20022 refuses a `SctiesTxTp`
/// other than `TRAD`.
fn settlement_transaction_type(
    reader: &mut Reader<'_>,
    setdet: &Sequence,
    setdet_path: &str,
) -> Result<(), TranslateError> {
    let Some((field, generic)) = reader.at_most_one(setdet, setdet_path, "22", "SETR")? else {
        return Ok(());
    };
    let location = reader.location(setdet_path, field);
    reader.require_option(field, &location, &["F"])?;
    single_line(field, &location)?;
    fields::code_4c(generic.value, &location)?;
    if let Some(scheme) = generic.scheme {
        return Err(TranslateError::at(
            TranslateCode::NotRepresentable,
            location,
            format!(
                "the type of settlement transaction is the proprietary code {} of scheme {scheme}; ISM/1 settles trades only (:22F::SETR//TRAD), so it is not translated as one",
                quoted(generic.value)
            ),
        ));
    }
    if generic.value != "TRAD" {
        let what = match generic.value {
            "REPU" => " (a repo)",
            "RVPO" => " (a reverse repo)",
            "TRPO" | "TRVO" => " (a triparty repo)",
            "BSBK" => " (a buy/sell-back)",
            "SBBK" => " (a sell/buy-back)",
            "SECL" => " (a securities loan)",
            "SECB" => " (a securities borrowing)",
            "COLI" | "COLO" => " (a collateral movement)",
            "CORP" => " (a corporate action)",
            "OWNI" | "OWNE" => " (a transfer between accounts)",
            "PORT" => " (a portfolio transfer)",
            _ => "",
        };
        return Err(TranslateError::at(
            TranslateCode::NotRepresentable,
            location,
            format!(
                "the type of settlement transaction is {}{what}; ISM/1 settles trades only (:22F::SETR//TRAD), so it is refused rather than translated as a trade",
                generic.value
            ),
        ));
    }
    reader.consume(field);
    Ok(())
}

/// `:20C::COMM//` in one of the A1 linkage sequences.
fn common_reference(
    reader: &mut Reader<'_>,
    genl: &Sequence,
    genl_path: &str,
) -> Result<Option<Reference>, TranslateError> {
    let mut found: Option<(Reference, usize)> = None;
    for link in genl.sequences_named("LINK") {
        let path = reader.path(genl_path, link);
        if let Some((field, generic)) = reader.at_most_one(link, &path, "20", "COMM")? {
            let location = reader.location(&path, field);
            if let Some((_, line)) = found {
                return Err(TranslateError::at(
                    TranslateCode::MtQualifierInvalid,
                    location,
                    format!("a second common reference; the first is at line {line}"),
                ));
            }
            reader.require_option(field, &location, &["C"])?;
            single_line(field, &location)?;
            found = Some((fields::reference_16x(generic.value, &location)?, field.line));
            reader.consume(field);
        }
    }
    Ok(found.map(|(reference, _)| reference))
}

/// The ISIN of `:35B:`.
pub(super) fn security(
    reader: &mut Reader<'_>,
    sequence: &Sequence,
    path: &str,
) -> Result<isthmus_spec::ident::Isin, TranslateError> {
    let mut found = sequence.fields().filter(|f| f.tag == "35B");
    let Some(field) = found.next() else {
        return Err(TranslateError::at(
            TranslateCode::MtFieldMissing,
            format!("{path}/:35B:"),
            "the identification of the financial instrument (:35B:) is missing",
        ));
    };
    let location = reader.location(path, field);
    if let Some(second) = found.next() {
        return Err(TranslateError::at(
            TranslateCode::MtFieldFormat,
            location,
            format!(":35B: appears again at line {}", second.line),
        ));
    }
    let security = fields::security_35b(field, &location)?;
    let Some(isin) = security.isin else {
        return Err(TranslateError::at(
            TranslateCode::MtFieldMissing,
            location,
            format!(
                "{} names no ISIN; ISM/1 identifies securities by ISIN (ISIN US0378331005)",
                quoted(field.first())
            ),
        ));
    };
    if security.described {
        reader.note(
            field,
            format!("{location} description"),
            "ISM/1 identifies the security by ISIN only; the description lines are left out",
        );
    } else {
        reader.consume(field);
    }
    Ok(isin)
}

/// `:94B::TRAD//EXCH/<MIC>`: the first such field gives the place of trade.
fn place_of_trade(
    reader: &mut Reader<'_>,
    trad: &Sequence,
    path: &str,
) -> Result<Option<Mic>, TranslateError> {
    for (field, generic) in reader.qualified(trad, "94", "TRAD") {
        if field.option() != "B" || generic.scheme.is_some() || field.lines.len() != 1 {
            continue;
        }
        let location = reader.location(path, field);
        if let Some(mic) = fields::place_of_trade(generic.value, &location)? {
            reader.consume(field);
            return Ok(Some(mic));
        }
    }
    Ok(None)
}

/// The markets of `/SMKT/` and `/CMKT/` in `:70E::SPRO//` (ISM-1 Appendix A).
#[derive(Default)]
struct Markets<'s> {
    securities: Option<Mic>,
    /// The cash market, its field and where in it it was read.
    cash: Option<(Mic, &'s Field, String)>,
}

/// Reads `:70E::SPRO//` of sequence B: our market lines, or free text,
/// which ISM/1 has no member for and is reported.
fn markets<'s>(
    reader: &mut Reader<'_>,
    trad: &'s Sequence,
    path: &str,
) -> Result<Markets<'s>, TranslateError> {
    let Some((field, location, items)) =
        isthmus_spro_items(reader, trad, path, narrative::INSTRUCTION_SPRO_KEYS)?
    else {
        return Ok(Markets::default());
    };
    let mut markets = Markets::default();
    for (key, value) in items {
        let at = format!("{location} /{key}/");
        let mic = Mic::parse(&value).map_err(|r| TranslateError::from_rejection(r, at.as_str()))?;
        if key == "SMKT" {
            markets.securities = Some(mic);
        } else {
            markets.cash = Some((mic, field, at));
        }
    }
    reader.consume(field);
    Ok(markets)
}

/// The account owner: `:95L::ALTE//` (LEI); else `:95P::ACOW//` (BIC) in
/// sequence C. An owner given by a proprietary code or name is left out and
/// reported; nothing is derived in its place.
fn account_owner(
    reader: &mut Reader<'_>,
    fiac: &Sequence,
    path: &str,
) -> Result<Stated<PartyId>, TranslateError> {
    // The LEI names the legal owner and wins when both are given, as in the
    // ISO 20022 reader (AcctOwnr/LEI over Id/AnyBIC); the BIC is then reported.
    if let Some((field, generic)) = reader.at_most_one(fiac, path, "95", "ALTE")? {
        let location = reader.location(path, field);
        single_line(field, &location)?;
        reader.require_option(field, &location, &["L"])?;
        let lei = fields::lei_95l(generic.value, &location)?;
        reader.consume(field);
        if let Some((acow, _)) = reader.at_most_one(fiac, path, "95", "ACOW")? {
            let acow_location = reader.location(path, acow);
            reader.note(
                acow,
                acow_location,
                "the account owner is also given by BIC; ISM/1 keeps one identifier, the LEI",
            );
        }
        return PartyId::parse(lei.as_str())
            .map(Stated::Read)
            .map_err(|r| TranslateError::from_rejection(r, location));
    }
    let Some((field, generic)) = reader.at_most_one(fiac, path, "95", "ACOW")? else {
        return Ok(Stated::Absent);
    };
    let location = reader.location(path, field);
    let owner = match field.option() {
        "P" if generic.scheme.is_none() => {
            single_line(field, &location)?;
            fields::bic_95p(generic.value, &location)?.to_string()
        }
        // The standard gives ACOW options P and R (LEI under ALTE); an LEI
        // under ACOW is unambiguous, so it is read too.
        "L" if generic.scheme.is_none() => {
            single_line(field, &location)?;
            fields::lei_95l(generic.value, &location)?.to_string()
        }
        "P" | "L" => {
            return Err(TranslateError::at(
                TranslateCode::MtFieldFormat,
                location,
                format!(":95{}: takes no data source scheme", field.option()),
            ))
        }
        _ => {
            reader.note(
                field,
                location,
                "ISM/1 identifies the account owner by BIC or LEI; an owner given by proprietary code or name is left out",
            );
            reader.withhold("body.account_owner");
            return Ok(Stated::LeftOut);
        }
    };
    reader.consume(field);
    PartyId::parse(&owner)
        .map(Stated::Read)
        .map_err(|r| TranslateError::from_rejection(r, location))
}

/// `:97A::CASH//` (or `:97E::CASH//`, an IBAN) of a sequence: the account
/// number, the field and its location. Not consumed: the caller decides.
fn cash_account<'s>(
    reader: &Reader<'_>,
    sequence: &'s Sequence,
    path: &str,
) -> Result<Option<(Reference, &'s Field, String)>, TranslateError> {
    let Some((field, generic)) = reader.at_most_one(sequence, path, "97", "CASH")? else {
        return Ok(None);
    };
    let location = reader.location(path, field);
    reader.require_option(field, &location, &["A", "E"])?;
    single_line(field, &location)?;
    if generic.scheme.is_some() {
        return Err(TranslateError::at(
            TranslateCode::MtFieldFormat,
            location,
            format!(":97{}::CASH// takes no data source scheme", field.option()),
        ));
    }
    let account = fields::account_35x(generic.value, &location)?;
    Ok(Some((account, field, location)))
}

/// The instructing party's cash side of an against-payment instruction
/// (ISM-1 §6.0.9): the account of `:97A::CASH//` in sequence C, else in the
/// own cash owner's E2 sequence (BENM for a delivery, DEBT for a receipt);
/// the owner by BIC or, under ALTE, LEI; the servicer (ACCW, PAYE) as a
/// party, with the `:97A::CASH//` of its own sequence as its own account
/// (`cash.servicer.safekeeping_account`, never `cash.account`); the market
/// of `/CMKT/`. The counterparty's cash parties and intermediaries are left
/// out and reported.
fn cash_side(
    reader: &mut Reader<'_>,
    direction: Direction,
    fiac_cash: Option<(Reference, &Field, String)>,
    parties: &CashParties<'_>,
    market: Option<Mic>,
) -> Result<Option<CashSide>, TranslateError> {
    let (owner_qualifier, servicer_qualifier) = codes::own_cash_parties(direction);
    let mut accounts: Vec<(Reference, &Field, String)> = fiac_cash.into_iter().collect();
    let owner = match parties.get(owner_qualifier) {
        Some(entry) => {
            accounts.extend(cash_account(reader, entry.sequence, &entry.path)?);
            cash_owner(reader, entry)?
        }
        None => None,
    };
    let servicer = match parties.get(servicer_qualifier) {
        Some(entry) => cash_servicer(reader, entry)?,
        None => None,
    };
    let mut accounts = accounts.into_iter();
    let account = accounts.next().map(|(account, field, _)| {
        reader.consume(field);
        account
    });
    for (_, field, location) in accounts {
        reader.note(
            field,
            location,
            "a second cash account of the instructing party; ISM/1 keeps the first, in the order sequence C, then the cash owner's sequence",
        );
    }
    parties.leave_out(reader, |qualifier| {
        if qualifier == owner_qualifier || qualifier == servicer_qualifier {
            return String::new();
        }
        if qualifier == "INTM" {
            "an intermediary of the payment; ISM/1 carries only the instructing party's own cash account, owner and servicer".to_string()
        } else {
            format!("{qualifier} is a cash party of the counterparty's side; ISM/1 carries only the instructing party's own cash side (ISM-1 §6.0.9)")
        }
    });
    let empty = market.is_none() && account.is_none() && owner.is_none() && servicer.is_none();
    Ok((!empty).then_some(CashSide {
        market,
        account,
        owner,
        servicer,
    }))
}

/// The servicer of the cash account (ACCW, PAYE) as a party, with its LEI
/// (`:95L::ALTE//`) and the `:97A::CASH//` of its sequence, the servicer's
/// own account. A servicer ISM/1 cannot name (by name and address…) is left
/// out and withheld, and its account with it: it is the servicer's, not
/// the instructing party's.
fn cash_servicer(
    reader: &mut Reader<'_>,
    entry: &PartySequence<'_>,
) -> Result<Option<Party>, TranslateError> {
    let own_account = cash_account(reader, entry.sequence, &entry.path)?;
    match identify(reader, &entry.path, entry.party, entry.generic)? {
        Identified::Party(party) => {
            reader.consume(entry.party);
            let mut party = with_lei(reader, entry.sequence, &entry.path, party)?;
            if let Some((account, field, _)) = own_account {
                reader.consume(field);
                party.safekeeping_account = Some(account);
            }
            Ok(Some(party))
        }
        Identified::NotRepresentable(why) => {
            let location = reader.location(&entry.path, entry.party);
            reader.note(entry.party, location, format!("the cash account's servicer is {why}; ISM/1 names a party by BIC or proprietary code, so it is left out"));
            reader.withhold("body.cash.servicer");
            if let Some((_, field, location)) = own_account {
                reader.note(
                    field,
                    location,
                    "the account in the cash servicer's sequence is the servicer's own account, not the instructing party's cash account; the servicer is left out, and so is its account",
                );
            }
            Ok(None)
        }
    }
}

/// The owner of the cash account: its LEI (`:95L::ALTE//`) over its BIC
/// (`:95P:`), as for the account owner; an owner by proprietary code or
/// name alone is left out and reported.
fn cash_owner(
    reader: &mut Reader<'_>,
    entry: &PartySequence<'_>,
) -> Result<Option<PartyId>, TranslateError> {
    let party_location = reader.location(&entry.path, entry.party);
    if let Some((field, generic)) = reader.at_most_one(entry.sequence, &entry.path, "95", "ALTE")? {
        if field.option() == "L" && generic.scheme.is_none() {
            let location = reader.location(&entry.path, field);
            single_line(field, &location)?;
            let lei = fields::lei_95l(generic.value, &location)?;
            reader.consume(field);
            reader.note(
                entry.party,
                party_location,
                "the cash account's owner is also given by its LEI; ISM/1 keeps one identifier, the LEI",
            );
            return PartyId::parse(lei.as_str())
                .map(Some)
                .map_err(|r| TranslateError::from_rejection(r, location));
        }
    }
    if entry.party.option() == "P" && entry.generic.scheme.is_none() {
        single_line(entry.party, &party_location)?;
        let bic = fields::bic_95p(entry.generic.value, &party_location)?;
        reader.consume(entry.party);
        return PartyId::parse(bic.as_str())
            .map(Some)
            .map_err(|r| TranslateError::from_rejection(r, party_location));
    }
    // Checks the field's format before reporting it.
    identify(reader, &entry.path, entry.party, entry.generic)?;
    reader.note(
        entry.party,
        party_location,
        "ISM/1 identifies a cash account's owner by BIC or LEI; an owner given by proprietary code or name alone is left out",
    );
    reader.withhold("body.cash.owner");
    Ok(None)
}

/// A party field in a form ISM/1 carries, or why not.
enum Identified {
    Party(Party),
    NotRepresentable(&'static str),
}

/// Reads the identification of a party field: `:95P:` (BIC) or `:95R:`
/// (data source scheme and proprietary code); options C, L, Q and S (a
/// country, an LEI alone, a name and address, an alternate id) have no
/// ISM/1 party. The field is not consumed.
fn identify(
    reader: &Reader<'_>,
    path: &str,
    field: &Field,
    generic: Generic<'_>,
) -> Result<Identified, TranslateError> {
    let location = reader.location(path, field);
    let why = match field.option() {
        "P" => {
            single_line(field, &location)?;
            if generic.scheme.is_some() {
                return Err(TranslateError::at(
                    TranslateCode::MtFieldFormat,
                    location,
                    ":95P: takes no data source scheme: write :QUAL//BIC, or use option R for a proprietary code",
                ));
            }
            let bic = fields::bic_95p(generic.value, &location)?;
            return Ok(Identified::Party(Party::by_bic(bic)));
        }
        "R" => {
            single_line(field, &location)?;
            let id = fields::proprietary_95r(&generic, &location)?;
            return Ok(Identified::Party(Party {
                bic: None,
                proprietary_id: Some(id),
                lei: None,
                safekeeping_account: None,
            }));
        }
        "Q" => "given by name and address only",
        "S" => "given by an alternate identification only",
        "L" => "given by its LEI only",
        "C" => "given by a country only",
        other => {
            return Err(TranslateError::at(
                TranslateCode::MtFieldFormat,
                location,
                format!("option {other} is not an option of a party field (95a): use P (BIC) or R (proprietary code)"),
            ))
        }
    };
    Ok(Identified::NotRepresentable(why))
}

/// Adds the LEI of `:95L::ALTE//` in the party's sequence.
fn with_lei(
    reader: &mut Reader<'_>,
    sequence: &Sequence,
    path: &str,
    mut party: Party,
) -> Result<Party, TranslateError> {
    if let Some((field, generic)) = reader.at_most_one(sequence, path, "95", "ALTE")? {
        if field.option() == "L" && generic.scheme.is_none() {
            let location = reader.location(path, field);
            single_line(field, &location)?;
            party.lei = Some(fields::lei_95l(generic.value, &location)?);
            reader.consume(field);
        }
    }
    Ok(party)
}

/// One E1 settlement-party or E2 cash-party sequence.
struct PartySequence<'s> {
    qualifier: &'s str,
    party: &'s Field,
    generic: Generic<'s>,
    sequence: &'s Sequence,
    path: String,
}

/// A kind of party sequence of sequence E and how its refusals read.
struct PartyBlock {
    /// `SETPRTY` (E1) or `CSHPRTY` (E2).
    name: &'static str,
    /// The qualifiers that name its party.
    qualifiers: &'static [&'static str],
    /// "settlement party" or "cash party", for sentences.
    what: &'static str,
    /// The qualifiers a sentence lists as examples.
    examples: &'static str,
    /// How the sentence refusing a repeated party names it.
    repeated: &'static str,
    /// Appended to that sentence.
    repeat_rule: &'static str,
}

const SETTLEMENT_PARTY_BLOCK: PartyBlock = PartyBlock {
    name: "SETPRTY",
    qualifiers: codes::SETTLEMENT_PARTIES,
    what: "settlement party",
    examples: ":95a::DEAG//, :95a::REAG//, :95a::PSET//…",
    repeated: "party",
    repeat_rule: " (SWIFT rule E84)",
};

const CASH_PARTY_BLOCK: PartyBlock = PartyBlock {
    name: "CSHPRTY",
    qualifiers: codes::CASH_PARTIES,
    what: "cash party",
    examples: ":95a::ACCW//, :95a::BENM//, :95a::DEBT//, :95a::PAYE//, :95a::INTM//",
    repeated: "cash party",
    repeat_rule: "",
};

/// The party sequences of one kind in sequence E: each names exactly one
/// party, and no party appears twice.
fn read_party_sequences<'s>(
    reader: &Reader<'_>,
    setdet: &'s Sequence,
    setdet_path: &str,
    block: &PartyBlock,
) -> Result<Vec<PartySequence<'s>>, TranslateError> {
    let mut found: Vec<PartySequence<'s>> = Vec::new();
    for sequence in setdet.sequences_named(block.name) {
        let path = reader.path(setdet_path, sequence);
        let mut named = sequence
            .fields()
            .filter(|f| f.number() == "95")
            .filter_map(|f| fields::generic(f).map(|g| (f, g)))
            .filter(|(_, g)| block.qualifiers.contains(&g.qualifier));
        let Some((party, generic)) = named.next() else {
            return Err(TranslateError::at(
                TranslateCode::MtFieldMissing,
                format!("{path}/:95a:"),
                format!(
                    "the {} sequence at line {} names no party ({})",
                    block.what, sequence.line, block.examples
                ),
            ));
        };
        if let Some((second, _)) = named.next() {
            return Err(TranslateError::at(
                TranslateCode::MtQualifierInvalid,
                reader.location(&path, second),
                format!(
                    "a {} sequence names one party; this one names a second at line {}",
                    block.what, second.line
                ),
            ));
        }
        if let Some(earlier) = found.iter().find(|p| p.qualifier == generic.qualifier) {
            return Err(TranslateError::at(
                TranslateCode::MtQualifierInvalid,
                reader.location(&path, party),
                format!(
                    "{} {} appears again (first at line {}); a party appears once per message{}",
                    block.repeated, generic.qualifier, earlier.party.line, block.repeat_rule
                ),
            ));
        }
        found.push(PartySequence {
            qualifier: generic.qualifier,
            party,
            generic,
            sequence,
            path,
        });
    }
    Ok(found)
}

/// The E1 sequences by party qualifier.
struct Parties<'s> {
    found: Vec<PartySequence<'s>>,
}

impl<'s> Parties<'s> {
    fn read(
        reader: &Reader<'_>,
        setdet: &'s Sequence,
        setdet_path: &str,
    ) -> Result<Parties<'s>, TranslateError> {
        let found = read_party_sequences(reader, setdet, setdet_path, &SETTLEMENT_PARTY_BLOCK)?;
        Ok(Parties { found })
    }

    fn get(&self, qualifier: &str) -> Option<&PartySequence<'s>> {
        self.found.iter().find(|p| p.qualifier == qualifier)
    }

    /// A party with its identification, LEI (`:95L::ALTE//`) and account (`:97A::SAFE//`).
    fn party(
        &self,
        reader: &mut Reader<'_>,
        entry: &PartySequence<'s>,
        party: Party,
    ) -> Result<Party, TranslateError> {
        reader.consume(entry.party);
        let mut party = with_lei(reader, entry.sequence, &entry.path, party)?;
        party.safekeeping_account =
            match reader.at_most_one(entry.sequence, &entry.path, "97", "SAFE")? {
                Some((field, generic)) if field.option() == "A" && generic.scheme.is_none() => {
                    let location = reader.location(&entry.path, field);
                    single_line(field, &location)?;
                    let account = fields::account_35x(generic.value, &location)?;
                    reader.consume(field);
                    Some(account)
                }
                _ => None,
            };
        Ok(party)
    }

    /// The counterparty's agent, which ISM/1 requires (ISM-1 §6.1 rule 5).
    /// Absent, it is left to the decoder, which reports it after the rules
    /// before it; the sentence it then gives is said here, in MT terms.
    fn counterparty(
        &self,
        reader: &mut Reader<'_>,
        role: Role,
        direction: Direction,
        payment: Payment,
    ) -> Result<Option<Party>, TranslateError> {
        let Some(entry) = self.get(role.qualifier) else {
            let mt = codes::instruction_type(direction, payment);
            let what = match direction {
                Direction::Deliver => {
                    "delivers securities, so it must name the receiving agent they go to"
                }
                Direction::Receive => {
                    "receives securities, so it must name the delivering agent they come from"
                }
            };
            reader.explain(
                role.member,
                isthmus_spec::ReasonCode::CounterpartyRequired,
                format!(
                    "this MT{mt} {what} (:95P::{q}// or :95R::{q}/<scheme>/): the counterparty's side is what the other instruction matches against (ISM-1 §6.1 rule 5); no settlement party sequence names it",
                    q = role.qualifier
                ),
            );
            return Ok(None);
        };
        match identify(reader, &entry.path, entry.party, entry.generic)? {
            Identified::Party(party) => self.party(reader, entry, party).map(Some),
            Identified::NotRepresentable(why) => Err(TranslateError::at(
                TranslateCode::NotRepresentable,
                reader.location(&entry.path, entry.party),
                format!("the {} is {why}; ISM/1 identifies it by BIC (:95P::{q}//) or by a proprietary code (:95R::{q}/<scheme>/)", role.name, q = role.qualifier),
            )),
        }
    }

    /// The own agent, SELL or BUYR (ISM/1 `member`), optional in ISM/1: one
    /// named in a form ISM/1 cannot carry is left out, reported and withheld.
    fn optional(
        &self,
        reader: &mut Reader<'_>,
        qualifier: &str,
        member: &str,
    ) -> Result<Stated<Party>, TranslateError> {
        let Some(entry) = self.get(qualifier) else {
            return Ok(Stated::Absent);
        };
        match identify(reader, &entry.path, entry.party, entry.generic)? {
            Identified::Party(party) => self.party(reader, entry, party).map(Stated::Read),
            Identified::NotRepresentable(why) => {
                let location = reader.location(&entry.path, entry.party);
                reader.note(entry.party, location, format!("the party is {why}; ISM/1 names a party by BIC or proprietary code, so it is left out"));
                reader.withhold(member);
                Ok(Stated::LeftOut)
            }
        }
    }

    /// PSET, by BIC.
    fn place_of_settlement(
        &self,
        reader: &mut Reader<'_>,
        setdet_path: &str,
    ) -> Result<Bic, TranslateError> {
        let Some(entry) = self.get("PSET") else {
            return Err(TranslateError::at(
                TranslateCode::MtFieldMissing,
                format!("{setdet_path}/E1/SETPRTY/:95P::PSET//"),
                "no settlement party sequence names the place of settlement (:95P::PSET//); ISM/1 requires the depository where the instruction settles",
            ));
        };
        let location = reader.location(&entry.path, entry.party);
        if entry.party.option() == "P" && entry.generic.scheme.is_none() {
            single_line(entry.party, &location)?;
            let bic = fields::bic_95p(entry.generic.value, &location)?;
            reader.consume(entry.party);
            return Ok(bic);
        }
        Err(TranslateError::at(
            TranslateCode::NotRepresentable,
            location,
            "the place of settlement is given by country, name or code; ISM/1 identifies the depository by BIC (:95P::PSET//)",
        ))
    }
}

/// The E2 sequences by party qualifier.
struct CashParties<'s> {
    found: Vec<PartySequence<'s>>,
}

impl<'s> CashParties<'s> {
    fn read(
        reader: &Reader<'_>,
        setdet: &'s Sequence,
        setdet_path: &str,
    ) -> Result<CashParties<'s>, TranslateError> {
        let found = read_party_sequences(reader, setdet, setdet_path, &CASH_PARTY_BLOCK)?;
        Ok(CashParties { found })
    }

    fn get(&self, qualifier: &str) -> Option<&PartySequence<'s>> {
        self.found.iter().find(|p| p.qualifier == qualifier)
    }

    /// Reports every field of the sequences for which `why` gives a reason
    /// (an empty reason keeps the sequence: the caller reads it).
    fn leave_out(&self, reader: &mut Reader<'_>, why: impl Fn(&str) -> String) {
        for entry in &self.found {
            let reason = why(entry.qualifier);
            if reason.is_empty() {
                continue;
            }
            for field in entry.sequence.fields() {
                let location = reader.location(&entry.path, field);
                reader.note(field, location, reason.clone());
            }
        }
    }
}

/// `:19A::<qualifier>//` in one of the E3 amount sequences.
pub(super) fn settlement_amount(
    reader: &mut Reader<'_>,
    setdet: &Sequence,
    setdet_path: &str,
    qualifier: &str,
) -> Result<Option<Money>, TranslateError> {
    let mut found: Option<(Money, usize)> = None;
    for amt in setdet.sequences_named("AMT") {
        let path = reader.path(setdet_path, amt);
        if let Some((field, generic)) = reader.at_most_one(amt, &path, "19", qualifier)? {
            let location = reader.location(&path, field);
            if let Some((_, line)) = found {
                return Err(TranslateError::at(
                    TranslateCode::MtQualifierInvalid,
                    location,
                    format!("amount {qualifier} appears again; the first is at line {line} (SWIFT rule E87)"),
                ));
            }
            reader.require_option(field, &location, &["A"])?;
            single_line(field, &location)?;
            if generic.scheme.is_some() {
                return Err(TranslateError::at(
                    TranslateCode::MtFieldFormat,
                    location,
                    ":19A: takes no data source scheme",
                ));
            }
            found = Some((fields::amount_19a(generic.value, &location)?, field.line));
            reader.consume(field);
        }
    }
    Ok(found.map(|(money, _)| money))
}

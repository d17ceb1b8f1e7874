//! MT540–MT543 → SettlementInstruction.

use isthmus_spec::body::{Direction, Party, Payment, SettlementInstruction};
use isthmus_spec::decimal::Money;
use isthmus_spec::ident::{Bic, Mic, PartyId};
use isthmus_spec::ids::Reference;

use super::{check_function, date_of, sender_reference, single_line, Reader};
use crate::error::{TranslateCode, TranslateError};
use crate::mt::codes;
use crate::mt::fields::{self, Generic};
use crate::mt::fin;
use crate::mt::text::{Field, Sequence};

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

    // B Trade Details: :98A::SETT//, :98A::TRAD//, :35B:, :94B::TRAD//EXCH/.
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

    // C Financial Instrument/Account: :36B::SETT//UNIT/, owner, :97A::SAFE//.
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

    // E Settlement Details: :22F::SETR//TRAD, E1 parties, E3 amount.
    let (setdet, setdet_path) = reader.one_sequence(root, "", "SETDET")?;
    if let Some((field, generic)) = reader.at_most_one(setdet, &setdet_path, "22", "SETR")? {
        // ISM/1 instructions settle trades: TRAD is implied; any other type is reported.
        if generic.scheme.is_none() && generic.value == "TRAD" && field.lines.len() == 1 {
            reader.consume(field);
        }
    }
    let parties = Parties::read(reader, setdet, &setdet_path)?;
    let settlement_amount = settlement_amount(reader, setdet, &setdet_path, "SETT")?;

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
        account_owner: Some(account_owner),
        safekeeping_account,
        securities_market: None,
        cash: None,
        delivering_agent: Some(parties.required(
            reader,
            "DEAG",
            "delivering agent",
            &setdet_path,
        )?),
        receiving_agent: Some(parties.required(reader, "REAG", "receiving agent", &setdet_path)?),
        seller: parties.optional(reader, "SELL")?,
        buyer: parties.optional(reader, "BUYR")?,
        place_of_settlement: parties.place_of_settlement(reader, &setdet_path)?,
        place_of_trade,
    })
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
                "\"{}\" names no ISIN; ISM/1 identifies securities by ISIN (ISIN US0378331005)",
                field.first()
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

/// The account owner: `:95L::ALTE//` (LEI); else `:95P::ACOW//` (BIC) in
/// sequence C; else, as the MT540–MT543 scope says the account owner sends
/// the message, the sender's BIC.
fn account_owner(
    reader: &mut Reader<'_>,
    fiac: &Sequence,
    path: &str,
) -> Result<PartyId, TranslateError> {
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
            .map_err(|r| TranslateError::from_rejection(r, location));
    }
    if let Some((field, generic)) = reader.at_most_one(fiac, path, "95", "ACOW")? {
        let location = reader.location(path, field);
        single_line(field, &location)?;
        let owner = match field.option() {
            "P" if generic.scheme.is_none() => fields::bic_95p(generic.value, &location)?.to_string(),
            // The standard gives ACOW options P and R (LEI under ALTE); an LEI
            // under ACOW is unambiguous, so it is read too.
            "L" if generic.scheme.is_none() => fields::lei_95l(generic.value, &location)?.to_string(),
            "P" | "L" => {
                return Err(TranslateError::at(
                    TranslateCode::MtFieldFormat,
                    location,
                    format!(":95{}: takes no data source scheme", field.option()),
                ))
            }
            _ => {
                return Err(TranslateError::at(
                    TranslateCode::NotRepresentable,
                    location,
                    "the account owner is given by a proprietary code or name; ISM/1 needs its BIC (:95P:) or LEI (:95L::ALTE//)",
                ))
            }
        };
        reader.consume(field);
        return PartyId::parse(&owner).map_err(|r| TranslateError::from_rejection(r, location));
    }
    let (address, location) = reader.sender();
    PartyId::parse(&fin::bic_of_address(address))
        .map_err(|r| TranslateError::from_rejection(r, location))
}

/// One E1 settlement-parties sequence.
struct PartySequence<'s> {
    qualifier: &'s str,
    party: &'s Field,
    generic: Generic<'s>,
    sequence: &'s Sequence,
    path: String,
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
        let mut found: Vec<PartySequence<'s>> = Vec::new();
        for sequence in setdet.sequences_named("SETPRTY") {
            let path = reader.path(setdet_path, sequence);
            let mut named = sequence
                .fields()
                .filter(|f| f.number() == "95")
                .filter_map(|f| fields::generic(f).map(|g| (f, g)))
                .filter(|(_, g)| codes::SETTLEMENT_PARTIES.contains(&g.qualifier));
            let Some((party, generic)) = named.next() else {
                return Err(TranslateError::at(
                    TranslateCode::MtFieldMissing,
                    format!("{path}/:95a:"),
                    format!("the settlement party sequence at line {} names no party (:95a::DEAG//, :95a::REAG//, :95a::PSET//…)", sequence.line),
                ));
            };
            if let Some((second, _)) = named.next() {
                return Err(TranslateError::at(
                    TranslateCode::MtQualifierInvalid,
                    reader.location(&path, second),
                    format!("a settlement party sequence names one party; this one names a second at line {}", second.line),
                ));
            }
            if let Some(earlier) = found.iter().find(|p| p.qualifier == generic.qualifier) {
                return Err(TranslateError::at(
                    TranslateCode::MtQualifierInvalid,
                    reader.location(&path, party),
                    format!(
                        "party {} appears again (first at line {}); a party appears once per message (SWIFT rule E84)",
                        generic.qualifier, earlier.party.line
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
        Ok(Parties { found })
    }

    fn get(&self, qualifier: &str) -> Option<&PartySequence<'s>> {
        self.found.iter().find(|p| p.qualifier == qualifier)
    }

    /// The BIC of a party field, or `None` if it names the party otherwise.
    fn bic(
        &self,
        reader: &Reader<'_>,
        entry: &PartySequence<'s>,
    ) -> Result<Option<Bic>, TranslateError> {
        let location = reader.location(&entry.path, entry.party);
        single_line(entry.party, &location)?;
        if entry.party.option() == "P" && entry.generic.scheme.is_none() {
            return fields::bic_95p(entry.generic.value, &location).map(Some);
        }
        Ok(None)
    }

    /// A party with its BIC, LEI (`:95L::ALTE//`) and account (`:97A::SAFE//`).
    fn party(
        &self,
        reader: &mut Reader<'_>,
        entry: &PartySequence<'s>,
        bic: Bic,
    ) -> Result<Party, TranslateError> {
        reader.consume(entry.party);
        let lei = match reader.at_most_one(entry.sequence, &entry.path, "95", "ALTE")? {
            Some((field, generic)) if field.option() == "L" && generic.scheme.is_none() => {
                let location = reader.location(&entry.path, field);
                single_line(field, &location)?;
                let lei = fields::lei_95l(generic.value, &location)?;
                reader.consume(field);
                Some(lei)
            }
            _ => None,
        };
        let safekeeping_account =
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
        Ok(Party {
            bic: Some(bic),
            proprietary_id: None,
            lei,
            safekeeping_account,
        })
    }

    /// DEAG or REAG, which ISM/1 requires with a BIC.
    fn required(
        &self,
        reader: &mut Reader<'_>,
        qualifier: &str,
        role: &str,
        setdet_path: &str,
    ) -> Result<Party, TranslateError> {
        let Some(entry) = self.get(qualifier) else {
            return Err(TranslateError::at(
                TranslateCode::MtFieldMissing,
                format!("{setdet_path}/E1/SETPRTY/:95P::{qualifier}//"),
                format!("no settlement party sequence names the {role} (:95P::{qualifier}//); ISM/1 requires it"),
            ));
        };
        match self.bic(reader, entry)? {
            Some(bic) => self.party(reader, entry, bic),
            None => Err(TranslateError::at(
                TranslateCode::NotRepresentable,
                reader.location(&entry.path, entry.party),
                format!("the {role} is given by a proprietary code, name or LEI; ISM/1 identifies it by BIC (:95P::{qualifier}//)"),
            )),
        }
    }

    /// SELL or BUYR, optional in ISM/1: one not named by BIC is left out and reported.
    fn optional(
        &self,
        reader: &mut Reader<'_>,
        qualifier: &str,
    ) -> Result<Option<Party>, TranslateError> {
        let Some(entry) = self.get(qualifier) else {
            return Ok(None);
        };
        match self.bic(reader, entry)? {
            Some(bic) => self.party(reader, entry, bic).map(Some),
            None => {
                let location = reader.location(&entry.path, entry.party);
                reader.note(entry.party, location, "ISM/1 names a party by BIC; a party given by proprietary code, name or LEI alone is left out");
                Ok(None)
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
                "no settlement party sequence names the place of settlement (:95P::PSET//); ISM/1 requires it",
            ));
        };
        match self.bic(reader, entry)? {
            Some(bic) => {
                reader.consume(entry.party);
                Ok(bic)
            }
            None => Err(TranslateError::at(
                TranslateCode::NotRepresentable,
                reader.location(&entry.path, entry.party),
                "the place of settlement is given by country or name; ISM/1 identifies the depository by BIC (:95P::PSET//)",
            )),
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

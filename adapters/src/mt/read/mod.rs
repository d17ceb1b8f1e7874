//! MT → ISM/1: reads the sequence tree of one MT540–MT548 into an ISM/1 body.
//!
//! Reading is tolerant of what ISM/1 does not need and strict about what it
//! does: every field and sequence the body needs is checked (format,
//! qualifier, value); fields ISM/1 has no member for are read, left out and
//! listed in [`Translation::unrepresented`] under their MT location, never
//! dropped silently. Members the message leaves implied and its routing
//! supplies (the sender as account owner, the receiver as the instructing
//! party's own agent), and times read without a UTC offset, are listed in
//! [`Translation::derived`] with the location they came from; members the
//! message states in a form ISM/1 cannot carry, in [`Translation::withheld`].
//! Cross-member rules are left to the ISM/1 decoder, so they are reported in
//! ISM-1's order, each placed at its MT field.

mod confirmation;
mod instruction;
mod status;

use isthmus_spec::quote::quoted;
use std::collections::BTreeSet;

use isthmus_spec::ident::Bic;
use isthmus_spec::{Body, ReasonCode, Rejection};

use super::codes::{self, MessageKind};
use super::fields::{self, Generic};
use super::fin::{self, FinMessage};
use super::text::{Field, Sequence};
use crate::error::{Derived, TranslateCode, TranslateError, Translation, Unrepresented};

/// Reads one parsed MT message into an ISM/1 body and runs the ISM/1 checks on it.
pub(crate) fn read(
    kind: MessageKind,
    fin: &FinMessage<'_>,
    root: &Sequence,
) -> Result<Translation<Body>, TranslateError> {
    let mut reader = Reader::new(kind, fin);
    reader.validate(root)?;
    let body = match kind {
        MessageKind::Instruction(direction, payment) => {
            Body::SettlementInstruction(instruction::read(&mut reader, root, direction, payment)?)
        }
        MessageKind::Confirmation(direction, payment) => {
            Body::SettlementConfirmation(confirmation::read(&mut reader, root, direction, payment)?)
        }
        MessageKind::Status => Body::InstructionStatus(status::read(&mut reader, root)?),
    };
    // The ISM/1 decoder applies the cross-member rules (settlement date not
    // before trade date, amount exactly for AGAINST_PAYMENT, a reason for
    // REJECTED and UNMATCHED…); its refusal is placed at the MT field.
    // A missing counterparty agent (rule 5) is left to the decoder too, so
    // the rules are reported in their order (a settlement date before the
    // trade date first).
    let checked = Body::from_json(body.kind(), &body.to_json(), "body")
        .map_err(|rejection| reader.place(kind, rejection))?;
    let mut derived = std::mem::take(&mut reader.derived);
    derived.sort_by(|a, b| a.field.cmp(&b.field));
    let mut withheld = std::mem::take(&mut reader.withheld);
    withheld.sort();
    withheld.dedup();
    let unrepresented = reader.finish(root);
    Ok(Translation {
        value: checked,
        unrepresented,
        derived,
        withheld,
    })
}

/// Where an ISM/1 member lives in MT, for refusals of the cross-member rules.
fn mt_location_of(kind: MessageKind, ism_path: &str) -> Option<&'static str> {
    Some(match (kind, ism_path) {
        (MessageKind::Instruction(..), "body.settlement_date") => "B/TRADDET/:98A::SETT//",
        (MessageKind::Instruction(..), "body.settlement_amount") => "E/SETDET/E3/AMT/:19A::SETT//",
        (MessageKind::Instruction(..), "body.receiving_agent") => {
            "E/SETDET/E1/SETPRTY/:95a::REAG//"
        }
        (MessageKind::Instruction(..), "body.delivering_agent") => {
            "E/SETDET/E1/SETPRTY/:95a::DEAG//"
        }
        (MessageKind::Confirmation(..), "body.settlement_amount") => "E/SETDET/E3/AMT/:19A::ESTT//",
        (MessageKind::Confirmation(..), "body.cash_journal") => "B/TRADDET/:70E::SPRO// /CJNL/",
        (MessageKind::Status, "body.reason") => "A/GENL/A2/STAT/A2a/REAS",
        _ => return None,
    })
}

/// Reading state: which fields were used, what was left out, and what was
/// derived rather than read.
pub(crate) struct Reader<'m> {
    kind: MessageKind,
    sender: &'m str,
    sender_location: &'static str,
    receiver: &'m str,
    receiver_location: &'static str,
    consumed: BTreeSet<usize>,
    notes: Vec<(usize, Unrepresented)>,
    /// Addresses of blocks 1 and 2 that were consulted but give nothing.
    routing_notes: Vec<Unrepresented>,
    derived: Vec<Derived>,
    withheld: Vec<String>,
    /// The reader's own sentence for an ISM/1 rule the decoder reports at a
    /// member (`body.receiving_agent`…), said in MT terms.
    explanations: Vec<(String, ReasonCode, String)>,
}

/// Which address of the message's routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Routing {
    /// Who sent the message: block 1 of an input message, the message input
    /// reference in block 2 of an output message.
    Sender,
    /// Who it was sent to: block 2 of an input message, block 1 of an output message.
    Receiver,
}

/// The name ISM/1 gives a message kind, for sentences.
fn ism_kind_name(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Instruction(..) => "SettlementInstruction",
        MessageKind::Confirmation(..) => "SettlementConfirmation",
        MessageKind::Status => "InstructionStatus",
    }
}

impl<'m> Reader<'m> {
    fn new(kind: MessageKind, fin: &FinMessage<'m>) -> Reader<'m> {
        Reader {
            kind,
            sender: fin.sender,
            sender_location: fin.sender_location,
            receiver: fin.receiver,
            receiver_location: fin.receiver_location,
            consumed: BTreeSet::new(),
            notes: Vec::new(),
            routing_notes: Vec::new(),
            derived: Vec::new(),
            withheld: Vec::new(),
            explanations: Vec::new(),
        }
    }

    /// The BIC of the sender's or the receiver's address and the location
    /// it is reported under (`{1:} sender`, `{2:} receiver`…), or `None` for
    /// an Isthmus placeholder address, from which nothing is derived. An
    /// address whose BIC breaks ISM/1's BIC rules (an unknown country…) gives
    /// nothing either: the message itself is fine and its routing is not the
    /// adapter's to judge, so nothing is derived from it and the address is
    /// listed as left out (`{1:} sender`), once.
    pub fn routing_bic(&mut self, which: Routing) -> Option<(Bic, String)> {
        let (address, location, role) = match which {
            Routing::Sender => (self.sender, self.sender_location, "sender"),
            Routing::Receiver => (self.receiver, self.receiver_location, "receiver"),
        };
        if fin::is_placeholder(address) {
            return None;
        }
        let source = format!("{location} {role}");
        match Bic::parse(&fin::bic_of_address(address)) {
            Ok(bic) => Some((bic, source)),
            Err(rejection) => {
                if self.routing_notes.iter().all(|n| n.field != source) {
                    self.routing_notes.push(Unrepresented {
                        field: source,
                        reason: format!(
                            "the {role}'s address {address} is no BIC ISM/1 accepts ({}: {}); nothing is derived from it",
                            rejection.code.as_str(),
                            rejection.message
                        ),
                    });
                }
                None
            }
        }
    }

    /// Records a member the message states in a form ISM/1 cannot carry (it
    /// is listed as left out by [`Reader::note`]): a gateway must not fill
    /// it in from elsewhere (`Translation::withheld`).
    pub fn withhold(&mut self, member: &str) {
        self.withheld.push(member.to_string());
    }

    /// Says in MT terms why the decoder's rule `code` at `member` fails,
    /// should it fail (the decoder's own sentence is kept otherwise).
    pub fn explain(&mut self, member: &str, code: ReasonCode, message: impl Into<String>) {
        self.explanations
            .push((member.to_string(), code, message.into()));
    }

    /// Records a member the message did not state but implies.
    pub fn derive(&mut self, field: &str, source: impl Into<String>, reason: impl Into<String>) {
        self.derived.push(Derived {
            field: field.to_string(),
            source: source.into(),
            reason: reason.into(),
        });
    }

    /// The location of a subsequence: `E/SETDET/E1/SETPRTY`.
    pub fn path(&self, parent: &str, sequence: &Sequence) -> String {
        let own = match codes::sequence_letter(self.kind, &sequence.name) {
            Some(letter) => format!("{letter}/{}", sequence.name),
            None => sequence.name.clone(),
        };
        if parent.is_empty() {
            own
        } else {
            format!("{parent}/{own}")
        }
    }

    /// The location of a field: `B/TRADDET/:98A::SETT//`.
    pub fn location(&self, path: &str, field: &Field) -> String {
        format!("{path}/{}", fields::display(field))
    }

    /// Marks a field as carried into the ISM/1 body.
    pub fn consume(&mut self, field: &Field) {
        self.consumed.insert(field.id);
    }

    /// Records content of a used field that ISM/1 does not carry.
    pub fn note(&mut self, field: &Field, location: String, reason: impl Into<String>) {
        self.consumed.insert(field.id);
        self.notes.push((
            field.id,
            Unrepresented {
                field: location,
                reason: reason.into(),
            },
        ));
    }

    /// The single subsequence `name` of `parent`: missing → `MT_SEQUENCE_MISSING`.
    pub fn one_sequence<'s>(
        &self,
        parent: &'s Sequence,
        parent_path: &str,
        name: &str,
    ) -> Result<(&'s Sequence, String), TranslateError> {
        let mut found = parent.sequences().filter(|s| s.name == name);
        let first = found.next();
        let path = match first {
            Some(sequence) => self.path(parent_path, sequence),
            None => self.path(
                parent_path,
                &Sequence {
                    name: name.to_string(),
                    line: 0,
                    items: Vec::new(),
                },
            ),
        };
        let Some(first) = first else {
            return Err(TranslateError::at(
                TranslateCode::MtSequenceMissing,
                path,
                format!("the mandatory sequence {name} (:16R:{name} … :16S:{name}) is missing"),
            ));
        };
        if let Some(second) = found.next() {
            return Err(TranslateError::at(
                TranslateCode::MtBlockStructure,
                path,
                format!(
                    "sequence {name} appears again at line {}; it is not repetitive",
                    second.line
                ),
            ));
        }
        Ok((first, path))
    }

    /// Sequence C FIAC, once: it is repetitive in MT540–MT547, but an ISM/1
    /// body has one quantity (`why` says so in the refusal).
    pub fn single_account<'s>(
        &self,
        root: &'s Sequence,
        why: &str,
    ) -> Result<(&'s Sequence, String), TranslateError> {
        let mut accounts = root.sequences_named("FIAC");
        if let (Some(_), Some(second)) = (accounts.next(), accounts.next()) {
            return Err(TranslateError::at(
                TranslateCode::NotRepresentable,
                self.path("", second),
                format!("sequence FIAC repeats at line {}: {why}", second.line),
            ));
        }
        self.one_sequence(root, "", "FIAC")
    }

    /// The fields of `sequence` with tag number `number` and qualifier `qualifier`.
    pub fn qualified<'s>(
        &self,
        sequence: &'s Sequence,
        number: &str,
        qualifier: &str,
    ) -> Vec<(&'s Field, Generic<'s>)> {
        sequence
            .fields()
            .filter(|field| field.number() == number)
            .filter_map(|field| fields::generic(field).map(|g| (field, g)))
            .filter(|(_, g)| g.qualifier == qualifier)
            .collect()
    }

    /// At most one field `:<number>a::<qualifier>`; a second one → `MT_QUALIFIER_INVALID`.
    pub fn at_most_one<'s>(
        &self,
        sequence: &'s Sequence,
        path: &str,
        number: &str,
        qualifier: &str,
    ) -> Result<Option<(&'s Field, Generic<'s>)>, TranslateError> {
        let mut found = self.qualified(sequence, number, qualifier).into_iter();
        let first = found.next();
        if let (Some((field, _)), Some((second, _))) = (&first, found.next()) {
            return Err(TranslateError::at(
                TranslateCode::MtQualifierInvalid,
                self.location(path, field),
                format!(
                    "qualifier {qualifier} appears again at line {} (first at line {}); it is not repetitive here",
                    second.line, field.line
                ),
            ));
        }
        Ok(first)
    }

    /// Exactly one field with the tag number of `tag` (e.g. `20C`) and
    /// `qualifier`: missing → `MT_FIELD_MISSING` at `:20C::SEME//`.
    pub fn exactly_one<'s>(
        &self,
        sequence: &'s Sequence,
        path: &str,
        tag: &str,
        qualifier: &str,
        what: &str,
    ) -> Result<(&'s Field, Generic<'s>), TranslateError> {
        let number = tag.get(..2).unwrap_or(tag);
        self.at_most_one(sequence, path, number, qualifier)?
            .ok_or_else(|| {
                TranslateError::at(
                    TranslateCode::MtFieldMissing,
                    format!("{path}/:{tag}::{qualifier}//"),
                    format!(
                        "sequence {} has no {what} (:{tag}::{qualifier}//)",
                        sequence.name
                    ),
                )
            })
    }

    /// Requires the letter option of a field to be one of `options`.
    pub fn require_option(
        &self,
        field: &Field,
        location: &str,
        options: &[&str],
    ) -> Result<(), TranslateError> {
        if options.contains(&field.option()) {
            return Ok(());
        }
        Err(TranslateError::at(
            TranslateCode::MtFieldFormat,
            location,
            format!(
                "option {} is not used for this field here; expected option {}",
                if field.option().is_empty() {
                    "(none)"
                } else {
                    field.option()
                },
                options.join(" or ")
            ),
        ))
    }

    /// Checks every field before any is mapped: characters in the `x` set,
    /// qualifiers known for their field, top-level sequences in order.
    fn validate(&self, root: &Sequence) -> Result<(), TranslateError> {
        let order = codes::top_level_order(self.kind);
        let mut last = 0;
        for sequence in root.sequences() {
            let path = self.path("", sequence);
            let Some(position) = order.iter().position(|name| *name == sequence.name) else {
                return Err(TranslateError::at(
                    TranslateCode::MtBlockStructure,
                    path,
                    format!(
                        "{} is not a sequence of this message type; expected {}",
                        sequence.name,
                        order.join(", ")
                    ),
                ));
            };
            if position < last {
                return Err(TranslateError::at(
                    TranslateCode::MtBlockStructure,
                    path,
                    format!(
                        "sequence {} at line {} is out of order; the standard orders {}",
                        sequence.name,
                        sequence.line,
                        order.join(", ")
                    ),
                ));
            }
            last = position;
            self.validate_sequence(sequence, &path)?;
        }
        Ok(())
    }

    fn validate_sequence(&self, sequence: &Sequence, path: &str) -> Result<(), TranslateError> {
        for field in sequence.fields() {
            let location = self.location(path, field);
            for line in &field.lines {
                if let Some(c) = fields::first_non_x(line) {
                    return Err(TranslateError::at(
                        TranslateCode::MtFieldFormat,
                        location,
                        format!("'{}' (U+{:04X}) at line {} is outside the SWIFT x character set (A-Z a-z 0-9 / - ? : ( ) . , ' + space)", c.escape_default(), u32::from(c), field.line),
                    ));
                }
            }
            if let Some(known) = codes::known_qualifiers(self.kind, &sequence.name, field.number())
            {
                let Some(generic) = fields::generic(field) else {
                    // ":FOO//…": a qualifier of the wrong length is a wrong qualifier.
                    if let Some(loose) = fields::loose_qualifier(field) {
                        return Err(TranslateError::at(
                            TranslateCode::MtQualifierInvalid,
                            format!("{path}/:{}::{loose}//", field.tag),
                            format!(
                                "{loose} is not a qualifier of field :{}a: in sequence {}: qualifiers have 4 characters, here one of {}",
                                field.number(),
                                sequence.name,
                                known.join(", ")
                            ),
                        ));
                    }
                    return Err(TranslateError::at(
                        TranslateCode::MtFieldFormat,
                        location,
                        format!(":{}: here is a qualified field: it starts with :QUALIFIER// or :QUALIFIER/SCHEME/ (a 4-character qualifier, then a data source scheme of 1 to 8 upper-case letters or digits, or none, between slashes)", field.tag),
                    ));
                };
                if !known.contains(&generic.qualifier) {
                    return Err(TranslateError::at(
                        TranslateCode::MtQualifierInvalid,
                        location,
                        format!(
                            "{} is not a qualifier of field :{}a: in sequence {}; expected one of {}",
                            generic.qualifier,
                            field.number(),
                            sequence.name,
                            known.join(", ")
                        ),
                    ));
                }
            }
        }
        for child in sequence.sequences() {
            self.validate_sequence(child, &self.path(path, child))?;
        }
        Ok(())
    }

    /// Places an ISM/1 cross-member refusal at its MT field, with the
    /// reader's own sentence for a member it explained.
    fn place(&self, kind: MessageKind, mut rejection: Rejection) -> TranslateError {
        let location = rejection
            .field
            .as_deref()
            .and_then(|path| mt_location_of(kind, path))
            .map(str::to_string)
            .or(rejection.field.clone())
            .unwrap_or_else(|| "body".to_string());
        if let Some((_, _, message)) = self.explanations.iter().find(|(member, code, _)| {
            *code == rejection.code && rejection.field.as_deref() == Some(member.as_str())
        }) {
            rejection.message = message.clone();
        }
        TranslateError::from_rejection(rejection, location)
    }

    /// What ISM/1 does not carry: the notes, and every field never used, in message order.
    /// Addresses of blocks 1 and 2 come first, sender before receiver.
    fn finish(mut self, root: &Sequence) -> Vec<Unrepresented> {
        let mut routing = std::mem::take(&mut self.routing_notes);
        routing.sort_by_key(|note| note.field.ends_with("receiver"));
        let mut left: Vec<(usize, Unrepresented)> = std::mem::take(&mut self.notes);
        let kind_name = ism_kind_name(self.kind);
        let mut stack: Vec<(&Sequence, String)> =
            root.sequences().map(|s| (s, self.path("", s))).collect();
        stack.reverse();
        while let Some((sequence, path)) = stack.pop() {
            for field in sequence.fields() {
                if !self.consumed.contains(&field.id) {
                    left.push((
                        field.id,
                        Unrepresented {
                            field: self.location(&path, field),
                            reason: format!("ISM/1 {kind_name} has no member for this field; it was read and left out"),
                        },
                    ));
                }
            }
            let mut children: Vec<(&Sequence, String)> = sequence
                .sequences()
                .map(|s| (s, self.path(&path, s)))
                .collect();
            children.reverse();
            stack.extend(children);
        }
        left.sort_by_key(|(id, _)| *id);
        routing.extend(left.into_iter().map(|(_, note)| note));
        routing
    }
}

/// `:23G:` function of the message: `4!c[/4!c]`; ISM/1 only carries the
/// function `expected` without subfunction (a copy or duplicate must not
/// become a second instruction).
pub(crate) fn check_function(
    reader: &mut Reader<'_>,
    genl: &Sequence,
    path: &str,
    expected: &str,
) -> Result<(), TranslateError> {
    let mut found = genl.fields().filter(|f| f.tag == "23G");
    let Some(field) = found.next() else {
        return Err(TranslateError::at(
            TranslateCode::MtFieldMissing,
            format!("{path}/:23G:"),
            format!("the function of the message (:23G:) is missing; expected {expected}"),
        ));
    };
    let location = reader.location(path, field);
    if let Some(second) = found.next() {
        return Err(TranslateError::at(
            TranslateCode::MtFieldFormat,
            location,
            format!(":23G: appears again at line {}", second.line),
        ));
    }
    let value = field.first();
    let (function, subfunction) = match value.split_once('/') {
        Some((function, sub)) => (function, Some(sub)),
        None => (value, None),
    };
    let well_formed = field.lines.len() == 1
        && fields::code_4c(function, &location).is_ok()
        && subfunction.is_none_or(|sub| fields::code_4c(sub, &location).is_ok());
    if !well_formed {
        return Err(TranslateError::at(
            TranslateCode::MtFieldFormat,
            location,
            format!(
                "{value} is not a function of the message 4!c[/4!c], e.g. {expected}",
                value = quoted(value)
            ),
        ));
    }
    if function != expected || subfunction.is_some() {
        return Err(TranslateError::at(
            TranslateCode::NotRepresentable,
            location,
            format!(
                "the function {value} has no ISM/1 counterpart; ISM/1 {} carries only {expected}",
                ism_kind_name(reader.kind),
                value = quoted(value)
            ),
        ));
    }
    reader.consume(field);
    Ok(())
}

/// The sender's message reference `:20C::SEME//` (16x). For an instruction
/// it is the ISM/1 `instruction_id`; for an advice (confirmation, status) it
/// is the advice's own reference, which ISM/1 keeps in its envelope, not the
/// body, so the caller drops it.
pub(crate) fn sender_reference(
    reader: &mut Reader<'_>,
    genl: &Sequence,
    path: &str,
) -> Result<isthmus_spec::ids::Reference, TranslateError> {
    let (field, generic) =
        reader.exactly_one(genl, path, "20C", "SEME", "sender's message reference")?;
    let location = reader.location(path, field);
    reader.require_option(field, &location, &["C"])?;
    single_line(field, &location)?;
    let reference = fields::reference_16x(generic.value, &location)?;
    reader.consume(field);
    Ok(reference)
}

/// Requires a single-line field.
pub(crate) fn single_line(field: &Field, location: &str) -> Result<(), TranslateError> {
    if field.lines.len() == 1 {
        Ok(())
    } else {
        Err(TranslateError::at(
            TranslateCode::MtFieldFormat,
            location,
            format!(
                "the field has {} lines; its format has one",
                field.lines.len()
            ),
        ))
    }
}

/// A date field `:98a:` as an ISM/1 date: option A `8!n`; options C
/// (`8!n6!n`) and E (`8!n6!n[,3n][/[N]2!n[2!n]]`) also carry a time, which
/// ISM/1 dates do not: the field is checked whole, its calendar date taken
/// as written and the time recorded as left out; option B (a date code such
/// as WISS, when issued) has no calendar date.
pub(crate) fn date_of(
    reader: &mut Reader<'_>,
    field: &Field,
    generic: Generic<'_>,
    location: String,
) -> Result<isthmus_spec::time::Date, TranslateError> {
    single_line(field, &location)?;
    let option = field.option();
    if option == "B" {
        return Err(TranslateError::at(
            TranslateCode::NotRepresentable,
            location,
            format!(
                "the date is given as the code {}, not a calendar date; ISM/1 needs a date",
                quoted(generic.value)
            ),
        ));
    }
    if generic.scheme.is_some() {
        return Err(TranslateError::at(
            TranslateCode::MtFieldFormat,
            location,
            format!(
                ":98{option}: takes no data source scheme: write :{}//",
                generic.qualifier
            ),
        ));
    }
    match option {
        "A" => {
            let date = fields::date_8n(generic.value, &location)?;
            reader.consume(field);
            Ok(date)
        }
        "C" | "E" => {
            // The whole field is checked (hour 00–23, minute, second, the
            // decimals and UTC indicator of :98E:); the calendar date is
            // taken as written, never shifted by the indicator, and the time
            // of day is left out and listed, not derived.
            let date = fields::date_of_98(option, generic.value, &location)?;
            reader.note(
                field,
                location,
                "ISM/1 keeps the date as written; the time of day (and any UTC indicator) is left out",
            );
            Ok(date)
        }
        _ => Err(TranslateError::at(
            TranslateCode::MtFieldFormat,
            location,
            format!("option {option} is not an option of a date field here; expected A, B, C or E"),
        )),
    }
}

//! The routing a business application header states: who sent the message
//! (`Fr`) and who receives it (`To`), by BIC or LEI, with the element each
//! came from. An instruction leaves its own side implied by exactly this
//! routing (`sese023.rs` derives from it).
//!
//! Read from `Fr` and `To` (head.001.001.02 `Party44Choice`, .04
//! `Party51Choice`): `FIId/FinInstnId/BICFI` and `FIId/FinInstnId/LEI` of a
//! financial institution, `OrgId/Id/OrgId/AnyBIC` and `OrgId/Id/OrgId/LEI`
//! of an organisation. Other identifications (clearing system member ids,
//! names, proprietary ids) identify nobody ISM/1 can name. A value that
//! breaks ISM/1's BIC or LEI rules (a bad country code, check digits…) is
//! kept apart ([`Address::invalid_bic`], [`Address::invalid_lei`]): the message itself is fine — its routing
//! is the transport's to judge, not ours — so it is not refused, but nothing
//! is derived from it, and where a member would have been derived from it
//! the header element is listed as left out (`implied.rs`). The MT reader
//! treats a block 1 or 2 address the same way.
//!
//! A BIC of 11 characters whose branch is `XXX` (the primary office) is
//! taken as its 8-character form, as the MT reader takes the BIC of a
//! block 1 or 2 logical terminal address, so that the same sender reads the
//! same in both dialects.

use isthmus_spec::ident::{Bic, Lei};

use super::read::Node;
use super::schema::ComplexType;
use super::schema_tables as t;
use crate::error::TranslateError;

/// A routing identity and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located<T> {
    /// The value.
    pub(crate) value: T,
    /// Its element, e.g. `/AppHdr/Fr/FIId/FinInstnId/BICFI`.
    pub(crate) path: String,
}

/// One end of the routing: what of its identification ISM/1 can use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Address {
    /// Its BIC, if the header gives a valid one.
    pub(crate) bic: Option<Located<Bic>>,
    /// Its LEI, if the header gives a valid one.
    pub(crate) lei: Option<Located<Lei>>,
    /// A BIC the header gives that breaks ISM/1's BIC rules, with why.
    pub(crate) invalid_bic: Option<Located<String>>,
    /// An LEI the header gives that breaks ISM/1's LEI rules, with why.
    pub(crate) invalid_lei: Option<Located<String>>,
}

/// Sender and receiver of a message with a business application header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Routing {
    /// `Fr`: the sender, for an instruction the instructing party (the account owner or its agent).
    pub(crate) from: Address,
    /// `To`: the receiver, for an instruction the account servicer.
    pub(crate) to: Address,
}

/// The content models of `Fr`/`To` in one header version.
struct Types {
    party: &'static ComplexType,
    institution: &'static ComplexType,
    institution_id: &'static ComplexType,
    organisation: &'static ComplexType,
    organisation_choice: &'static ComplexType,
    organisation_id: &'static ComplexType,
}

const HEAD_02: Types = Types {
    party: &t::PARTY_44_CHOICE,
    institution: &t::BRANCH_AND_FINANCIAL_INSTITUTION_IDENTIFICATION_6,
    institution_id: &t::FINANCIAL_INSTITUTION_IDENTIFICATION_18,
    organisation: &t::PARTY_IDENTIFICATION_135,
    organisation_choice: &t::PARTY_38_CHOICE,
    organisation_id: &t::ORGANISATION_IDENTIFICATION_29,
};

const HEAD_04: Types = Types {
    party: &t::PARTY_51_CHOICE,
    institution: &t::BRANCH_AND_FINANCIAL_INSTITUTION_IDENTIFICATION_8,
    institution_id: &t::FINANCIAL_INSTITUTION_IDENTIFICATION_23,
    organisation: &t::PARTY_IDENTIFICATION_272,
    organisation_choice: &t::PARTY_52_CHOICE,
    organisation_id: &t::ORGANISATION_IDENTIFICATION_39,
};

/// The routing of a checked header (`document.rs` accepted its namespace).
pub(crate) fn read(header: &Node<'_>) -> Result<Routing, TranslateError> {
    let types = if header.namespace().ends_with("head.001.001.02") {
        &HEAD_02
    } else {
        &HEAD_04
    };
    Ok(Routing {
        from: address(header, "Fr", types)?,
        to: address(header, "To", types)?,
    })
}

fn address(header: &Node<'_>, name: &str, types: &Types) -> Result<Address, TranslateError> {
    let Some(party) = header.node(name, types.party)? else {
        return Ok(Address::default());
    };
    let (bic_name, holder) = if let Some(institution) = party.node("FIId", types.institution)? {
        let id = institution.required_node("FinInstnId", types.institution_id, "")?;
        ("BICFI", Some(id))
    } else if let Some(organisation) = party.node("OrgId", types.organisation)? {
        let id = match organisation.node("Id", types.organisation_choice)? {
            Some(choice) => choice.node("OrgId", types.organisation_id)?,
            None => None,
        };
        ("AnyBIC", id)
    } else {
        ("", None)
    };
    let Some(holder) = holder else {
        return Ok(Address::default());
    };
    let mut address = Address::default();
    if let Some(leaf) = holder.leaf(bic_name) {
        let text = leaf.text().trim();
        let text = match text.strip_suffix("XXX") {
            Some(institution) if text.len() == 11 => institution,
            _ => text,
        };
        let path = leaf.path().to_string();
        match Bic::parse(text) {
            Ok(value) => address.bic = Some(Located { value, path }),
            Err(rejection) => {
                address.invalid_bic = Some(Located {
                    value: rejection.message,
                    path,
                })
            }
        }
    }
    if let Some(leaf) = holder.leaf("LEI") {
        let path = leaf.path().to_string();
        match Lei::parse(leaf.text().trim()) {
            Ok(value) => address.lei = Some(Located { value, path }),
            Err(rejection) => {
                address.invalid_lei = Some(Located {
                    value: rejection.message,
                    path,
                })
            }
        }
    }
    Ok(address)
}

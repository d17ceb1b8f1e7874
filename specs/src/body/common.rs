//! Building blocks shared by several bodies (ISM-1 §6.0).

use crate::decimal::Quantity;
use crate::ident::{Bic, Isin, Lei, Mic, PartyId};
use crate::ids::{Counter, Hex32, ReasonCodeText, Reference, Text};
use crate::json::{child_path, ism_enum, ism_object, Rules};
use crate::quote::quoted;
use crate::reason::{ReasonCode, Rejection};

ism_enum! {
    /// Which way securities move for the instructing party (sese.023 `SctiesMvmntTp`).
    pub enum Direction {
        /// The party delivers securities (`DELI`).
        Deliver = "DELIVER",
        /// The party receives securities (`RECE`).
        Receive = "RECEIVE",
    }
}

ism_enum! {
    /// Whether cash moves against the securities (sese.023 `Pmt`).
    pub enum Payment {
        /// Delivery versus payment (`APMT`).
        AgainstPayment = "AGAINST_PAYMENT",
        /// Free of payment (`FREE`).
        FreeOfPayment = "FREE_OF_PAYMENT",
    }
}

ism_enum! {
    /// One of the two legs of a delivery-versus-payment settlement.
    pub enum Leg {
        /// The securities move from seller to buyer.
        Securities = "SECURITIES",
        /// The cash moves from buyer to seller.
        Cash = "CASH",
    }
}

ism_object! {
    /// A settlement party (sese.023 `PartyIdentificationAndAccount`): an
    /// institution by BIC or by a proprietary code (exactly one of the two,
    /// as in ISO 20022's `Id` choice), optionally its LEI and the safekeeping
    /// account it uses (ISM-1 §6.0.1).
    pub struct Party {
        /// The institution's BIC (`Id/AnyBIC`; MT `:95P:`).
        pub bic: Option<Bic>,
        /// The institution's code at the place of settlement (`Id/PrtryId`;
        /// MT `:95R:`), such as a DTC participant number.
        pub proprietary_id: Option<ProprietaryId>,
        /// Its LEI (`LEI`; MT `:95L::ALTE//`), if known.
        pub lei: Option<Lei>,
        /// Its safekeeping account at the place of settlement (`SfkpgAcct/Id`).
        pub safekeeping_account: Option<Reference>,
    }
}

impl Rules for Party {
    fn check(&self, path: &str) -> Result<(), Rejection> {
        // ISM-1 §6.0.1 rule 1: the party's identification is a choice.
        match (&self.bic, &self.proprietary_id) {
            (Some(_), None) | (None, Some(_)) => Ok(()),
            (None, None) => Err(Rejection::at(
                ReasonCode::PartyIdChoice,
                path,
                "a party must be identified by a bic or by a proprietary_id; it has neither",
            )),
            (Some(_), Some(_)) => Err(Rejection::at(
                ReasonCode::PartyIdChoice,
                path,
                "a party is identified by a bic or by a proprietary_id, not both",
            )),
        }
    }
}

impl Party {
    /// A party identified by its BIC alone.
    pub fn by_bic(bic: Bic) -> Party {
        Party {
            bic: Some(bic),
            proprietary_id: None,
            lei: None,
            safekeeping_account: None,
        }
    }

    /// Whether `self` and `other` name the same institution (ISM-1 §6.1 duty 6):
    /// the same BIC (compared on its first eight characters when either has
    /// no branch code), or the same proprietary code from the same issuer.
    /// A BIC and a proprietary code never identify the same party, since
    /// nothing in the messages relates them.
    pub fn same_institution(&self, other: &Party) -> bool {
        match (
            &self.bic,
            &other.bic,
            &self.proprietary_id,
            &other.proprietary_id,
        ) {
            (Some(a), Some(b), _, _) => a.same_institution(b),
            (_, _, Some(a), Some(b)) => a.same_code(b),
            _ => false,
        }
    }
}

ism_object! {
    /// A party's code in a scheme of its own (sese.023 `GenericIdentification36`;
    /// MT `:95R::<qualifier>/<data source scheme>/<code>`), e.g. DTC
    /// participant `0901` issued under `DTCYID` (ISM-1 §6.0.8).
    pub struct ProprietaryId {
        /// The code (`Id`; the MT proprietary code).
        pub id: Reference,
        /// Who issued the code (`Issr`; the MT data source scheme).
        pub issuer: Reference,
        /// The name of the scheme, if the issuer runs several (`SchmeNm`).
        pub scheme: Option<Reference>,
    }
}
impl Rules for ProprietaryId {}

impl ProprietaryId {
    /// Same code from the same issuer; the scheme, when both name one, must agree too.
    pub fn same_code(&self, other: &ProprietaryId) -> bool {
        self.id == other.id
            && self.issuer == other.issuer
            && match (&self.scheme, &other.scheme) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

ism_object! {
    /// The instructing party's side of the cash leg (sese.023
    /// `QtyAndAcctDtls/CshAcct` and `CshPties`; MT `:97A::CASH//` and the E2
    /// cash parties): the cash account it pays from (RECEIVE) or is paid into
    /// (DELIVER), the ledger that holds it, and who owns and services it
    /// (ISM-1 §6.0.9).
    pub struct CashSide {
        /// The market whose ledger holds the cash account and settles the cash leg.
        pub market: Option<Mic>,
        /// The cash account on that ledger.
        pub account: Option<Reference>,
        /// The account's owner, when it is not the instruction's `account_owner`
        /// (`CshPties/Cdtr` or `Dbtr`; MT `:95P::BENM//` or `:95P::DEBT//`).
        pub owner: Option<PartyId>,
        /// The institution that services the account (`CshPties/CdtrAgt` or
        /// `DbtrAgt`; MT `:95P::ACCW//` or `:95P::PAYE//`).
        pub servicer: Option<Party>,
    }
}

impl Rules for CashSide {
    fn check(&self, path: &str) -> Result<(), Rejection> {
        // ISM-1 §6.0.9 rule 1: an empty cash side says nothing; senders omit it.
        if self.market.is_none()
            && self.account.is_none()
            && self.owner.is_none()
            && self.servicer.is_none()
        {
            return Err(Rejection::at(
                ReasonCode::MissingField,
                child_path(path, "account"),
                "a cash side must name at least its account, market, owner or servicer; leave an empty cash side out",
            ));
        }
        Ok(())
    }
}

ism_object! {
    /// An account on a market's ledger: its owner and the account id. On the
    /// wire it is an object; ledgers, journals and command lines write it as
    /// `OWNER/ACCOUNT` (see [`AccountRef::parse_text`]).
    #[derive(Hash, PartialOrd, Ord)]
    pub struct AccountRef {
        /// The owner, by LEI or BIC.
        pub owner: PartyId,
        /// The safekeeping or cash account id on that ledger.
        pub account: Reference,
    }
}
impl Rules for AccountRef {}

impl AccountRef {
    /// Builds an account from its owner's LEI or BIC and its account id.
    pub fn from_parts(owner: &str, account: &str) -> Result<AccountRef, Rejection> {
        let owner = PartyId::parse(owner).map_err(|r| r.in_field("owner"))?;
        let account = Reference::parse(account).map_err(|r| r.in_field("account"))?;
        Ok(AccountRef { owner, account })
    }

    /// Parses the text form `OWNER/ACCOUNT`, e.g.
    /// `549300ISTHMUSSELL015/SAFE-SELLER-01`; the owner never contains `/`,
    /// the account id may.
    pub fn parse_text(text: &str) -> Result<AccountRef, Rejection> {
        let Some((owner, account)) = text.split_once('/') else {
            return Err(Rejection::new(
                ReasonCode::TextInvalid,
                format!("{text} is not an account: write OWNER/ACCOUNT, e.g. 549300ISTHMUSSELL015/SAFE-1", text = quoted(text)),
            ));
        };
        AccountRef::from_parts(owner, account)
    }
}

/// Parses the text form `OWNER/ACCOUNT` ([`AccountRef::parse_text`]).
impl std::str::FromStr for AccountRef {
    type Err = Rejection;
    fn from_str(text: &str) -> Result<AccountRef, Rejection> {
        AccountRef::parse_text(text)
    }
}

/// The text form `OWNER/ACCOUNT`.
impl std::fmt::Display for AccountRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.account)
    }
}

ism_object! {
    /// A quantity of one security.
    pub struct SecuritiesAmount {
        /// The security.
        pub isin: Isin,
        /// How many units.
        pub quantity: Quantity,
    }
}
impl Rules for SecuritiesAmount {}

ism_object! {
    /// Where a ledger recorded an operation: the market, the journal sequence
    /// number and the hash of that journal entry, so anyone can check it.
    pub struct JournalRef {
        /// The market whose ledger holds the journal.
        pub market: Mic,
        /// The entry's sequence number in that journal.
        pub sequence: Counter,
        /// The SHA-256 hash of the entry, chained to its predecessor.
        pub entry_hash: Hex32,
    }
}
impl Rules for JournalRef {}

ism_object! {
    /// A machine-readable reason code and a sentence a person understands
    /// (sese.024 `Rsn`; MT548 `:24B:` and `:70D::REAS//`), with who defines
    /// the code when it is an institution's own (ISM-1 §6.0.6, §9).
    pub struct Reason {
        /// The reason code (ISM-1 §9.1), in one of the forms of ISM-1
        /// Appendix A.1 when it comes from a dialect message.
        pub code: ReasonCodeText,
        /// What went wrong, in a sentence.
        pub text: Text,
        /// Who defines `code` when neither ISM/1 nor the ISO 15022/20022 code
        /// lists do (`Cd/Prtry/Issr`; the MT `:24B:` data source scheme).
        pub issuer: Option<Reference>,
        /// The issuer's code list, if it publishes several (`Cd/Prtry/SchmeNm`).
        pub scheme: Option<Reference>,
    }
}

impl Rules for Reason {
    fn check(&self, path: &str) -> Result<(), Rejection> {
        // ISM-1 §6.0.6 rule 1: a scheme names one of an issuer's lists.
        if self.scheme.is_some() && self.issuer.is_none() {
            return Err(Rejection::at(
                ReasonCode::MissingField,
                child_path(path, "issuer"),
                "a reason with a scheme must name the issuer whose code list it is",
            ));
        }
        Ok(())
    }
}

impl Reason {
    /// A reason with a code ISM/1 or the ISO lists define: no issuer, no scheme.
    pub fn new(code: ReasonCodeText, text: Text) -> Reason {
        Reason {
            code,
            text,
            issuer: None,
            scheme: None,
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Json;
    use serde_json::json;

    fn party(value: serde_json::Value) -> Party {
        Party::from_json(&value, "p").unwrap_or_else(|r| panic!("{r}"))
    }

    #[test]
    fn parties_match_on_the_same_kind_of_identification_only() {
        let by_bic = party(json!({"bic": "CHASUS33"}));
        let by_branch = party(json!({"bic": "CHASUS33XXX", "lei": "7H6GLXDRUGQFU57RNE97"}));
        let dtc = party(json!({"proprietary_id": {"id": "0902", "issuer": "DTCYID"}}));
        let dtc_named = party(
            json!({"proprietary_id": {"id": "0902", "issuer": "DTCYID", "scheme": "PARTICIPANT"}}),
        );
        let dtc_other_scheme = party(
            json!({"proprietary_id": {"id": "0902", "issuer": "DTCYID", "scheme": "ACCOUNT"}}),
        );
        let crest = party(json!({"proprietary_id": {"id": "0902", "issuer": "CRST"}}));
        assert!(by_bic.same_institution(&by_branch));
        assert!(
            dtc.same_institution(&dtc_named),
            "a scheme only one side names is not compared"
        );
        assert!(!dtc_named.same_institution(&dtc_other_scheme));
        assert!(
            !dtc.same_institution(&crest),
            "the same code from another issuer"
        );
        assert!(!by_bic.same_institution(&dtc) && !dtc.same_institution(&by_bic));
    }

    #[test]
    fn a_party_is_a_bic_or_a_proprietary_id() {
        let refused = |value| {
            Party::from_json(&value, "body.seller")
                .err()
                .map(|r| (r.code, r.field))
        };
        let choice = Some((ReasonCode::PartyIdChoice, Some("body.seller".to_string())));
        assert_eq!(refused(json!({"lei": "7H6GLXDRUGQFU57RNE97"})), choice);
        assert_eq!(
            refused(json!({"bic": "CHASUS33", "proprietary_id": {"id": "1", "issuer": "DTCYID"}})),
            choice
        );
        assert_eq!(refused(json!({"bic": "CHASUS33"})), None);
    }

    #[test]
    fn an_empty_cash_side_is_refused_at_its_account() {
        let refused = CashSide::from_json(&json!({}), "body.cash").err();
        assert_eq!(
            refused.map(|r| (r.code, r.field)),
            Some((
                ReasonCode::MissingField,
                Some("body.cash.account".to_string())
            ))
        );
        for member in [
            json!({"market": "XASX"}),
            json!({"account": "CASH-1"}),
            json!({"owner": "DEUTDEFF"}),
            json!({"servicer": {"bic": "DEUTDEFF"}}),
        ] {
            assert!(CashSide::from_json(&member, "c").is_ok(), "{member}");
        }
    }
}

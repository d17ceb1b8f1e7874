//! Building blocks shared by several bodies (ISM-1 §6.0).

use crate::decimal::Quantity;
use crate::ident::{Bic, Isin, Lei, Mic, PartyId};
use crate::ids::{Counter, Hex32, ReasonCodeText, Reference, Text};
use crate::json::{ism_enum, ism_object, Rules};

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
    /// institution by BIC, optionally its LEI and the safekeeping account it uses.
    pub struct Party {
        /// The institution's BIC (`AnyBIC`).
        pub bic: Bic,
        /// Its LEI (`LEI`), if known.
        pub lei: Option<Lei>,
        /// Its safekeeping account at the place of settlement (`SfkpgAcct/Id`).
        pub safekeeping_account: Option<Reference>,
    }
}
impl Rules for Party {}

ism_object! {
    /// An account on a market's ledger: its owner and the account id.
    pub struct AccountRef {
        /// The owner, by LEI or BIC.
        pub owner: PartyId,
        /// The safekeeping or cash account id on that ledger.
        pub account: Reference,
    }
}
impl Rules for AccountRef {}

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
    /// A machine-readable reason code and a sentence a person understands (ISM-1 §9).
    pub struct Reason {
        /// The reason code (ISM-1 §9.1).
        pub code: ReasonCodeText,
        /// What went wrong, in a sentence.
        pub text: Text,
    }
}
impl Rules for Reason {}

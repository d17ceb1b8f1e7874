//! What a reader reports besides the body: elements it read and left out
//! because ISM/1 cannot hold them ([`Unrepresented`], by XML path), ISM/1
//! members it derived rather than read ([`Derived`]: from the business
//! application header, or from a date-time without a time zone), and ISM/1
//! members the message states in a form ISM/1 cannot carry (withheld: never
//! to be filled in from elsewhere, [`crate::Translation::withheld`]).

use super::read::{Leaf, Zone};
use crate::error::{Derived, Unrepresented, LOCAL_TIME_AS_UTC};

/// Why the time of a trade or settlement date given as a date-time is left out.
pub(crate) const TIME_OF_DAY_LEFT_OUT: &str =
    "ISM/1 keeps the calendar date as written; the time of day is left out";

/// The notes a reader collects while it reads one document.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Elements read and left out, by XML path.
    pub(crate) unrepresented: Vec<Unrepresented>,
    /// Members derived rather than read.
    pub(crate) derived: Vec<Derived>,
    /// ISM/1 paths of members stated in a form ISM/1 cannot carry.
    pub(crate) withheld: Vec<String>,
}

impl Report {
    /// Notes that the element at `path` was read but is not carried.
    pub(crate) fn left_out(&mut self, path: &str, reason: impl Into<String>) {
        self.unrepresented.push(Unrepresented {
            field: path.to_string(),
            reason: reason.into(),
        });
    }

    /// Notes the element at `path` as left out, unless it already is (one
    /// element can be the reason for leaving out two members).
    pub(crate) fn left_out_once(&mut self, path: &str, reason: impl Into<String>) {
        if self.unrepresented.iter().all(|note| note.field != path) {
            self.left_out(path, reason);
        }
    }

    /// Notes that the message states ISM/1 member `field` (e.g.
    /// `body.seller`) in a form ISM/1 cannot carry: it stays absent, and a
    /// gateway must not fill it in (`context::complete`).
    pub(crate) fn withhold(&mut self, field: &str) {
        if self.withheld.iter().all(|member| member != field) {
            self.withheld.push(field.to_string());
        }
    }

    /// Notes that ISM/1 member `field` was derived from `source`.
    pub(crate) fn derived(
        &mut self,
        field: &str,
        source: impl Into<String>,
        reason: impl Into<String>,
    ) {
        self.derived.push(Derived {
            field: field.to_string(),
            source: source.into(),
            reason: reason.into(),
        });
    }

    /// Notes `field` as derived when the date-time `leaf` it came from had no
    /// time zone (its clock value was read as UTC).
    pub(crate) fn zone(&mut self, field: &str, leaf: &Leaf<'_>, zone: Zone) {
        if zone == Zone::Local {
            self.derived(field, leaf.path(), LOCAL_TIME_AS_UTC);
        }
    }
}

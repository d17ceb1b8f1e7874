//! What a reader reports besides the body: elements it read and left out
//! because ISM/1 cannot hold them ([`Unrepresented`], by XML path), and ISM/1
//! members it derived rather than read ([`Derived`]: from the business
//! application header, or from a date-time without a time zone).

use super::read::{Leaf, Zone};
use crate::error::{Derived, Unrepresented};

/// Why a zone-less date-time is reported (the wording both dialects use).
pub(crate) const LOCAL_TIME_AS_UTC: &str = "a local time without a UTC offset is read as UTC";

/// The notes a reader collects while it reads one document.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Elements read and left out, by XML path.
    pub(crate) unrepresented: Vec<Unrepresented>,
    /// Members derived rather than read.
    pub(crate) derived: Vec<Derived>,
}

impl Report {
    /// Notes that the element at `path` was read but is not carried.
    pub(crate) fn left_out(&mut self, path: &str, reason: impl Into<String>) {
        self.unrepresented.push(Unrepresented {
            field: path.to_string(),
            reason: reason.into(),
        });
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

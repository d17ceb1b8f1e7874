//! Error: a refusal of a message (ISM-1 §6.10).

use crate::ids::{MessageId, ReasonCodeText, Text};
use crate::json::{ism_object, Rules};

ism_object! {
    /// Sent in answer to a message that was refused, instead of acting on it.
    pub struct ErrorBody {
        /// The reason code (ISM-1 §9).
        pub code: ReasonCodeText,
        /// A sentence a person understands.
        pub text: Text,
        /// The refused message's id, if it could be read.
        pub related_message_id: Option<MessageId>,
        /// The member at fault, as a dotted path, if one is.
        pub field: Option<Text>,
    }
}
impl Rules for ErrorBody {}

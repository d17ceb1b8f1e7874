//! Batch: several messages from one node to another under one signature
//! (ISM-1 §6.11, §8.7).

use serde_json::{Map, Value};

use crate::envelope::{Carried, Envelope};
use crate::json::{child_path, type_name, Json, ObjectReader};
use crate::limits::MAX_LIST_ITEMS;
use crate::reason::{ReasonCode, Rejection};

const MEMBERS: &[&str] = &["messages"];

/// The messages a Batch carries, each without a signature of its own, in
/// the order the receiver handles them. Their sender and receiver are the
/// Batch's (checked by the envelope, ISM-1 §6.11 rule 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// 1 to 1 000 messages.
    pub messages: Vec<Envelope>,
}

impl Json for Batch {
    fn from_json(value: &Value, path: &str) -> Result<Batch, Rejection> {
        let reader = ObjectReader::new(value, path, MEMBERS)?;
        let at = child_path(path, "messages");
        let Some(list) = reader.get("messages") else {
            return Err(Rejection::at(
                ReasonCode::MissingField,
                at,
                "the required member \"messages\" is absent",
            ));
        };
        let Value::Array(items) = list else {
            return Err(Rejection::at(
                ReasonCode::WrongType,
                at,
                format!("expected an array, found {}", type_name(list)),
            ));
        };
        // ISM-1 §6.11 rule 1: a Batch carries something, and the list limit
        // holds before any entry is read.
        if items.is_empty() {
            return Err(Rejection::at(
                ReasonCode::MissingField,
                at,
                "a Batch carries at least one message",
            ));
        }
        if items.len() > MAX_LIST_ITEMS {
            return Err(Rejection::at(
                ReasonCode::TooManyItems,
                at,
                format!(
                    "the Batch carries {} messages; at most {MAX_LIST_ITEMS} are allowed",
                    items.len()
                ),
            ));
        }
        let messages = items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                Envelope::from_value_at(item, &format!("{at}[{index}]"), Carried::InBatch)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Batch { messages })
    }

    fn to_json(&self) -> Value {
        let mut members = Map::new();
        members.insert(
            "messages".into(),
            Value::Array(self.messages.iter().map(Envelope::to_json).collect()),
        );
        Value::Object(members)
    }
}

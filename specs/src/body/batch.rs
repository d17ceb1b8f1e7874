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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{Body, ErrorBody};
    use crate::ids::{MessageId, NodeId, ReasonCodeText, Text};
    use crate::time::Timestamp;

    fn error(n: u8) -> Envelope {
        Envelope::new(
            MessageId::new_v7(1_800_000_000_000, [n; 10]),
            NodeId::parse("gw.xnys").expect("node id"),
            NodeId::parse("relay.a").expect("node id"),
            Timestamp::parse("2026-11-25T09:00:00Z").expect("timestamp"),
            Body::Error(ErrorBody {
                code: ReasonCodeText::from(ReasonCode::MalformedJson),
                text: Text::parse("Bad input.").expect("text"),
                related_message_id: None,
                field: None,
            }),
        )
    }

    fn batch_of(count: usize) -> Value {
        let messages = (0..count).map(|i| error((i % 250) as u8)).collect();
        let batch = Envelope::new(
            MessageId::new_v7(1_800_000_000_000, [255; 10]),
            NodeId::parse("gw.xnys").expect("node id"),
            NodeId::parse("relay.a").expect("node id"),
            Timestamp::parse("2026-11-25T09:00:00Z").expect("timestamp"),
            Body::Batch(Batch { messages }),
        );
        batch.to_json()
    }

    #[test]
    fn a_batch_carries_one_to_a_thousand_messages() {
        for count in [1, MAX_LIST_ITEMS] {
            let decoded = Envelope::from_value(&batch_of(count)).expect("a valid batch");
            match decoded.body {
                Body::Batch(batch) => assert_eq!(batch.messages.len(), count),
                other => panic!("decoded as {:?}", other.kind()),
            }
        }
        for (count, code) in [
            (0, ReasonCode::MissingField),
            (MAX_LIST_ITEMS + 1, ReasonCode::TooManyItems),
        ] {
            let refused = Envelope::from_value(&batch_of(count)).expect_err("refused");
            assert_eq!(refused.code, code, "{count} messages");
            assert_eq!(refused.field.as_deref(), Some("body.messages"));
        }
    }

    #[test]
    fn a_batch_round_trips_through_its_json() {
        let value = batch_of(3);
        let decoded = Envelope::from_value(&value).expect("a valid batch");
        assert_eq!(decoded.to_json(), value);
    }

    #[test]
    fn messages_must_be_a_list_present() {
        let mut value = batch_of(1);
        value["body"]["messages"] = Value::String("x".into());
        let refused = Envelope::from_value(&value).expect_err("refused");
        assert_eq!(refused.code, ReasonCode::WrongType);
        assert_eq!(refused.field.as_deref(), Some("body.messages"));
        value["body"] = Value::Object(Map::new());
        let refused = Envelope::from_value(&value).expect_err("refused");
        assert_eq!(refused.code, ReasonCode::MissingField);
        assert_eq!(refused.field.as_deref(), Some("body.messages"));
    }
}

//! Batch: several messages from one node to another under one signature
//! (ISM-1 §6.11, §8.7).

use serde_json::{Map, Value};

use crate::envelope::{Carried, Envelope};
use crate::json::{child_path, Json, ObjectReader};
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

/// One entry of a Batch's list: a message read as carried (ISM-1 §6.11
/// rule 2), so that the list's own checks are those of every ISM/1 list.
struct CarriedMessage(Envelope);

impl Json for CarriedMessage {
    fn from_json(value: &Value, path: &str) -> Result<CarriedMessage, Rejection> {
        Envelope::from_value_at(value, path, Carried::InBatch).map(CarriedMessage)
    }

    fn to_json(&self) -> Value {
        self.0.to_json()
    }
}

impl Json for Batch {
    fn from_json(value: &Value, path: &str) -> Result<Batch, Rejection> {
        let reader = ObjectReader::new(value, path, MEMBERS)?;
        // ISM-1 §6.11 rules 1–2: the list limit before any entry (§3.3.5),
        // each entry as a carried message; and a Batch carries something.
        let messages: Vec<CarriedMessage> = reader.field("messages")?;
        if messages.is_empty() {
            return Err(Rejection::at(
                ReasonCode::MissingField,
                child_path(path, "messages"),
                "a Batch carries at least one message",
            ));
        }
        Ok(Batch {
            messages: messages.into_iter().map(|m| m.0).collect(),
        })
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
    use crate::limits::MAX_LIST_ITEMS;
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

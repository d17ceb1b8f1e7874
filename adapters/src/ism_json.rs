//! The ISM/1 dialect: ISM/1's own JSON, as a body alone (`{"kind": …,
//! "body": …}`) or as a whole envelope.

use isthmus_spec::jcs::parse_strict;
use isthmus_spec::limits::MAX_NESTING_DEPTH;
use isthmus_spec::{Body, Envelope, Kind};
use serde_json::Value;

use crate::error::{TranslateError, Translation};

/// Writes an ISM/1 body as canonical `{"kind": …, "body": …}`, the form
/// [`ism_body_from_bytes`] reads back.
pub fn ism_body_to_bytes(body: &Body) -> Vec<u8> {
    let mut members = serde_json::Map::new();
    members.insert("kind".into(), Value::String(body.kind().as_str().into()));
    members.insert("body".into(), body.to_json());
    isthmus_spec::jcs::canonical_bytes(&Value::Object(members))
}

/// Reads ISM/1 JSON: a whole envelope (its body is taken) or `{"kind":…, "body":…}`.
pub fn ism_body_from_bytes(bytes: &[u8]) -> Result<Translation<Body>, TranslateError> {
    let value = parse_strict(bytes, MAX_NESTING_DEPTH)?;
    if value.get("version").is_some() {
        return Ok(Translation::lossless(Envelope::from_value(&value)?.body));
    }
    let kind = match value.get("kind") {
        Some(kind) => <Kind as isthmus_spec::json::Json>::from_json(kind, "kind")?,
        None => {
            return Err(isthmus_spec::Rejection::at(
                isthmus_spec::ReasonCode::MissingField,
                "kind",
                "an ISM/1 body needs its \"kind\"",
            )
            .into())
        }
    };
    let body = value.get("body").unwrap_or(&Value::Null);
    Ok(Translation::lossless(Body::from_json(kind, body, "body")?))
}

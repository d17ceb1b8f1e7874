//! Placeholder until the iso20022 dialect lands.

use isthmus_spec::Body;

use crate::error::{TranslateCode, TranslateError, Translation};

/// Reads one native message into an ISM/1 body.
pub fn to_ism(native: &[u8]) -> Result<Translation<Body>, TranslateError> {
    let _ = native;
    Err(TranslateError::new(
        TranslateCode::KindUnsupported,
        "not built yet",
    ))
}

/// Writes an ISM/1 body as one native message.
pub fn from_ism(body: &Body) -> Result<Translation<Vec<u8>>, TranslateError> {
    let _ = body;
    Err(TranslateError::new(
        TranslateCode::KindUnsupported,
        "not built yet",
    ))
}

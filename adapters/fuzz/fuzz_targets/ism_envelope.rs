//! Any bytes into the ISM/1 decoder: a typed rejection or an envelope whose
//! canonical bytes decode to the same envelope.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = isthmus_spec::Envelope::decode(data) {
        let again = isthmus_spec::Envelope::decode(&envelope.to_canonical_bytes());
        assert_eq!(again.as_ref(), Ok(&envelope));
    }
});

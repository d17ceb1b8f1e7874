//! Any bytes into the SWIFT MT54x reader: it must return a body or a typed
//! error, never panic; a body it returns must survive writing and re-reading.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(translation) = isthmus_adapters::mt::to_ism(data) {
        if let Ok(written) = isthmus_adapters::mt::from_ism(&translation.value) {
            let again = isthmus_adapters::mt::to_ism(&written.value);
            assert!(again.is_ok(), "our own MT output must read back");
        }
    }
});

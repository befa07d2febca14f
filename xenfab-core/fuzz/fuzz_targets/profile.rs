//! Arbitrary bytes into both Quattor profile readers: each may refuse them, neither may panic
//! (libFuzzer reports a panic as a crash).
//!
//! ```sh
//! cd xenfab-core
//! cargo +nightly fuzz run profile -- -dict=fuzz/profile.dict
//! ```
//!
//! Seeds: the fixtures, e.g. `mkdir -p fuzz/corpus/profile && cp ../tests/fixtures/quattor/*/*.{xml,json} fuzz/corpus/profile/`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use xenfab_core::input::quattor::profile::{read_json, read_xml};

fuzz_target!(|data: &[u8]| {
    for result in [read_xml(data), read_json(data)] {
        match result {
            Ok(profile) => {
                // A profile's root is an nlist.
                assert_eq!(profile.type_name(), "nlist");
            }
            Err(error) => {
                // Messages render, and locations are 1-based.
                let _ = error.to_string();
                if let Some(location) = error.location() {
                    assert!(location.line >= 1 && location.column >= 1);
                }
            }
        }
    }
});

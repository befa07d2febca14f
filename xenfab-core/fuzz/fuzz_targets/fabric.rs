//! Arbitrary text as a fabric file, TOML and JSON: `load` may refuse it, nothing may panic, and
//! a fabric `load` accepts renders.
//!
//! ```sh
//! scripts/fuzz 60            # every target, bounded, seeded from the golden cases
//! cd xenfab-core && cargo +nightly fuzz run fabric -- -dict=fuzz/fabric.dict
//! ```

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for origin in ["fuzz.toml", "fuzz.json"] {
        match xenfab_core::load(text, origin) {
            Ok(loaded) => {
                if let Err(e) = xenfab_core::render(&loaded.fabric) {
                    panic!(
                        "a fabric that validates does not render: {}",
                        xenfab_core::error_chain(&e)
                    );
                }
            }
            Err(e) => {
                let _ = xenfab_core::error_chain(&e);
            }
        }
    }
});

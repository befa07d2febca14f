//! Arbitrary text into `ks reinstall`: it may refuse, it may not panic, and what it accepts
//! passes its own safety check and converts to itself again.
//!
//! ```sh
//! scripts/fuzz 60            # every target, bounded, seeded from the fixtures (stable Rust)
//! cd xenfab-core && cargo +nightly fuzz run ks_reinstall -- -dict=fuzz/kickstart.dict
//! ```
//!
//! The first byte picks the options: default (the guests' group found by itself), or
//! `xenvg` kept, with or without dom0's `systemvg` volumes named as its own.

#![no_main]

use libfuzzer_sys::fuzz_target;
use xenfab_core::render::kickstart::reinstall::{Options, check, reinstall};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let opts = match mode % 3 {
        0 => Options::default(),
        1 => Options {
            keep_vgs: vec!["xenvg".to_owned()],
            ..Options::default()
        },
        _ => Options {
            keep_vgs: vec!["xenvg".to_owned(), "systemvg".to_owned()],
            reformat_lvs: vec!["systemvg/sysroot".to_owned(), "xenvg/dom0root".to_owned()],
        },
    };
    match reinstall(text, &opts) {
        Ok(out) => {
            assert!(!out.kept.is_empty());
            check(&out.text, &out.kept, &opts.reformat_lvs)
                .unwrap_or_else(|e| panic!("accepted output fails its own check: {e}"));
            let again = reinstall(&out.text, &opts)
                .unwrap_or_else(|e| panic!("accepted output is refused when converted again: {e}"));
            assert_eq!(again.text, out.text, "converting again changes the text");
            assert_eq!(again.kept, out.kept);
        }
        Err(e) => {
            // Messages render, and name a 1-based line when they name one.
            let _ = e.to_string();
            assert_ne!(e.line(), Some(0));
        }
    }
});

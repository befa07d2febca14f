//! Gives the crate a hash of its own sources, `XENFAB_SOURCE_HASH`: part of every fingerprint
//! (src/fingerprint.rs), so that a xenfab whose renderers or templates changed renders every
//! part of a tree again instead of trusting what an older build wrote.

use std::fs;
use std::hash::{DefaultHasher, Hasher};
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=src");
    let mut paths = Vec::new();
    files(Path::new("src"), &mut paths);
    paths.sort();
    let mut hasher = DefaultHasher::new();
    for path in &paths {
        hasher.write(path.to_string_lossy().as_bytes());
        hasher.write(&fs::read(path).unwrap_or_default());
    }
    println!(
        "cargo:rustc-env=XENFAB_SOURCE_HASH={}-{:016x}",
        std::env::var("CARGO_PKG_VERSION").unwrap_or_default(),
        hasher.finish()
    );
}

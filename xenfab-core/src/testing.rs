//! Test helpers: files of the repository (examples, golden cases) for unit tests.

use crate::model::Fabric;

/// The text of `path`, relative to the repository's root (`examples/debian-site.toml`).
pub(crate) fn repo_file(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The fabric of the fabric file at `path`, relative to the repository's root; it must load.
pub(crate) fn repo_fabric(path: &str) -> Fabric {
    match crate::load(&repo_file(path), path) {
        Ok(loaded) => loaded.fabric,
        Err(e) => panic!("{path}: {e}"),
    }
}

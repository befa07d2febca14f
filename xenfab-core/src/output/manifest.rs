//! The manifest: the list of entries xenfab owns in an output directory.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::de::Error as _;
use serde::{Deserialize, Serialize};

use super::OutputError;
use super::path::RelPath;
use super::tree::{Entry, Tree};

/// The file name of the manifest, directly in the output root.
pub const MANIFEST_FILE: &str = ".xenfab-manifest.json";

/// The manifest format this module writes. Format 1 (no `site`) is still read, as a tree
/// of an unknown site.
pub const MANIFEST_FORMAT: u32 = 2;

/// The oldest manifest format this module reads.
const OLDEST_FORMAT: u32 = 1;

const GENERATOR: &str = "xenfab";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub(crate) format: u32,
    pub(crate) generator: String,
    /// The site whose artefacts the tree holds; `None` when unknown (format 1, or a tree
    /// written without saying).
    #[serde(default)]
    pub(crate) site: Option<SiteStamp>,
    pub(crate) entries: BTreeMap<RelPath, ManifestEntry>,
}

/// Which site wrote an output tree: recorded in its manifest, so that a render of another
/// site into the tree is caught before it replaces everything (see
/// [`PlanOptions`](super::PlanOptions)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteStamp {
    /// The site's name (`site.name` of the fabric file).
    pub name: String,
    /// The site's DNS domain (`site.domain`).
    pub domain: String,
    /// Where the fabric came from: the fabric file as it was named, `<example>`,
    /// `<stdin>`, a Quattor profiles directory. Recorded for people; only the name and the
    /// domain are compared.
    pub origin: String,
}

impl SiteStamp {
    /// The stamp of `fabric`, read from `origin`.
    pub fn of(fabric: &crate::Fabric, origin: &str) -> SiteStamp {
        SiteStamp {
            name: fabric.site.name.to_string(),
            domain: fabric.site.domain.to_string(),
            origin: origin.to_owned(),
        }
    }

    /// Whether `other` is the same site (name and domain; the origin may differ).
    pub fn same_site(&self, other: &SiteStamp) -> bool {
        self.name == other.name && self.domain == other.domain
    }
}

impl std::fmt::Display for SiteStamp {
    /// `` `grid` (example.org, from `fabric.toml`) ``, every value escaped.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` ({}, from `{}`)",
            self.name.escape_debug(),
            self.domain.escape_debug(),
            self.origin.escape_debug()
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub(crate) enum ManifestEntry {
    File { executable: bool },
    Symlink { target: String },
}

impl Manifest {
    /// The manifest describing `tree`, written for `site`.
    pub(crate) fn for_tree(tree: &Tree, site: Option<SiteStamp>) -> Self {
        let entries = tree
            .iter()
            .map(|(path, entry)| {
                let entry = match entry {
                    Entry::File { executable, .. } => ManifestEntry::File {
                        executable: *executable,
                    },
                    Entry::Symlink { target } => ManifestEntry::Symlink {
                        target: target.clone(),
                    },
                };
                (path.clone(), entry)
            })
            .collect();
        Self {
            format: MANIFEST_FORMAT,
            generator: GENERATOR.to_owned(),
            site,
            entries,
        }
    }

    /// Pretty JSON with a final newline; deterministic (entries sorted by
    /// path).
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain strings, booleans and integers cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text.into_bytes()
    }
}

/// The manifest read from disk, with its raw bytes.
#[derive(Debug)]
pub(crate) struct LoadedManifest {
    pub(crate) manifest: Manifest,
    pub(crate) bytes: Vec<u8>,
}

fn corrupt(path: &Path, message: &str) -> OutputError {
    OutputError::Manifest {
        path: path.to_owned(),
        source: serde_json::Error::custom(message),
    }
}

/// Reads `<root>/.xenfab-manifest.json`; `Ok(None)` when it does not exist.
///
/// The manifest must be a regular file (a symlink is refused), valid JSON of
/// format 1 or 2 written by xenfab, and every path in it must be a valid
/// [`RelPath`].
pub(crate) fn read_manifest(root: &Path) -> Result<Option<LoadedManifest>, OutputError> {
    let path: PathBuf = root.join(MANIFEST_FILE);
    let meta = match fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(OutputError::Io {
                action: "read",
                path,
                source,
            });
        }
    };
    if !meta.file_type().is_file() {
        return Err(corrupt(&path, "the manifest is not a regular file"));
    }
    let bytes = fs::read(&path).map_err(|source| OutputError::Io {
        action: "read",
        path: path.clone(),
        source,
    })?;
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|source| OutputError::Manifest {
            path: path.clone(),
            source,
        })?;
    if !(OLDEST_FORMAT..=MANIFEST_FORMAT).contains(&manifest.format) {
        return Err(corrupt(
            &path,
            &format!(
                "unsupported manifest format {} (expected {OLDEST_FORMAT} to {MANIFEST_FORMAT})",
                manifest.format
            ),
        ));
    }
    if manifest.generator != GENERATOR {
        return Err(corrupt(
            &path,
            &format!(
                "the manifest was written by `{}`, not by {GENERATOR}",
                manifest.generator
            ),
        ));
    }
    if manifest.format == OLDEST_FORMAT && manifest.site.is_some() {
        return Err(corrupt(&path, "a format 1 manifest has no `site`"));
    }
    Ok(Some(LoadedManifest { manifest, bytes }))
}

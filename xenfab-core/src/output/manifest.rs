//! The manifest: the list of entries xenfab owns in an output directory.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read as _, Write as _};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rayon::prelude::*;
use rustc_hash::FxHashSet;
use serde::de::Error as _;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

use super::OutputError;
use super::fsops::Seen;
use super::path::RelPath;
use super::tree::{Digest, Entry, Part, Tree};

mod line;

/// What a tree rendered from a fabric part by part adds to its manifest
/// (see [`plan_fabric`](super::plan_fabric)).
#[derive(Debug, Clone)]
pub(crate) struct TreeParts {
    /// The fingerprint of every part of the fabric.
    pub(crate) stamps: PartStamps,
    /// The names of the fabric's dom0s, by index ([`Part::Dom0`]).
    pub(crate) names: Vec<String>,
    /// How many parts were rendered, of how many.
    pub(crate) rendered: (usize, usize),
    /// How the manifest may be written as a delta on the one on disk; `None` when it has
    /// none to name (no manifest, or one before format 5).
    pub(crate) delta: Option<DeltaOn>,
    /// Whether the site's part was rendered with its sections, or they were kept.
    pub(crate) sections: crate::render::Sections,
    /// The parts rendered whose entries left as they are ([`PlanOptions::untouched`],
    /// [`PlanOptions::hosts`]) are not what they render: recorded as [`Fingerprint::STALE`].
    ///
    /// [`PlanOptions::untouched`]: super::PlanOptions::untouched
    /// [`PlanOptions::hosts`]: super::PlanOptions::hosts
    pub(crate) left_behind: PartSet,
}

/// What a delta on the manifest on disk says besides its entries (see
/// [`MANIFEST_DELTA_FILE`]).
#[derive(Debug, Clone)]
pub(crate) struct DeltaOn {
    /// The `id` of the manifest on disk.
    pub(crate) base: Fingerprint,
    /// The parts whose entries the delta holds in place of the manifest's: those rendered,
    /// those gone from the fabric, and those the delta on disk holds already.
    pub(crate) replaced: PartSet,
}

/// A set of parts: the site's, and dom0s' by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PartSet {
    pub(crate) site: bool,
    #[serde(serialize_with = "sorted")]
    pub(crate) dom0s: FxHashSet<String>,
}

impl PartSet {
    pub(crate) fn any(&self) -> bool {
        self.site || !self.dom0s.is_empty()
    }

    /// Whether the part of an entry (`dom0`, `None` for the site) is in the set.
    pub(crate) fn has(&self, dom0: Option<&str>) -> bool {
        match dom0 {
            None => self.site,
            Some(name) => self.dom0s.contains(name),
        }
    }
}

/// The names of a set in order, for the same set to be written the same.
fn sorted<S: serde::Serializer>(set: &FxHashSet<String>, serializer: S) -> Result<S::Ok, S::Error> {
    let mut names: Vec<&String> = set.iter().collect();
    names.sort_unstable();
    serializer.collect_seq(names)
}

impl TreeParts {
    /// [`TreeParts::dom0_of`], for the fabric's dom0s `names`.
    pub(crate) fn dom0_of_names(names: &[String], part: Part) -> Option<&str> {
        match part {
            Part::Dom0(i) => names.get(i).map(String::as_str),
            Part::Site => None,
        }
    }

    /// The name of the dom0 whose part is `part`, as the manifest's entries record it; `None`
    /// for the site's part, and for every part of a tree not rendered by parts.
    pub(crate) fn dom0_of(parts: Option<&TreeParts>, part: Part) -> Option<&str> {
        match (part, parts) {
            (Part::Dom0(i), Some(parts)) => parts.names.get(i).map(String::as_str),
            _ => None,
        }
    }
}

/// The file name of the manifest, directly in the output root.
pub const MANIFEST_FILE: &str = ".xenfab-manifest.json";

/// The file name of the manifest's delta, beside the manifest: what the runs since the
/// manifest was last written whole changed in it (format 5). A run that renders a few parts
/// of a big tree writes the entries of those parts here, a few kilobytes, instead of the
/// whole manifest again (180 MB for 110,000 hosts, a second to write and sync).
pub const MANIFEST_DELTA_FILE: &str = ".xenfab-manifest-delta.json";

/// The manifest format this module writes. Format 5 may come with a delta
/// ([`MANIFEST_DELTA_FILE`]): the manifest then has an `id`, and the delta names it as its
/// `base` and lists the parts it `replaced` (their entries are the delta's, not the
/// manifest's); a delta of another manifest, left by a run that wrote the manifest whole
/// and was killed before it removed the delta, is ignored. Format 4 records the fingerprint of each part of
/// the tree and the part of each entry (`dom0`; none for the site's), so that a rerun renders
/// only the parts whose inputs changed; format 3 each file's stamp (size, inode, times,
/// content hash), so that a rerun stats its files instead of reading them. Formats 3, 2 (no
/// stamps: every file is read once, then stamped) and 1 (no `site` either: a tree of an
/// unknown site) are still read; a tree whose manifest has no fingerprints is rendered whole.
pub const MANIFEST_FORMAT: u32 = 5;

/// The oldest manifest format this module reads.
const OLDEST_FORMAT: u32 = 1;

const GENERATOR: &str = "xenfab";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub(crate) format: u32,
    pub(crate) generator: String,
    /// A manifest of format 5's: made afresh each time it is written whole, for its delta to
    /// name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<Fingerprint>,
    /// A delta's: the `id` of the manifest it applies to (format 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) base: Option<Fingerprint>,
    /// A delta's: the parts whose entries it holds in place of its manifest's (format 5);
    /// in a manifest read with its delta ([`read_manifest`]), the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) replaced: Option<PartSet>,
    /// The site whose artefacts the tree holds; `None` when unknown (format 1, or a tree
    /// written without saying).
    #[serde(default)]
    pub(crate) site: Option<SiteStamp>,
    /// The fingerprints of the parts the tree was rendered from (format 4; none in a tree
    /// written from a bare [`Tree`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) parts: Option<PartStamps>,
    pub(crate) entries: BTreeMap<RelPath, ManifestEntry>,
}

/// The fingerprints ([`crate::fingerprint`]) of the parts of a tree: the site's, and each
/// dom0's by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PartStamps {
    pub(crate) site: Fingerprint,
    /// The site's sections' ([`crate::render::in_section`]; format 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sections: Option<Fingerprint>,
    pub(crate) dom0s: BTreeMap<String, Fingerprint>,
}

/// A fingerprint, written as 32 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Fingerprint(#[serde(with = "hex128")] pub(crate) u128);

impl Fingerprint {
    /// What the manifest records for a part rendered while some of its entries below an
    /// untouched directory ([`Untouched`](super::Untouched)) were left differing from the
    /// manifest's record: the fingerprint of no fabric, so that the next render renders the
    /// part again.
    pub(crate) const STALE: Fingerprint = Fingerprint(0);

    /// An `id` for a manifest written whole: the time, the process and how many ids it made
    /// before, hashed; no two manifests of a tree get the same.
    pub(crate) fn fresh() -> Fingerprint {
        static MADE: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut hasher = Xxh3::new();
        hasher.update(&nanos.to_le_bytes());
        hasher.update(&std::process::id().to_le_bytes());
        hasher.update(&MADE.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        Fingerprint(hasher.digest128())
    }
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
#[serde(tag = "kind", rename_all = "lowercase", try_from = "RawEntry")]
pub(crate) enum ManifestEntry {
    File {
        executable: bool,
        /// The file as xenfab last wrote or checked it; `None` in format 2 and in the
        /// manifest written before the entries (which a killed run leaves).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stamp: Option<Stamp>,
        /// The dom0 whose part the file is of; `None` for the site's part (and before
        /// format 4).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dom0: Option<String>,
    },
    Symlink {
        target: String,
        /// As for a file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dom0: Option<String>,
    },
}

/// A manifest entry as read: every field of either kind, so that serde reads it in one pass
/// (an internally tagged enum is buffered first, which made reading a manifest of a million
/// entries a third slower).
#[derive(Deserialize)]
struct RawEntry {
    kind: RawKind,
    executable: Option<bool>,
    stamp: Option<Stamp>,
    target: Option<String>,
    dom0: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawKind {
    File,
    Symlink,
}

impl TryFrom<RawEntry> for ManifestEntry {
    type Error = String;

    fn try_from(raw: RawEntry) -> Result<Self, String> {
        match (raw.kind, raw.executable, raw.target) {
            (RawKind::File, Some(executable), None) => Ok(ManifestEntry::File {
                executable,
                stamp: raw.stamp,
                dom0: raw.dom0,
            }),
            (RawKind::Symlink, None, Some(target)) if raw.stamp.is_none() => {
                Ok(ManifestEntry::Symlink {
                    target,
                    dom0: raw.dom0,
                })
            }
            (RawKind::File, ..) => Err("a file entry has `executable` and no `target`".to_owned()),
            (RawKind::Symlink, ..) => {
                Err("a symlink entry has `target` and no `executable` or `stamp`".to_owned())
            }
        }
    }
}

impl ManifestEntry {
    /// The dom0 whose part the entry is of; `None` for the site's.
    pub(crate) fn dom0(&self) -> Option<&str> {
        match self {
            ManifestEntry::File { dom0, .. } | ManifestEntry::Symlink { dom0, .. } => {
                dom0.as_deref()
            }
        }
    }
}

/// What xenfab knows of a file it wrote without reading it again: its size and [`Seen`] on
/// disk, and the XXH3-128 hash of its contents. A rerun whose file on disk still has this
/// size and `Seen`, and whose new contents have this hash, leaves the file alone unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Stamp {
    pub(crate) size: u64,
    pub(crate) ino: u64,
    pub(crate) mtime: i64,
    pub(crate) ctime: i64,
    #[serde(with = "hex128")]
    pub(crate) xxh3: u128,
}

impl Stamp {
    /// The stamp of a file of `contents` that is `seen` on disk.
    pub(crate) fn new(contents: &[u8], seen: Seen) -> Self {
        Stamp::of(Digest::of(contents), seen)
    }

    /// The stamp of a file whose contents have `digest`, `seen` on disk.
    pub(crate) fn of(digest: Digest, seen: Seen) -> Self {
        Stamp {
            size: digest.len,
            ino: seen.ino,
            mtime: seen.mtime,
            ctime: seen.ctime,
            xxh3: digest.xxh3,
        }
    }

    /// Whether the stamp can be trusted in a manifest written at `written` (ns): a file
    /// stamped within the manifest's own clock tick may have changed again unseen (git's
    /// "racily clean" entries).
    pub(crate) fn trusted(&self, written: i64) -> bool {
        self.mtime < written && self.ctime < written
    }

    /// Whether the file on disk (`len` bytes, `seen`) is still the one stamped.
    pub(crate) fn matches(&self, len: u64, seen: Seen) -> bool {
        self.size == len
            && self.ino == seen.ino
            && self.mtime == seen.mtime
            && self.ctime == seen.ctime
    }

    /// Whether contents of this digest are what the stamped file holds.
    pub(crate) fn holds(&self, digest: Digest) -> bool {
        self.size == digest.len && self.xxh3 == digest.xxh3
    }
}

/// A `u128` as 32 lower-case hex digits: JSON numbers that large are not portable.
mod hex128 {
    use serde::{Deserialize as _, Deserializer, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer>(value: &u128, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{value:032x}"))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<u128, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        if text.len() != 32 {
            return Err(D::Error::custom("a hash of 32 hex digits"));
        }
        u128::from_str_radix(&text, 16).map_err(D::Error::custom)
    }
}

impl Manifest {
    /// The manifest's text, as [`ManifestText::for_tree`] writes it.
    #[cfg(test)]
    pub(crate) fn to_text(&self) -> ManifestText {
        let entries: Vec<Line<'_>> = self.entries.iter().map(|(p, e)| Line::Old(p, e)).collect();
        let head = Head {
            format: self.format,
            id: self.id,
            base: self.base,
            replaced: self.replaced.as_ref(),
            site: self.site.as_ref(),
            parts: self.parts.as_ref(),
        };
        ManifestLines::of(&head, MANIFEST_FILE, entries, None, &|_| None).text()
    }
}

/// What a manifest's first line says.
struct Head<'a> {
    format: u32,
    id: Option<Fingerprint>,
    base: Option<Fingerprint>,
    replaced: Option<&'a PartSet>,
    site: Option<&'a SiteStamp>,
    parts: Option<&'a PartStamps>,
}

/// Which file [`ManifestLines::for_tree`] makes.
#[derive(Debug, Clone)]
pub(crate) enum Form {
    /// The manifest, whole, with this `id` ([`Fingerprint::fresh`]).
    Whole(Fingerprint),
    /// Its delta ([`MANIFEST_DELTA_FILE`]) on the manifest on disk: the entries of the parts
    /// it replaces.
    Delta(DeltaOn),
}

/// One entry of a manifest being written: one of the tree, with its part, or one listed
/// already.
#[derive(Clone, Copy)]
enum Line<'a> {
    New(&'a RelPath, &'a Entry, Part),
    Old(&'a RelPath, &'a ManifestEntry),
}

impl Line<'_> {
    fn path(&self) -> &RelPath {
        match self {
            Line::New(path, ..) | Line::Old(path, _) => path,
        }
    }
}

impl<'a> ManifestLines<'a> {
    /// The manifest that lists the entries of `tree` (with the stamp `stamp` gives each file,
    /// and its part of `parts`), the entries `carried` over from the last manifest, and those
    /// of `old` that neither lists; written for `site`, with the fingerprints of `parts` when
    /// the tree was rendered from a fabric. As a delta (`form`), only the entries carried
    /// over of the parts it replaces are listed (the others are the manifest's on disk).
    ///
    /// The text is JSON with one entry a line (a tree of 100,000 hosts has close to a
    /// million: pretty printing would triple the file) and a final newline; entries sorted
    /// by path. The first line holds everything but the entries (see [`parse_lines`]).
    ///
    /// No map of the entries is made, and no text until it is written: the lines are made
    /// from the tree a window at a time (for 900,000 entries, such a map is 150 MB, the
    /// text 180 MB).
    pub(crate) fn for_tree(
        tree: &'a Tree,
        site: Option<&SiteStamp>,
        parts: Option<&'a TreeParts>,
        carried: &'a BTreeMap<RelPath, ManifestEntry>,
        old: Option<&'a BTreeMap<RelPath, ManifestEntry>>,
        stamp: &'a (dyn Fn(&RelPath) -> Option<Stamp> + Sync),
        form: &'a Form,
    ) -> ManifestLines<'a> {
        let old = old
            .into_iter()
            .flatten()
            .filter(|(path, _)| !tree.contains(path) && !carried.contains_key(*path));
        let (id, delta, file) = match form {
            Form::Whole(id) => (Some(*id), None, MANIFEST_FILE),
            Form::Delta(delta) => (None, Some(delta), MANIFEST_DELTA_FILE),
        };
        let replaced = delta.map(|d| &d.replaced);
        let carried = carried
            .iter()
            .filter(|(_, e)| replaced.is_none_or(|r| r.has(e.dom0())));
        let mut lines: Vec<Line<'_>> = tree
            .iter_parts()
            .map(|(path, entry, part)| Line::New(path, entry, part))
            .chain(carried.chain(old).map(|(p, e)| Line::Old(p, e)))
            .collect();
        lines.par_sort_unstable_by(|a, b| a.path().cmp(b.path()));
        let head = Head {
            format: MANIFEST_FORMAT,
            id,
            base: delta.map(|d| d.base),
            replaced,
            site,
            parts: parts.map(|p| &p.stamps),
        };
        Self::of(&head, file, lines, parts, stamp)
    }

    /// The manifest `head` describes, listing `lines`: an entry of the tree in its part of
    /// `parts`, a file with the stamp `stamp` gives it.
    fn of(
        head: &Head<'_>,
        file: &'static str,
        lines: Vec<Line<'a>>,
        parts: Option<&'a TreeParts>,
        stamp: &'a (dyn Fn(&RelPath) -> Option<Stamp> + Sync),
    ) -> ManifestLines<'a> {
        let mut first = Vec::with_capacity(256);
        first.extend_from_slice(b"{\"format\":");
        json(&mut first, &head.format);
        first.extend_from_slice(b",\"generator\":");
        json(&mut first, GENERATOR);
        if let Some(id) = head.id {
            first.extend_from_slice(b",\"id\":");
            json(&mut first, &id);
        }
        if let Some(base) = head.base {
            first.extend_from_slice(b",\"base\":");
            json(&mut first, &base);
        }
        if let Some(replaced) = head.replaced {
            first.extend_from_slice(b",\"replaced\":");
            json(&mut first, replaced);
        }
        first.extend_from_slice(b",\"site\":");
        json(&mut first, &head.site);
        if let Some(parts) = head.parts {
            first.extend_from_slice(b",\"parts\":");
            json(&mut first, parts);
        }
        first.extend_from_slice(b",\"entries\":{");
        ManifestLines {
            file,
            first,
            lines,
            parts,
            stamp,
        }
    }

    /// Hands the manifest's text to `each`, piece by piece, in order. The entries' lines are
    /// made on every core, a window of chunks at a time, each window handed over before the
    /// next is made.
    fn pieces(&self, mut each: impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        /// Lines a chunk (about 800 kB of text), chunks a window.
        const CHUNK: usize = 4096;
        const WINDOW: usize = 16;
        let new = |path: &RelPath, entry: &Entry, part: Part| {
            let dom0 = TreeParts::dom0_of(self.parts, part).map(str::to_owned);
            match entry {
                Entry::File { executable, .. } => ManifestEntry::File {
                    executable: *executable,
                    stamp: (self.stamp)(path),
                    dom0,
                },
                Entry::Symlink { target } => ManifestEntry::Symlink {
                    target: target.clone(),
                    dom0,
                },
            }
        };
        each(&self.first)?;
        let count = self.lines.len();
        for (w, window) in self.lines.chunks(CHUNK * WINDOW).enumerate() {
            let texts: Vec<Vec<u8>> = window
                .par_chunks(CHUNK)
                .enumerate()
                .map(|(c, chunk)| {
                    let mut out = Vec::with_capacity(chunk.len() * 160);
                    for (i, line) in chunk.iter().enumerate() {
                        out.extend_from_slice(b"\n");
                        json(&mut out, line.path().as_str());
                        out.push(b':');
                        match line {
                            Line::New(path, entry, part) => {
                                json(&mut out, &new(path, entry, *part));
                            }
                            Line::Old(_, entry) => json(&mut out, entry),
                        }
                        // a comma after every entry but the last
                        if (w * WINDOW + c) * CHUNK + i + 1 < count {
                            out.push(b',');
                        }
                    }
                    out
                })
                .collect();
            for text in &texts {
                each(text)?;
            }
        }
        each(b"\n}}\n")
    }

    /// The whole text, in pieces.
    pub(crate) fn text(&self) -> ManifestText {
        let mut pieces = Vec::new();
        // Collecting into memory cannot fail.
        let _ = self.pieces(|piece| {
            pieces.push(piece.to_vec());
            Ok(())
        });
        ManifestText {
            file: self.file,
            pieces,
        }
    }

    /// Writes the manifest (or its delta) atomically into `root`, its text made as it is
    /// written, unless the XXH3-128 hash of its text is `unless` (the file on disk is then
    /// this one already: nothing is replaced); the new name is synced, and a manifest
    /// written whole drops the delta on the last one. Returns the hash, and whether the file
    /// was replaced.
    pub(crate) fn write(
        &self,
        root: &Path,
        unless: Option<u128>,
    ) -> Result<(u128, bool), OutputError> {
        let mut hasher = Xxh3::new();
        let written = super::fsops::write_streamed_atomic(&root.join(self.file), 0o644, |file| {
            let mut file = io::BufWriter::with_capacity(1 << 20, file);
            self.pieces(|piece| {
                hasher.update(piece);
                file.write_all(piece)
            })?;
            file.flush()?;
            Ok(unless != Some(hasher.digest128()))
        })?;
        if written {
            written_into(root, self.file)?;
        }
        Ok((hasher.digest128(), written))
    }
}

/// After `file` (the manifest or its delta) was renamed into `root`: the name synced, and
/// after a manifest written whole, the delta on the last one removed. (A delta left by a
/// crash in between names the last manifest's `id`, and is ignored.)
fn written_into(root: &Path, file: &str) -> Result<(), OutputError> {
    super::fsops::sync_dir(root)?;
    if file == MANIFEST_FILE {
        super::fsops::remove_if_present(&root.join(MANIFEST_DELTA_FILE))?;
    }
    Ok(())
}

/// Serialises plain strings, booleans and integers into memory, which cannot fail.
fn json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let _ = serde_json::to_writer(out, value);
}

/// A manifest to write, as [`ManifestLines::for_tree`] describes it.
pub(crate) struct ManifestLines<'a> {
    /// The manifest's file, or its delta's.
    file: &'static str,
    first: Vec<u8>,
    lines: Vec<Line<'a>>,
    parts: Option<&'a TreeParts>,
    stamp: &'a (dyn Fn(&RelPath) -> Option<Stamp> + Sync),
}

/// A manifest's text, in the pieces [`ManifestLines::text`] made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ManifestText {
    file: &'static str,
    pieces: Vec<Vec<u8>>,
}

impl ManifestText {
    /// Writes the text atomically into `root` (as [`ManifestLines::write`]).
    pub(crate) fn write(&self, root: &Path) -> Result<(), OutputError> {
        let pieces: Vec<&[u8]> = self.pieces.iter().map(Vec::as_slice).collect();
        super::fsops::write_pieces_atomic(&root.join(self.file), &pieces, 0o644)?;
        written_into(root, self.file)
    }

    /// The text in one piece.
    #[cfg(test)]
    pub(crate) fn to_vec(&self) -> Vec<u8> {
        self.pieces.concat()
    }
}

/// The manifest read from disk.
#[derive(Debug)]
pub(crate) struct LoadedManifest {
    pub(crate) manifest: Manifest,
    /// The manifest's own modification time (its delta's, when it has one), in nanoseconds:
    /// a file stamped with a time as late may have been changed again within the clock's
    /// tick, and is read (git's "racily clean" entries).
    pub(crate) written: i64,
}

fn corrupt(path: &Path, message: &str) -> OutputError {
    OutputError::Manifest {
        path: path.to_owned(),
        source: serde_json::Error::custom(message),
    }
}

/// The manifest `file` holds, laid out as [`ManifestLines::for_tree`] writes it: read a
/// block at a time, each block's entries parsed on every core (the manifest of a
/// 110,000-host site is 180 MB, never held whole). `None` when the file is laid out
/// otherwise (an older or hand-made manifest, or entries out of order), for [`serde_json`] to
/// read it whole, and report what is wrong.
pub(super) fn parse_lines(file: &mut fs::File, len: u64) -> io::Result<Option<Manifest>> {
    // An entry's line (of the file's `len` bytes) is about 200 bytes: room for all of them at
    // once, as a vector that grew would copy them (and its untouched end costs no memory).
    let room = usize::try_from(len / 100).unwrap_or(0);
    parse_blocks(file, 16 << 20, room)
}

/// [`parse_lines`], reading `block` bytes at a time, with room for `room` entries.
pub(super) fn parse_blocks(
    file: &mut impl io::Read,
    block: u64,
    room: usize,
) -> io::Result<Option<Manifest>> {
    const OPEN: &[u8] = b",\"entries\":{";
    let mut buf: Vec<u8> =
        Vec::with_capacity(usize::try_from(block).unwrap_or(0).saturating_mul(2));
    // Reads until `buf` holds a newline or the file ends: the position of the last newline,
    // if any.
    let mut fill = |buf: &mut Vec<u8>| -> io::Result<Option<usize>> {
        loop {
            if let Some(at) = buf.iter().rposition(|b| *b == b'\n') {
                return Ok(Some(at));
            }
            if io::Read::take(&mut *file, block).read_to_end(buf)? == 0 {
                return Ok(None);
            }
        }
    };
    if fill(&mut buf)?.is_none() {
        return Ok(None);
    }
    let Some(first) = buf.iter().position(|b| *b == b'\n') else {
        return Ok(None);
    };
    let Some(head) = buf[..first].strip_suffix(OPEN) else {
        return Ok(None);
    };
    let mut header = head.to_vec();
    header.extend_from_slice(b",\"entries\":{}}");
    let Ok(mut manifest) = serde_json::from_slice::<Manifest>(&header) else {
        return Ok(None);
    };
    buf.drain(..=first);
    // (made a map at once at the end: built from sorted entries, a map's nodes are full)
    let mut entries: Vec<(RelPath, ManifestEntry)> = Vec::with_capacity(room);
    // Every entry's line ends with a comma but the last one's, which `}}` follows.
    let mut last_entry = false;
    let mut closed = false;
    let mut end = fill(&mut buf)?;
    while let Some(upto) = end {
        let lines: Vec<&[u8]> = buf[..upto].split(|b| *b == b'\n').collect();
        let parsed: Vec<Option<(RelPath, ManifestEntry, bool)>> = lines
            .par_iter()
            .map(|line| {
                if *line == b"}}" {
                    return None;
                }
                let (line, comma) = match line.strip_suffix(b",") {
                    Some(line) => (line, true),
                    None => (*line, false),
                };
                let (path, entry) = line::read(line)?;
                Some((path, entry, comma))
            })
            .collect();
        for (line, parsed) in lines.iter().zip(parsed) {
            if closed || last_entry && *line != b"}}" {
                return Ok(None);
            }
            match parsed {
                _ if *line == b"}}" => closed = true,
                None => return Ok(None),
                Some((path, entry, comma)) => {
                    if entries.last().is_some_and(|(last, _)| *last >= path) {
                        return Ok(None);
                    }
                    entries.push((path, entry));
                    last_entry = !comma;
                }
            }
        }
        if closed && !(last_entry || entries.is_empty()) {
            return Ok(None);
        }
        // the rest of the last line, then more
        buf.drain(..=upto);
        end = fill(&mut buf)?;
    }
    // the final newline ended the text
    if !(closed && buf.is_empty()) {
        return Ok(None);
    }
    manifest.entries = entries.into_iter().collect();
    Ok(Some(manifest))
}

/// Reads `<root>/.xenfab-manifest.json`, with its delta ([`MANIFEST_DELTA_FILE`]) when
/// there is one on this manifest; `Ok(None)` when it does not exist.
///
/// The manifest must be a regular file (a symlink is refused), valid JSON of
/// format 1 to 5 written by xenfab, and every path in it must be a valid
/// [`RelPath`]; so must the delta, of format 5. The manifest read with its delta lists the
/// delta's entries for the parts it `replaced`, the manifest's for the others, and keeps the
/// delta's `replaced`, `site` and `parts`.
pub(crate) fn read_manifest(root: &Path) -> Result<Option<LoadedManifest>, OutputError> {
    let whole = root.join(MANIFEST_FILE);
    let Some((mut manifest, mut written)) = read_file(&whole)? else {
        return Ok(None);
    };
    if manifest.base.is_some() || manifest.replaced.is_some() {
        return Err(corrupt(&whole, "the manifest is a delta"));
    }
    let Some(id) = manifest.id.filter(|_| manifest.format == MANIFEST_FORMAT) else {
        return Ok(Some(LoadedManifest { manifest, written }));
    };
    let path = root.join(MANIFEST_DELTA_FILE);
    let Some((delta, delta_written)) = read_file(&path)? else {
        return Ok(Some(LoadedManifest { manifest, written }));
    };
    let (Some(base), Some(replaced)) = (delta.base, delta.replaced) else {
        return Err(corrupt(
            &path,
            "a delta has a `base` and the parts it `replaced`",
        ));
    };
    if delta.format != MANIFEST_FORMAT {
        return Err(corrupt(&path, "a delta is of format 5"));
    }
    // A delta on another manifest is left by a run killed right after it wrote this one.
    if base == id {
        manifest
            .entries
            .retain(|_, entry| !replaced.has(entry.dom0()));
        manifest.entries.extend(delta.entries);
        manifest.site = delta.site;
        manifest.parts = delta.parts;
        manifest.replaced = Some(replaced);
        // Every stamp the delta carries was taken before it was written.
        written = delta_written;
    }
    Ok(Some(LoadedManifest { manifest, written }))
}

/// The manifest (or delta) at `path`, and when it was written (its modification time, in
/// nanoseconds); `Ok(None)` when there is none.
fn read_file(path: &Path) -> Result<Option<(Manifest, i64)>, OutputError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(OutputError::Io {
                action: "read",
                path: path.to_owned(),
                source,
            });
        }
    };
    if !meta.file_type().is_file() {
        return Err(corrupt(path, "the manifest is not a regular file"));
    }
    let io_error = |source| OutputError::Io {
        action: "read",
        path: path.to_owned(),
        source,
    };
    let lines = fs::File::open(path).and_then(|mut file| parse_lines(&mut file, meta.len()));
    let manifest: Manifest = if let Some(manifest) = lines.map_err(io_error)? {
        manifest
    } else {
        let bytes = fs::read(path).map_err(io_error)?;
        serde_json::from_slice(&bytes).map_err(|source| OutputError::Manifest {
            path: path.to_owned(),
            source,
        })?
    };
    if !(OLDEST_FORMAT..=MANIFEST_FORMAT).contains(&manifest.format) {
        return Err(corrupt(
            path,
            &format!(
                "unsupported manifest format {} (expected {OLDEST_FORMAT} to {MANIFEST_FORMAT})",
                manifest.format
            ),
        ));
    }
    if manifest.generator != GENERATOR {
        return Err(corrupt(
            path,
            &format!(
                "the manifest was written by `{}`, not by {GENERATOR}",
                manifest.generator
            ),
        ));
    }
    if manifest.format == OLDEST_FORMAT && manifest.site.is_some() {
        return Err(corrupt(path, "a format 1 manifest has no `site`"));
    }
    Ok(Some((manifest, Seen::of(&meta).mtime)))
}

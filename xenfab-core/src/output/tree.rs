//! The in-memory output tree that renderers fill.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use serde::Serialize;

use super::OutputError;
use super::path::{RelPath, validate_symlink_target};

/// One entry of the output tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Entry {
    /// A regular file, written with mode 0644 (0755 when `executable`).
    File {
        /// The full contents of the file.
        contents: String,
        /// Whether the file is written with mode 0755 instead of 0644.
        executable: bool,
    },
    /// A symbolic link.
    Symlink {
        /// The relative target, resolved from the link's own directory.
        target: String,
    },
}

impl Entry {
    /// The file mode xenfab gives this entry (`0o644`/`0o755` for files,
    /// `None` for symlinks).
    pub fn mode(&self) -> Option<u32> {
        match self {
            Entry::File { executable, .. } => Some(file_mode(*executable)),
            Entry::Symlink { .. } => None,
        }
    }
}

/// The permission bits of a file written by xenfab.
pub(crate) fn file_mode(executable: bool) -> u32 {
    if executable { 0o755 } else { 0o644 }
}

/// A part of a fabric's output tree: the site-wide files, or the files of one dom0 and its
/// guests. Every entry of a rendered tree belongs to one part, and a dom0's part is made from
/// that dom0 and the site-wide settings alone (never another dom0's), so that a part whose
/// inputs did not change need not be rendered again (see [`crate::fingerprint`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    /// The files about the whole site: DHCP, DNS, the inventory's tables, the shared boot
    /// menus. Also the part of every entry of a tree not rendered from a fabric.
    #[default]
    Site,
    /// The files of `fabric.dom0s[i]` and its guests.
    Dom0(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Slot {
    entry: Entry,
    part: Part,
    /// For a file whose contents were dropped ([`Tree::make_lean`]), what they were.
    digest: Option<Digest>,
}

/// The length and XXH3-128 hash of a file's contents: what a plan compares, and what a lean
/// tree keeps of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Digest {
    pub(crate) len: u64,
    pub(crate) xxh3: u128,
}

impl Digest {
    pub(crate) fn of(bytes: &[u8]) -> Digest {
        Digest {
            len: bytes.len() as u64,
            xxh3: xxhash_rust::xxh3::xxh3_128(bytes),
        }
    }
}

/// A set of files and symlinks to write, keyed by their path in the tree, each with the
/// [`Part`] it belongs to.
///
/// The tree is always consistent: no path appears twice and no file or
/// symlink is also the parent directory of another entry; the insert methods
/// refuse both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    entries: BTreeMap<RelPath, Slot>,
    /// The part that inserted entries belong to.
    part: Part,
    /// The files that are DNS zones, whose SOA serial the plan keeps or raises
    /// ([`Tree::insert_zone`]).
    zones: BTreeSet<RelPath>,
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty tree whose entries belong to `part`.
    pub fn for_part(part: Part) -> Self {
        Tree {
            part,
            ..Self::default()
        }
    }

    /// Adds a regular file with mode 0644.
    pub fn insert_file(
        &mut self,
        path: &str,
        contents: impl Into<String>,
    ) -> Result<(), OutputError> {
        self.insert(
            RelPath::new(path)?,
            Entry::File {
                contents: contents.into(),
                executable: false,
            },
        )
    }

    /// Adds a DNS zone file (RFC 1035 master file format) with mode 0644.
    ///
    /// Its SOA serial is the file's version, which secondaries compare, so the plan
    /// ([`plan`](super::plan)) gives it one that only moves when the zone does: when the
    /// zone on disk differs from `contents` in nothing but the serial, the file on disk is
    /// kept as it is (serial included, even one edited by hand); when the records changed, the
    /// new file gets the serial on disk plus one (RFC 1982 serial arithmetic, skipping 0).
    /// A new zone keeps the serial of `contents`.
    pub fn insert_zone(
        &mut self,
        path: &str,
        contents: impl Into<String>,
    ) -> Result<(), OutputError> {
        let path = RelPath::new(path)?;
        self.insert_file(path.as_str(), contents)?;
        self.zones.insert(path);
        Ok(())
    }

    /// Whether the file at `path` was inserted as a DNS zone ([`Tree::insert_zone`]).
    pub fn is_zone(&self, path: &RelPath) -> bool {
        self.zones.contains(path)
    }

    /// The paths of the DNS zone files, in path order.
    pub(crate) fn zones(&self) -> impl Iterator<Item = &RelPath> {
        self.zones.iter()
    }

    /// Replaces the contents of the file at `path`, keeping its mode; for the plan's serials.
    pub(crate) fn set_contents(&mut self, path: &RelPath, new: String) {
        if let Some(Slot {
            entry: Entry::File { contents, .. },
            ..
        }) = self.entries.get_mut(path)
        {
            *contents = new;
        }
    }

    /// Adds a regular file with mode 0755.
    pub fn insert_executable(
        &mut self,
        path: &str,
        contents: impl Into<String>,
    ) -> Result<(), OutputError> {
        self.insert(
            RelPath::new(path)?,
            Entry::File {
                contents: contents.into(),
                executable: true,
            },
        )
    }

    /// Adds a symlink at `path` pointing to `target` (relative to the link's
    /// directory; see [`Tree::insert`] for the rules).
    pub fn insert_symlink(
        &mut self,
        path: &str,
        target: impl Into<String>,
    ) -> Result<(), OutputError> {
        self.insert(
            RelPath::new(path)?,
            Entry::Symlink {
                target: target.into(),
            },
        )
    }

    /// Adds any entry.
    ///
    /// Fails with [`OutputError::DuplicatePath`] when `path` is already in the
    /// tree, with [`OutputError::FileDirConflict`] when `path` is an ancestor
    /// of an entry or an entry is an ancestor of `path`, and, for a symlink,
    /// with [`OutputError::InvalidSymlinkTarget`] or
    /// [`OutputError::SymlinkEscapes`] when the target is not a relative path
    /// (same characters as [`RelPath`], `..` only as leading components) that
    /// stays inside the tree.
    pub fn insert(&mut self, path: RelPath, entry: Entry) -> Result<(), OutputError> {
        if let Entry::Symlink { target } = &entry {
            validate_symlink_target(&path, target)?;
        }
        if self.entries.contains_key(&path) {
            return Err(OutputError::DuplicatePath { path });
        }
        let ancestor = path.ancestors().find(|a| self.entries.contains_key(a));
        if let Some(ancestor) = ancestor {
            return Err(OutputError::FileDirConflict {
                path: ancestor,
                child: path,
            });
        }
        let prefix = format!("{path}/");
        let descendant = self
            .entries
            .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
            .next()
            .filter(|(key, _)| key.as_str().starts_with(&prefix))
            .map(|(key, _)| key.clone());
        if let Some(child) = descendant {
            return Err(OutputError::FileDirConflict { path, child });
        }
        let part = self.part;
        self.entries.insert(
            path,
            Slot {
                entry,
                part,
                digest: None,
            },
        );
        Ok(())
    }

    /// Adds every entry of `other` (zones stay zones, each entry keeps its part), with the
    /// checks of [`Tree::insert`]: fails on the first path, in `other`'s order, that `self`
    /// already has or that conflicts with one of its entries.
    pub fn merge(&mut self, other: Tree) -> Result<(), OutputError> {
        if self.entries.is_empty() {
            let part = self.part;
            *self = other;
            self.part = part;
            return Ok(());
        }
        let own = self.part;
        for (path, slot) in other.entries {
            if other.zones.contains(&path) {
                self.zones.insert(path.clone());
            }
            self.part = slot.part;
            let inserted = self.insert(path.clone(), slot.entry);
            self.part = own;
            inserted?;
            if let Some(new) = self.entries.get_mut(&path) {
                new.digest = slot.digest;
            }
        }
        Ok(())
    }

    /// Takes out the entries whose path `take` takes, as a tree of their own (zones stay
    /// zones, each entry keeps its part and digest).
    pub(crate) fn split_off_where(&mut self, take: impl Fn(&RelPath) -> bool) -> Tree {
        let taken: Vec<RelPath> = self.entries.keys().filter(|p| take(p)).cloned().collect();
        let mut out = Tree::for_part(self.part);
        for path in taken {
            if let Some(slot) = self.entries.remove(&path) {
                if self.zones.remove(&path) {
                    out.zones.insert(path.clone());
                }
                out.entries.insert(path, slot);
            }
        }
        out
    }

    /// Drops the contents of every file but the zones, keeping their [`Digest`]: a tree
    /// that can be planned, but not written or shown (see [`super::plan_streamed`]). Zones
    /// keep theirs: the plan sets their serials by what is on disk.
    pub(crate) fn make_lean(&mut self) {
        for (path, slot) in &mut self.entries {
            if let Entry::File { contents, .. } = &mut slot.entry {
                if slot.digest.is_none() && !self.zones.contains(path) {
                    slot.digest = Some(Digest::of(contents.as_bytes()));
                    *contents = String::new();
                }
            }
        }
    }

    /// Whether the file at `path` had its contents dropped ([`Tree::make_lean`]).
    pub(crate) fn is_lean(&self, path: &RelPath) -> bool {
        self.entries.get(path).is_some_and(|s| s.digest.is_some())
    }

    /// The [`Digest`] of the contents of the file at `path`, kept or computed.
    pub(crate) fn digest(&self, path: &RelPath) -> Option<Digest> {
        let slot = self.entries.get(path)?;
        match &slot.entry {
            Entry::File { contents, .. } => Some(
                slot.digest
                    .unwrap_or_else(|| Digest::of(contents.as_bytes())),
            ),
            Entry::Symlink { .. } => None,
        }
    }

    /// Whether `bytes` are the contents of the file at `path` (by their digest, when the
    /// tree kept only that).
    pub(crate) fn holds(&self, path: &RelPath, bytes: &[u8]) -> bool {
        match self.entries.get(path) {
            Some(Slot {
                digest: Some(digest),
                ..
            }) => *digest == Digest::of(bytes),
            Some(Slot {
                entry: Entry::File { contents, .. },
                ..
            }) => contents.as_bytes() == bytes,
            _ => false,
        }
    }

    /// Empties every file's contents (their paths, modes and the symlinks stay): what a plan
    /// keeps once the files are written.
    pub(crate) fn forget_contents(&mut self) {
        for slot in self.entries.values_mut() {
            if let Entry::File { contents, .. } = &mut slot.entry {
                *contents = String::new();
            }
        }
    }

    /// The trees of `trees` in one, with the checks of [`Tree::insert`]: fails on the first
    /// path, in path order, that two trees have or that is below a file or symlink of
    /// another. As [`Tree::merge`] one by one, in one sort rather than one insert an entry:
    /// what [`crate::render()`] does with its thousands of parts.
    pub fn merge_all(trees: Vec<Tree>) -> Result<Tree, OutputError> {
        use rayon::prelude::*;
        let mut entries: Vec<(RelPath, Slot)> =
            Vec::with_capacity(trees.iter().map(Tree::len).sum());
        let mut zones = BTreeSet::new();
        for tree in trees {
            entries.extend(tree.entries);
            zones.extend(tree.zones);
        }
        entries.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = entries.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(OutputError::DuplicatePath {
                path: w[1].0.clone(),
            });
        }
        let paths: rustc_hash::FxHashSet<&str> =
            entries.iter().map(|(path, _)| path.as_str()).collect();
        let entry_above = |path: &RelPath| {
            let path = path.as_str();
            path.match_indices('/')
                .map(|(end, _)| &path[..end])
                .find(|above| paths.contains(above))
                .and_then(|above| RelPath::new(above).ok())
        };
        let conflict = entries
            .par_iter()
            .find_map_first(|(child, _)| Some((entry_above(child)?, child)));
        if let Some((path, child)) = conflict {
            return Err(OutputError::FileDirConflict {
                path,
                child: child.clone(),
            });
        }
        drop(paths);
        Ok(Tree {
            entries: entries.into_iter().collect(),
            part: Part::Site,
            zones,
        })
    }

    /// The entry at `path`, if any.
    pub fn get(&self, path: &RelPath) -> Option<&Entry> {
        self.entries.get(path).map(|slot| &slot.entry)
    }

    /// The part the entry at `path` belongs to, if there is one.
    pub fn part(&self, path: &RelPath) -> Option<Part> {
        self.entries.get(path).map(|slot| slot.part)
    }

    /// All entries with their parts, in path order.
    pub fn iter_parts(&self) -> impl Iterator<Item = (&RelPath, &Entry, Part)> {
        self.entries
            .iter()
            .map(|(path, slot)| (path, &slot.entry, slot.part))
    }

    /// Whether the tree has an entry at `path`.
    pub fn contains(&self, path: &RelPath) -> bool {
        self.entries.contains_key(path)
    }

    /// All entries, in path order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.entries.iter())
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the tree has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The entries of a [`Tree`] in path order ([`Tree::iter`]).
#[derive(Debug, Clone)]
pub struct Iter<'a>(std::collections::btree_map::Iter<'a, RelPath, Slot>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a RelPath, &'a Entry);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(path, slot)| (path, &slot.entry))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(path, slot)| (path, &slot.entry))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Tree {
    type Item = (&'a RelPath, &'a Entry);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

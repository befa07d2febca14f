//! Planning (read-only) and applying the writing of a tree.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::{self, Write as _};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashMap};
use serde::Serialize;
use similar::TextDiff;

use super::OutputError;
use super::fsops::{self, Node, TempName};
use super::leave::{Leave, Untouched};
use super::manifest::{
    Fingerprint, Form, LoadedManifest, MANIFEST_FORMAT, ManifestEntry, ManifestLines, ManifestText,
    SiteStamp, Stamp, TreeParts, read_manifest,
};
use super::path::RelPath;
use super::progress::{Counter, NoProgress, Progress, Step};
use super::tree::{Digest, Entry, Tree, file_mode};

/// The file [`Plan::apply`] keeps in the output root while it writes, directly in the root: a
/// run that finds it knows that the last one did not finish, and looks for the temporary
/// files it left. (A finished run's tree is not searched: at 900,000 entries that takes
/// seconds.)
pub const UNFINISHED_FILE: &str = ".xenfab-unfinished";

/// What [`Plan::apply`] does with one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// The path does not exist yet and is written.
    Create,
    /// The path exists and is owned by xenfab, but its contents, mode,
    /// symlink target or kind (file / symlink) differ: it is rewritten.
    Change,
    /// The path is already exactly right and is not touched. This includes
    /// identical files adopted from outside the manifest.
    Unchanged,
    /// The path was written by xenfab before but is no longer in the tree:
    /// it is removed.
    Remove,
}

/// The decision for one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The path in the tree.
    pub path: RelPath,
    /// What happens to it.
    pub kind: ChangeKind,
    /// What is on disk now, kept for the diff of a [`ChangeKind::Change`] and a
    /// [`ChangeKind::Remove`] (`None` otherwise: an unchanged file is what the tree holds, and
    /// is often known to be without reading it). File contents that are not UTF-8 are
    /// converted lossily.
    pub old: Option<Entry>,
}

/// How many lines one change adds and removes: a row of `xenfab render --stat`
/// ([`StreamedPlan::stat`](super::StreamedPlan::stat)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileStat {
    /// The path in the tree.
    pub path: RelPath,
    /// What happens to it: never [`ChangeKind::Unchanged`].
    pub kind: ChangeKind,
    /// Lines the new entry has that the old one had not (a symlink is one line, its target).
    pub insertions: usize,
    /// Lines the old entry had that the new one has not.
    pub deletions: usize,
}

/// The paths of a plan, grouped by what happens to them, each in path order. The entries the
/// plan leaves as they are ([`PlanOptions::untouched`], [`PlanOptions::hosts`]) are in none
/// of the lists, nor in [`Plan::changes`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Paths written for the first time.
    pub created: Vec<RelPath>,
    /// Paths rewritten.
    pub changed: Vec<RelPath>,
    /// Paths left alone.
    pub unchanged: Vec<RelPath>,
    /// Paths removed.
    pub removed: Vec<RelPath>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} created, {} changed, {} unchanged, {} removed",
            self.created.len(),
            self.changed.len(),
            self.unchanged.len(),
            self.removed.len()
        )
    }
}

/// What [`plan_with`] checks besides ownership.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// The site being rendered, recorded in the manifest. When the tree's
    /// manifest records another site (name or domain), planning fails with
    /// [`OutputError::OtherSite`]. `None` checks nothing and keeps the site
    /// the manifest records.
    pub site: Option<SiteStamp>,
    /// Render anyway over another site's tree, and remove more than half of
    /// the owned entries (see [`OutputError::MassRemoval`]). Files xenfab did
    /// not write are still never touched.
    pub force: bool,
    /// The directories of the tree to leave as they are: nothing below them is written,
    /// changed or removed, and the manifest keeps what it recorded of them, so that a later
    /// render without them brings them up to date (`xenfab render --no-dhcp`, `--no-tftp`).
    pub untouched: Vec<Untouched>,
    /// Write only the artefacts of these hosts of the fabric (dom0s or guests, by short name
    /// or FQDN; [`crate::render::owners`] says whose each entry is), and leave every other
    /// entry as [`untouched`](Self::untouched) directories are left: the site's files that
    /// list every host, the other hosts' entries, and those of hosts no longer in the fabric
    /// (`xenfab render --host`). Empty: every entry. Only a plan of a fabric
    /// ([`plan_fabric`](super::plan_fabric) and its kin) takes hosts: [`plan_with`] of a bare
    /// tree refuses them ([`OutputError::HostsOfNoFabric`]), and a name that is no host's is
    /// [`OutputError::UnknownHost`].
    pub hosts: Vec<String>,
}

/// What writing a tree into a directory will do, computed by [`plan`].
///
/// Holding a `Plan` does not lock anything: take a [`TreeLock`](super::TreeLock)
/// on the root before [`plan`] and keep it until [`Plan::apply`] is done, so
/// that nobody else changes the directory in between.
#[derive(Debug, Clone)]
pub struct Plan {
    root: PathBuf,
    /// Temporary files left by an interrupted run, removed by [`Plan::apply`].
    stale_temps: Vec<PathBuf>,
    /// Whether the last run left its [`UNFINISHED_FILE`]: [`Plan::apply`] removes it even
    /// when nothing else changes (a run killed right after its manifest was written leaves
    /// the tree as this one would, and the marker, which makes every run render the whole
    /// fabric).
    marker_left: bool,
    /// What will be on disk: the new entry of every change but a removal.
    tree: Tree,
    changes: Vec<Change>,
    /// Permission bits of the files on disk, for the diff's mode lines.
    old_modes: BTreeMap<RelPath, u32>,
    /// Removals that must happen before writing, because the removed entry
    /// is a parent of, or inside a directory in the place of, a new entry.
    early_removals: BTreeSet<RelPath>,
    /// Directories standing where a new entry goes; they only hold entries
    /// removed early and are removed before writing.
    clear_dirs: Vec<RelPath>,
    /// The site the new manifest records.
    site: Option<SiteStamp>,
    /// The parts the tree was rendered from.
    parts: Option<TreeParts>,
    /// The entries of the parts not rendered, as the last manifest lists them, for the new
    /// one.
    carried: BTreeMap<RelPath, ManifestEntry>,
    /// The stamps of the files left alone, as they are now.
    kept: FxHashMap<RelPath, Stamp>,
    /// The new manifest when nothing is written (a write changes the stamps, and the manifest
    /// is then made after the writes).
    manifest: Option<ManifestText>,
    manifest_changed: bool,
    /// When entries are created that the old manifest does not list, its entries (those not
    /// carried): [`Plan::apply`] first writes a manifest of them and the new ones. A run
    /// killed midway thus leaves a manifest that owns everything it may have written, and
    /// the next run can change or remove it. (Made by `apply`, not by a dry run.)
    intent: Option<BTreeMap<RelPath, ManifestEntry>>,
}

/// Compares `tree` with the directory `root` (which may not exist yet) and
/// its manifest, and decides what to do with every path. Reads but never
/// writes.
///
/// Fails, before anything is written, when:
/// * the root or a parent of an entry is not a directory
///   ([`OutputError::NotADirectory`]) or is a symlink
///   ([`OutputError::UnsafeParent`]; the root itself may be a symlink to a
///   directory),
/// * something not owned by xenfab stands at a tree path and is not exactly
///   what would be written ([`OutputError::NotOwned`], for the first such
///   path in order),
/// * the manifest is unreadable or corrupt ([`OutputError::Manifest`]).
///
/// A file or symlink owned by xenfab that stands where a new entry needs a
/// directory, and a directory where a new entry goes that holds nothing but
/// owned entries being removed (and directories), are removed before writing.
pub fn plan(root: &Path, tree: Tree) -> Result<Plan, OutputError> {
    plan_with(root, tree, &PlanOptions::default())
}

/// [`plan`], with the checks of `options`: it also fails, before anything is
/// written, when
/// * the manifest records another site than `options.site`
///   ([`OutputError::OtherSite`]),
/// * the plan would remove more than half of the entries the manifest lists
///   (counting those that are still there; [`OutputError::MassRemoval`]),
///
/// unless `options.force` is set. A manifest of format 1 records no site:
/// only the removal check applies to it.
///
/// A file the manifest stamped (formats 3 and 4) whose size,
/// inode and times on disk are still the stamp's, and whose new contents have the stamp's
/// hash, is left alone without being read; any other file at a tree path is read and compared.
pub fn plan_with(root: &Path, tree: Tree, options: &PlanOptions) -> Result<Plan, OutputError> {
    let leave = Leave::new(options, None)?;
    plan_loaded(
        root,
        open_root(root)?,
        tree,
        options,
        &leave,
        None,
        BTreeMap::new(),
    )
}

/// Whether the last run into `root` did not finish: it left [`UNFINISHED_FILE`].
pub(crate) fn left_unfinished(root: &Path) -> Result<bool, OutputError> {
    Ok(fsops::node(&root.join(UNFINISHED_FILE))? != Node::Missing)
}

/// Whether `root` is a directory (`false`: it does not exist yet), and its manifest, if any.
pub(crate) fn open_root(root: &Path) -> Result<(bool, Option<LoadedManifest>), OutputError> {
    let root_exists = match fs::metadata(root) {
        Ok(meta) if meta.is_dir() => true,
        Ok(_) => {
            return Err(OutputError::NotADirectory {
                path: root.to_owned(),
            });
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => false,
        Err(err) => return Err(fsops::io_error("inspect", root, err)),
    };
    let loaded = if root_exists {
        read_manifest(root)?
    } else {
        None
    };
    Ok((root_exists, loaded))
}

/// [`plan_with`] on what [`open_root`] found (`opened`), for a tree rendered from the parts
/// of a fabric when `parts` says so. The entries `carried` over, taken out of the loaded
/// manifest, are kept as they are on disk (the caller checked them), listed in the new
/// manifest and neither written nor removed; so are those `leave` covers.
pub(crate) fn plan_loaded(
    root: &Path,
    opened: (bool, Option<LoadedManifest>),
    tree: Tree,
    options: &PlanOptions,
    leave: &Leave<'_>,
    parts: Option<TreeParts>,
    carried: BTreeMap<RelPath, ManifestEntry>,
) -> Result<Plan, OutputError> {
    let (root_exists, loaded) = opened;
    let recorded = loaded.as_ref().and_then(|l| l.manifest.site.clone());
    if !options.force {
        if let (Some(found), Some(wanted)) = (&recorded, &options.site) {
            if !found.same_site(wanted) {
                return Err(OutputError::OtherSite {
                    root: root.to_owned(),
                    found: Box::new(found.clone()),
                    wanted: Box::new(wanted.clone()),
                });
            }
        }
    }
    let (mut tree, mut loaded, mut carried) = (tree, loaded, carried);
    leave.carry(&mut tree, loaded.as_mut(), &mut carried);
    let (owned, written) = match &loaded {
        Some(loaded) => (&loaded.manifest.entries, loaded.written),
        None => (&BTreeMap::new(), i64::MIN),
    };

    // A zone's serial moves only when its records do (serial.rs): decided against the disk
    // before anything is compared.
    if root_exists {
        super::serial::reconcile(root, &mut tree, owned)?;
    }
    // A part rendered again that now makes an entry of a part carried over: the two parts
    // claim one path, which a render of the whole fabric refuses too.
    if let Some(path) = carried.keys().find(|p| tree.contains(p)) {
        return Err(OutputError::DuplicatePath { path: path.clone() });
    }
    let mut planner = Planner {
        root,
        tree: &tree,
        removals: owned
            .keys()
            .filter(|p| !tree.contains(p))
            .cloned()
            .collect(),
        owned,
        written,
        nodes: BTreeMap::new(),
        changes: Vec::new(),
        kept: FxHashMap::default(),
        old_modes: BTreeMap::new(),
        early_removals: BTreeSet::new(),
        clear_dirs: Vec::new(),
    };
    if root_exists {
        planner.plan_entries()?;
        planner.plan_removals()?;
    } else {
        for (path, _) in &tree {
            planner.push(path.clone(), ChangeKind::Create, None);
        }
    }
    // the entries left as they are are in no list: they were not compared with the tree
    for path in carried.keys().filter(|path| !leave.covers(path)) {
        planner.push(path.clone(), ChangeKind::Unchanged, None);
    }

    // What is really removed: owned entries already gone do not count.
    let removed = planner
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Remove)
        .count();
    let owned_len = owned.len() + carried.len();
    if !options.force && removed * 2 > owned_len {
        return Err(OutputError::MassRemoval {
            root: root.to_owned(),
            removed,
            owned: owned_len,
        });
    }
    // Only a run that did not finish leaves temporary files: one of this version leaves its
    // marker, one of an older version a manifest without stamps.
    let marker_left = root_exists && left_unfinished(root)?;
    let unfinished = match &loaded {
        Some(loaded) => loaded.manifest.format < MANIFEST_FORMAT || marker_left,
        None => root_exists,
    };
    let stale_temps = if unfinished {
        stale_temps(root, &tree, owned, &carried)?
    } else {
        Vec::new()
    };
    let site = options.site.clone().or(recorded);
    let creates_unowned = planner
        .changes
        .iter()
        .any(|c| c.kind == ChangeKind::Create && !owned.contains_key(&c.path));
    let Planner {
        mut changes,
        kept,
        old_modes,
        early_removals,
        clear_dirs,
        ..
    } = planner;
    let writes = changes.iter().any(|c| c.kind != ChangeKind::Unchanged);
    // With nothing written, a stamp made stale by a touch stays as it is (that file is read
    // again next time, and stamped again by the next run that writes): a run with nothing to
    // do writes nothing. Missing stamps (a format 2 manifest) are added.
    let current = !writes
        && loaded.as_ref().is_some_and(|loaded| {
            loaded.manifest.format == MANIFEST_FORMAT
                && loaded.manifest.site == site
                && loaded.manifest.parts.as_ref() == parts.as_ref().map(|p| &p.stamps)
                && lists_exactly(&loaded.manifest.entries, &tree, parts.as_ref())
        });
    let manifest = (!writes && !current).then(|| {
        let recorded = |path: &RelPath| match owned.get(path) {
            Some(ManifestEntry::File { stamp, .. }) => *stamp,
            _ => None,
        };
        ManifestLines::for_tree(
            &tree,
            site.as_ref(),
            parts.as_ref(),
            &carried,
            None,
            &|path| recorded(path).or_else(|| kept.get(path).copied()),
            &Form::Whole(Fingerprint::fresh()),
        )
        .text()
    });
    // A manifest that is not current differs from the one on disk.
    let manifest_changed = match (&loaded, &manifest) {
        _ if current => false,
        (None, Some(_)) => !tree.is_empty(),
        _ => true,
    };
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    let intent = creates_unowned.then(|| loaded.map(|l| l.manifest.entries).unwrap_or_default());
    Ok(Plan {
        root: root.to_owned(),
        stale_temps,
        marker_left,
        tree,
        changes,
        old_modes,
        early_removals,
        clear_dirs,
        site,
        parts,
        carried,
        kept,
        manifest,
        manifest_changed,
        intent,
    })
}

/// Whether the manifest `entries` (those of the last manifest not carried over) list exactly
/// the entries of `tree`, each file stamped, each entry in its part: the manifest a plan with
/// nothing to write would write again (the stamps kept).
fn lists_exactly(
    entries: &BTreeMap<RelPath, ManifestEntry>,
    tree: &Tree,
    parts: Option<&TreeParts>,
) -> bool {
    entries.len() == tree.len()
        && entries
            .iter()
            .zip(tree.iter_parts())
            .all(|((old_path, old), (path, new, part))| {
                old_path == path
                    && old.dom0() == TreeParts::dom0_of(parts, part)
                    && match (old, new) {
                        (
                            ManifestEntry::File {
                                executable,
                                stamp: Some(_),
                                ..
                            },
                            Entry::File { executable: e, .. },
                        ) => executable == e,
                        (ManifestEntry::Symlink { target, .. }, Entry::Symlink { target: t }) => {
                            target == t
                        }
                        _ => false,
                    }
            })
}

/// xenfab's temporary files (see [`fsops::is_temp_name`]) in the root and in
/// every directory of the tree, of the owned entries or of those `carried` over that is a
/// real directory: what a killed run leaves behind. A directory whose entries a run leaves as
/// they are (`--no-dhcp`, `--host`) is searched too: the temporary files are xenfab's, not
/// entries, and the run that leaves them ends the unfinished run's marker.
fn stale_temps(
    root: &Path,
    tree: &Tree,
    owned: &BTreeMap<RelPath, ManifestEntry>,
    carried: &BTreeMap<RelPath, ManifestEntry>,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut dirs: BTreeSet<RelPath> = BTreeSet::new();
    let paths = tree.iter().map(|(p, _)| p);
    for path in paths.chain(owned.keys()).chain(carried.keys()) {
        dirs.extend(path.ancestors());
    }
    let mut found = fsops::temp_files_in(root)?;
    for dir in &dirs {
        if fsops::parents_are_dirs(root, dir)?
            && fsops::node(&root.join(dir.as_str()))? == Node::Dir
        {
            found.extend(fsops::temp_files_in(&root.join(dir.as_str()))?);
        }
    }
    Ok(found)
}

/// What [`Planner::inspect`] found at a path.
enum Inspected {
    /// A file xenfab wrote, still as it wrote it, with the new contents.
    Unchanged(Stamp),
    /// Anything else: decided in [`Planner::plan_entries`].
    Node(Node),
}

struct Planner<'a> {
    root: &'a Path,
    tree: &'a Tree,
    /// The entries of the old manifest.
    owned: &'a BTreeMap<RelPath, ManifestEntry>,
    /// When the old manifest was written (`LoadedManifest::written`).
    written: i64,
    /// Paths in the old manifest but not in the tree.
    removals: BTreeSet<RelPath>,
    /// Cache of the parent directories inspected.
    nodes: BTreeMap<RelPath, Node>,
    changes: Vec<Change>,
    /// The stamps of the files found unchanged.
    kept: FxHashMap<RelPath, Stamp>,
    old_modes: BTreeMap<RelPath, u32>,
    early_removals: BTreeSet<RelPath>,
    clear_dirs: Vec<RelPath>,
}

impl Planner<'_> {
    fn full(&self, path: &RelPath) -> PathBuf {
        self.root.join(path.as_str())
    }

    fn push(&mut self, path: RelPath, kind: ChangeKind, old: Option<Entry>) {
        self.changes.push(Change { path, kind, old });
    }

    /// The stamp the old manifest gives the file at `path`, if it can be trusted: a file
    /// stamped within the manifest's own clock tick may have changed again unseen.
    fn stamp(&self, path: &RelPath) -> Option<Stamp> {
        match self.owned.get(path)? {
            ManifestEntry::File {
                stamp: Some(stamp), ..
            } if stamp.trusted(self.written) => Some(*stamp),
            _ => None,
        }
    }

    fn cached_node(&mut self, path: &RelPath) -> Result<Node, OutputError> {
        if let Some(node) = self.nodes.get(path) {
            return Ok(*node);
        }
        let node = fsops::node(&self.full(path))?;
        self.nodes.insert(path.clone(), node);
        Ok(node)
    }

    /// Checks the parents of `path`. Returns `true` when they all exist as
    /// real directories, `false` when one is missing (or will be removed
    /// before writing), so that `path` does not exist.
    fn check_parents(&mut self, path: &RelPath) -> Result<bool, OutputError> {
        for ancestor in path.ancestors() {
            match self.cached_node(&ancestor)? {
                Node::Dir => {}
                Node::Missing => return Ok(false),
                Node::File { .. } | Node::Symlink if self.removals.contains(&ancestor) => {
                    self.early_removals.insert(ancestor);
                    return Ok(false);
                }
                Node::Symlink => {
                    return Err(OutputError::UnsafeParent {
                        path: self.full(&ancestor),
                    });
                }
                Node::File { .. } | Node::Other => {
                    return Err(OutputError::NotADirectory {
                        path: self.full(&ancestor),
                    });
                }
            }
        }
        Ok(true)
    }

    /// What is at `path` on disk; `Unchanged` for a file whose stamp still holds and whose
    /// new contents have the stamp's hash, unread. (Through whatever is there: the caller
    /// checks the parents before using the answer.)
    fn inspect(&self, path: &RelPath, new: &Entry) -> Result<Inspected, OutputError> {
        let node = fsops::node(&self.full(path))?;
        if let (Node::File { mode, len, seen }, Entry::File { executable, .. }) = (node, new) {
            let stamp = self.stamp(path).filter(|stamp| stamp.matches(len, seen));
            if let Some(stamp) = stamp {
                let holds = self.tree.digest(path).is_some_and(|d| stamp.holds(d));
                if file_mode(*executable) == mode && holds {
                    return Ok(Inspected::Unchanged(stamp));
                }
            }
        }
        Ok(Inspected::Node(node))
    }

    fn plan_entries(&mut self) -> Result<(), OutputError> {
        let tree = self.tree;
        // Every entry is inspected on every core (the stats and hashes are most of a plan's
        // time), then decided in path order.
        let entries: Vec<(&RelPath, &Entry)> = tree.iter().collect();
        let this = &*self;
        let inspected: Vec<Result<Inspected, OutputError>> = entries
            .par_iter()
            .map(|(path, new)| this.inspect(path, new))
            .collect();
        // The directory whose parents were last found to be real directories: the entries
        // of one directory come one after another.
        let mut checked: Option<&str> = None;
        for ((path, new), inspected) in entries.into_iter().zip(inspected) {
            let parent = path.parent_str();
            if parent.is_some() && parent != checked {
                if !self.check_parents(path)? {
                    checked = None;
                    self.push(path.clone(), ChangeKind::Create, None);
                    continue;
                }
                checked = parent;
            }
            let full = self.full(path);
            let node = match inspected? {
                Inspected::Unchanged(stamp) => {
                    // What xenfab wrote is still there.
                    self.kept.insert(path.clone(), stamp);
                    self.push(path.clone(), ChangeKind::Unchanged, None);
                    continue;
                }
                Inspected::Node(node) => node,
            };
            match node {
                Node::Missing => {
                    self.push(path.clone(), ChangeKind::Create, None);
                }
                Node::Dir => {
                    let mut leaves = Vec::new();
                    if !self.owned_leaves(path, &mut leaves)? {
                        return Err(OutputError::NotOwned { path: full });
                    }
                    self.early_removals.extend(leaves);
                    self.clear_dirs.push(path.clone());
                    self.push(path.clone(), ChangeKind::Create, None);
                }
                Node::Other => return Err(OutputError::NotOwned { path: full }),
                Node::File { mode, len, seen } => {
                    let owned = self.owned.contains_key(path);
                    let plausible = match new {
                        Entry::File { executable, .. } => {
                            self.tree.digest(path).is_some_and(|d| d.len == len)
                                && file_mode(*executable) == mode
                        }
                        Entry::Symlink { .. } => false,
                    };
                    if !owned && !plausible {
                        return Err(OutputError::NotOwned { path: full });
                    }
                    let bytes = fsops::read_file(&full)?;
                    let same = plausible && tree.holds(path, &bytes);
                    if !owned && !same {
                        return Err(OutputError::NotOwned { path: full });
                    }
                    if same {
                        self.kept.insert(path.clone(), Stamp::new(&bytes, seen));
                        self.push(path.clone(), ChangeKind::Unchanged, None);
                        continue;
                    }
                    let old = Entry::File {
                        contents: String::from_utf8_lossy(&bytes).into_owned(),
                        executable: mode & 0o111 != 0,
                    };
                    self.old_modes.insert(path.clone(), mode);
                    self.push(path.clone(), ChangeKind::Change, Some(old));
                }
                Node::Symlink => {
                    let owned = self.owned.contains_key(path);
                    let target = fsops::read_link(&full)?;
                    let same =
                        matches!(new, Entry::Symlink { target: t } if t.as_bytes() == target);
                    if !owned && !same {
                        return Err(OutputError::NotOwned { path: full });
                    }
                    if same {
                        self.push(path.clone(), ChangeKind::Unchanged, None);
                        continue;
                    }
                    let old = Entry::Symlink {
                        target: String::from_utf8_lossy(&target).into_owned(),
                    };
                    self.push(path.clone(), ChangeKind::Change, Some(old));
                }
            }
        }
        Ok(())
    }

    /// Collects the non-directories below the directory `dir` into `leaves`;
    /// returns `false` as soon as one is not an owned entry being removed.
    fn owned_leaves(&self, dir: &RelPath, leaves: &mut Vec<RelPath>) -> Result<bool, OutputError> {
        let full = self.full(dir);
        let entries = fs::read_dir(&full).map_err(|err| fsops::io_error("read", &full, err))?;
        for entry in entries {
            let entry = entry.map_err(|err| fsops::io_error("read", &full, err))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                return Ok(false);
            };
            let Ok(child) = RelPath::new(&format!("{dir}/{name}")) else {
                return Ok(false);
            };
            let file_type = entry
                .file_type()
                .map_err(|err| fsops::io_error("inspect", &entry.path(), err))?;
            if file_type.is_dir() {
                if !self.owned_leaves(&child, leaves)? {
                    return Ok(false);
                }
            } else if self.removals.contains(&child) {
                leaves.push(child);
            } else {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn plan_removals(&mut self) -> Result<(), OutputError> {
        let removals: Vec<RelPath> = self.removals.iter().cloned().collect();
        for path in removals {
            let mut reachable = true;
            for ancestor in path.ancestors() {
                if self.cached_node(&ancestor)? != Node::Dir {
                    reachable = false;
                    break;
                }
            }
            if !reachable {
                // Gone, or behind something that is not ours: nothing to do.
                self.early_removals.remove(&path);
                continue;
            }
            let full = self.full(&path);
            let old = match fsops::node(&full)? {
                Node::File { mode, .. } => {
                    let bytes = fsops::read_file(&full)?;
                    self.old_modes.insert(path.clone(), mode);
                    Entry::File {
                        contents: String::from_utf8_lossy(&bytes).into_owned(),
                        executable: mode & 0o111 != 0,
                    }
                }
                Node::Symlink => Entry::Symlink {
                    target: String::from_utf8_lossy(&fsops::read_link(&full)?).into_owned(),
                },
                Node::Missing | Node::Dir | Node::Other => {
                    self.early_removals.remove(&path);
                    continue;
                }
            };
            self.push(path, ChangeKind::Remove, Some(old));
        }
        Ok(())
    }
}

impl Plan {
    /// For a plan of [`plan_fabric`](super::plan_fabric): how many of the fabric's parts
    /// were rendered, and how many it has (the others' entries were carried over).
    pub fn parts_rendered(&self) -> Option<(usize, usize)> {
        self.parts.as_ref().map(|p| p.rendered)
    }

    /// For a plan of [`plan_fabric`](super::plan_fabric) that leaves entries as they are
    /// ([`PlanOptions::untouched`], [`PlanOptions::hosts`]): the parts whose entries left are
    /// not up to date, which a render leaving nothing brings up to date. A part rendered is
    /// one when an entry it left is not what the fabric now makes; a part not rendered
    /// because it has none of [`PlanOptions::hosts`] is one when it would have been rendered
    /// (its inputs changed, or one of its files on disk). `None` is the site's part (its files
    /// list every host), then the dom0s' (each with its guests) by name, in the fabric's
    /// order.
    pub fn left_behind(&self) -> Vec<Option<&str>> {
        let Some(parts) = &self.parts else {
            return Vec::new();
        };
        let behind = &parts.left_behind;
        behind
            .site
            .then_some(None)
            .into_iter()
            .chain(
                parts
                    .names
                    .iter()
                    .filter(|name| behind.dom0s.contains(name.as_str()))
                    .map(|name| Some(name.as_str())),
            )
            .collect()
    }

    /// For a plan of [`plan_fabric`](super::plan_fabric): whether the site's part was
    /// rendered without its sections ([`in_section`](crate::render::in_section)), whose files
    /// are carried over as the tree has them.
    pub fn sections_kept(&self) -> bool {
        self.sections() == crate::render::Sections::Kept
    }

    /// The tree the plan writes.
    pub(crate) fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Whether the site's part of the tree was rendered with its sections, or they were
    /// kept (and its files carried over): how to render the part again.
    pub(crate) fn sections(&self) -> crate::render::Sections {
        self.parts
            .as_ref()
            .map_or(crate::render::Sections::Rendered, |p| p.sections)
    }

    /// The output directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The decision for every path of the tree and every removed path, in
    /// path order.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// What `change` leaves on disk: its entry of the tree (`None` for a removal).
    pub fn new_entry(&self, change: &Change) -> Option<&Entry> {
        match change.kind {
            ChangeKind::Remove => None,
            _ => self.tree.get(&change.path),
        }
    }

    /// The paths grouped by decision.
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for change in &self.changes {
            let list = match change.kind {
                ChangeKind::Create => &mut summary.created,
                ChangeKind::Change => &mut summary.changed,
                ChangeKind::Unchanged => &mut summary.unchanged,
                ChangeKind::Remove => &mut summary.removed,
            };
            list.push(change.path.clone());
        }
        summary
    }

    /// Whether the manifest will be (re)written: the set of owned entries
    /// changed, or existing files are adopted.
    pub fn manifest_changed(&self) -> bool {
        self.manifest_changed
    }

    /// Temporary files left by an interrupted run, which [`Plan::apply`]
    /// removes first.
    pub fn stale_temps(&self) -> &[PathBuf] {
        &self.stale_temps
    }

    /// Whether [`Plan::apply`] would write nothing at all, manifest included.
    pub fn is_noop(&self) -> bool {
        !self.manifest_changed
            && !self.marker_left
            && self.stale_temps.is_empty()
            && self
                .changes
                .iter()
                .all(|change| change.kind == ChangeKind::Unchanged)
    }

    /// A unified diff (3 lines of context) of every created, changed and
    /// removed entry, in path order.
    ///
    /// Each entry starts with `--- a/<path>` / `+++ b/<path>` headers
    /// (`/dev/null` on the missing side). A symlink is shown as the single
    /// line `symlink -> <target>`. A change of file mode is shown as a line
    /// `mode 100644 -> 100755` after the headers, and a new executable file
    /// as `new file mode 100755`.
    pub fn diff(&self) -> String {
        let mut out = String::new();
        for change in &self.changes {
            // Writing into a String cannot fail.
            let _ = self.write_change(change, &mut out);
        }
        out
    }

    /// Writes [`Plan::diff`] into `out` one entry at a time, without holding the whole diff
    /// (a dry run into an empty directory shows every file of the tree).
    pub fn write_diff(&self, out: &mut impl io::Write) -> io::Result<()> {
        let mut text = String::new();
        for change in &self.changes {
            text.clear();
            // Writing into a String cannot fail.
            let _ = self.write_change(change, &mut text);
            out.write_all(text.as_bytes())?;
        }
        Ok(())
    }

    /// The diff of one change (nothing for an unchanged entry).
    fn write_change(&self, change: &Change, out: &mut String) -> fmt::Result {
        self.write_change_to(change, self.new_entry(change), out)
    }

    /// The lines one change whose new entry is `new` (`None` for a removal) adds and
    /// removes, counted on the texts [`Plan::write_diff`] compares (nothing for an unchanged
    /// entry).
    pub(crate) fn stat_of(change: &Change, new: Option<&Entry>) -> Option<FileStat> {
        if change.kind == ChangeKind::Unchanged {
            return None;
        }
        let old_text = change.old.as_ref().map(entry_text).unwrap_or_default();
        let new_text = new.map(entry_text).unwrap_or_default();
        let (mut insertions, mut deletions) = (0, 0);
        for op in TextDiff::from_lines(old_text.as_str(), new_text.as_str()).ops() {
            match *op {
                similar::DiffOp::Insert { new_len, .. } => insertions += new_len,
                similar::DiffOp::Delete { old_len, .. } => deletions += old_len,
                similar::DiffOp::Replace {
                    old_len, new_len, ..
                } => {
                    insertions += new_len;
                    deletions += old_len;
                }
                similar::DiffOp::Equal { .. } => {}
            }
        }
        Some(FileStat {
            path: change.path.clone(),
            kind: change.kind,
            insertions,
            deletions,
        })
    }

    /// The diff of one change whose new entry is `new` (`None` for a removal).
    pub(crate) fn write_change_to(
        &self,
        change: &Change,
        new: Option<&Entry>,
        out: &mut String,
    ) -> fmt::Result {
        let path = &change.path;
        let (old_label, new_label) = match change.kind {
            ChangeKind::Unchanged => return Ok(()),
            ChangeKind::Create => ("/dev/null".to_owned(), format!("b/{path}")),
            ChangeKind::Remove => (format!("a/{path}"), "/dev/null".to_owned()),
            ChangeKind::Change => (format!("a/{path}"), format!("b/{path}")),
        };
        writeln!(out, "--- {old_label}")?;
        writeln!(out, "+++ {new_label}")?;
        match (&change.old, new) {
            (Some(Entry::File { .. }), Some(new @ Entry::File { .. })) => {
                let modes = self.old_modes.get(path).copied().zip(new.mode());
                if let Some((old_mode, new_mode)) = modes.filter(|(old, new)| old != new) {
                    writeln!(
                        out,
                        "mode {:06o} -> {:06o}",
                        0o100_000 | old_mode,
                        0o100_000 | new_mode
                    )?;
                }
            }
            (
                None,
                Some(Entry::File {
                    executable: true, ..
                }),
            ) => writeln!(out, "new file mode 100755")?,
            _ => {}
        }
        let old_text = change.old.as_ref().map(entry_text).unwrap_or_default();
        let new_text = new.map(entry_text).unwrap_or_default();
        let diff = TextDiff::from_lines(old_text.as_str(), new_text.as_str());
        for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
            write!(out, "{hunk}")?;
        }
        Ok(())
    }

    /// Writes the plan.
    ///
    /// Order:
    /// 1. temporary files left by an interrupted run are removed; when entries are created
    ///    that the manifest does not list yet, a manifest listing the old entries and the new
    ///    ones is written first (so that a run killed midway leaves nothing the next run does
    ///    not own); owned entries in the way of new ones are removed;
    /// 2. missing directories are created (mode 0755), and each created or changed file is
    ///    written to a temporary file with a unique name beside it, on every core;
    /// 3. the filesystem is synced once (`syncfs`), so that every temporary file's contents
    ///    are on disk before any of them gets its name;
    /// 4. the temporary files are renamed into place and new symlinks created (a changed
    ///    symlink is made under a temporary name and renamed too), on every core;
    /// 5. removed entries are deleted and their parent directories pruned while empty
    ///    (never the root);
    /// 6. the filesystem is synced again, for the names;
    /// 7. the manifest, with the stamps of the files as they now are, is written atomically
    ///    if it changed, and the root synced.
    ///
    /// A reader, and a crash at any point, sees each path either as it was or as it will
    /// be, never a partial file. Unchanged entries are not touched, and a no-op plan writes
    /// nothing at all. (Where `syncfs` does not exist, each temporary file and each directory
    /// is synced instead.)
    ///
    /// Call it with a [`TreeLock`](super::TreeLock) held since [`plan`].
    ///
    /// If a write fails, the temporary files not yet renamed are removed and the error names
    /// the path; entries already renamed stay written, and the manifest on disk (the old one,
    /// or the one written first) owns them, so the next run takes them over.
    pub fn apply(self) -> Result<Summary, OutputError> {
        self.apply_staging(&NoProgress, |root, _, writes| stage_all(root, writes))
    }

    /// [`Plan::apply`], with the created and changed entries staged (step 2) by `stage`,
    /// given the root, the plan's tree and the writes in path order: the entries under their
    /// temporary names, in the order of the writes or any other. `progress` is told of the
    /// steps after it (the syncs, the renames, the manifest).
    pub(crate) fn apply_staging<E: From<OutputError>>(
        mut self,
        progress: &dyn Progress,
        stage: impl FnOnce(&Path, &Tree, &[Write<'_>]) -> Result<Vec<Staged>, E>,
    ) -> Result<Summary, E> {
        let summary = self.summary();
        if self.is_noop() {
            return Ok(summary);
        }
        let root = self.root.as_path();
        fsops::ensure_root(root)?;
        // Until the manifest is written: tells the next run to look for temporary files.
        let unfinished = root.join(UNFINISHED_FILE);
        fsops::write_file_atomic(&unfinished, b"", 0o644)?;
        fsops::sync_dir(root)?;
        // Directories whose names changed: synced where there is no syncfs.
        let mut touched: BTreeSet<PathBuf> = BTreeSet::new();
        let dir_of = |path: &Path| path.parent().unwrap_or(root).to_owned();

        for temp in &self.stale_temps {
            fsops::remove_if_present(temp)?;
            touched.insert(dir_of(temp));
        }
        // The files written get their stamps once they are on disk. (Of this manifest only
        // its digest is kept: the last one is not written again when it is the same.)
        let intent = self.intent.take();
        let id = Fingerprint::fresh();
        let form = self.manifest_form(intent.as_ref(), id);
        let intent = match intent {
            Some(old) => {
                let (digest, _) = ManifestLines::for_tree(
                    &self.tree,
                    self.site.as_ref(),
                    self.parts.as_ref(),
                    &self.carried,
                    Some(&old),
                    &|path| self.kept.get(path).copied(),
                    &form,
                )
                .write(root, None)?;
                Some(digest)
            }
            None => None,
        };
        for path in &self.early_removals {
            fsops::remove_owned(root, path)?;
            touched.insert(dir_of(&root.join(path.as_str())));
            fsops::prune_parents(root, path, &mut touched);
        }
        for dir in &self.clear_dirs {
            let full = root.join(dir.as_str());
            fsops::remove_empty_dirs(&full)?;
            touched.insert(dir_of(&full));
        }

        let writes: Vec<Write<'_>> = self
            .changes
            .iter()
            .filter(|c| matches!(c.kind, ChangeKind::Create | ChangeKind::Change))
            .filter_map(|c| {
                Some(Write {
                    path: &c.path,
                    kind: c.kind,
                    entry: self.tree.get(&c.path)?,
                })
            })
            .collect();
        let mut dirs = HashSet::new();
        for write in &writes {
            fsops::ensure_parents(root, write.path, &mut dirs, &mut touched)?;
            touched.insert(dir_of(&root.join(write.path.as_str())));
        }
        let staged = stage(root, &self.tree, &writes)?;
        drop(writes);
        // What is written is in the temporary files: the contents are not needed any more
        // (a first write of 110,000 hosts holds 800 MB of them).
        self.tree.forget_contents();
        progress.start(Step::Sync, 0);
        fsops::sync_filesystem(root)?;
        progress.start(Step::Rename, staged.len() as u64);
        let stamps = rename_all(root, staged, progress)?;

        for change in &self.changes {
            if change.kind == ChangeKind::Remove && !self.early_removals.contains(&change.path) {
                fsops::remove_owned(root, &change.path)?;
                touched.insert(dir_of(&root.join(change.path.as_str())));
                fsops::prune_parents(root, &change.path, &mut touched);
            }
        }

        // The entries' names reach the disk before the manifest that lists them.
        // (A directory removed since, or now behind a file, needs nothing: its parent is
        // in the set.)
        progress.start(Step::Sync, 0);
        fsops::sync_names(root, touched.iter().map(PathBuf::as_path))?;
        settle_clock(stamps.values());
        progress.start(Step::Manifest, 0);
        // A manifest made with the plan is one of a run that writes no entry, so wrote none
        // before them either; one made now is not written again when it is the same as the
        // one written before the entries.
        match &self.manifest {
            _ if !self.manifest_changed => {}
            Some(manifest) => manifest.write(root)?,
            None => {
                ManifestLines::for_tree(
                    &self.tree,
                    self.site.as_ref(),
                    self.parts.as_ref(),
                    &self.carried,
                    None,
                    &|path| stamps.get(path).or_else(|| self.kept.get(path)).copied(),
                    &form,
                )
                .write(root, intent)?;
            }
        }
        fsops::remove_if_present(&unfinished)?;
        Ok(summary)
    }
}

impl Plan {
    /// How [`Plan::apply`] writes the manifest, made after the writes (and before them,
    /// listing also the entries of `intent`): as a delta on the manifest on disk when the
    /// tree was rendered by parts, that manifest has an `id`, and the delta would list at
    /// most one entry in [`DELTA_SHARE`] of the manifest's; whole, with the `id` given,
    /// otherwise.
    fn manifest_form(
        &self,
        intent: Option<&BTreeMap<RelPath, ManifestEntry>>,
        id: Fingerprint,
    ) -> Form {
        let Some(delta) = self.parts.as_ref().and_then(|p| p.delta.as_ref()) else {
            return Form::Whole(id);
        };
        let total = self.tree.len() + self.carried.len();
        let mut lines = self.tree.len() + intent.map_or(0, BTreeMap::len);
        if lines.saturating_mul(DELTA_SHARE) > total {
            return Form::Whole(id);
        }
        lines += self
            .carried
            .values()
            .filter(|e| delta.replaced.has(e.dom0()))
            .count();
        if lines.saturating_mul(DELTA_SHARE) > total {
            Form::Whole(id)
        } else {
            Form::Delta(delta.clone())
        }
    }
}

/// A delta on the manifest lists at most one entry in this many of the manifest's; a
/// bigger one is written whole. (The deltas of runs that each render a few parts grow
/// until then: each lists what the last one did.)
const DELTA_SHARE: usize = 8;

/// Waits until the file timestamps the kernel hands out are later than every time in
/// `stamps`, so that the manifest written next is newer than each file it stamps, and its
/// stamps are trusted ([`Planner::stamp`]: a file as new as the manifest may have changed
/// again within the clock's tick). The kernel stamps files from a coarse clock, one tick
/// (1 to 10 ms) behind the fine one; this waits at most that.
fn settle_clock<'a>(stamps: impl Iterator<Item = &'a Stamp>) {
    /// The coarsest timestamp tick of Linux (`HZ=100`).
    const TICK_NS: i64 = 10_000_000;
    let Some(latest) = stamps.map(|s| s.mtime.max(s.ctime)).max() else {
        return;
    };
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    };
    let wait = latest.saturating_add(TICK_NS).saturating_sub(now());
    if wait > 0 {
        std::thread::sleep(std::time::Duration::from_nanos(wait.unsigned_abs()));
    }
}

/// A created or changed entry of the plan.
#[derive(Clone, Copy)]
pub(crate) struct Write<'a> {
    pub(crate) path: &'a RelPath,
    pub(crate) kind: ChangeKind,
    pub(crate) entry: &'a Entry,
}

/// An entry written under its temporary name, to be renamed into place.
pub(crate) struct Staged {
    path: RelPath,
    temp: TempName,
    /// For a file, the digest of its contents, for its stamp.
    digest: Option<Digest>,
}

impl Staged {
    fn temp_path(&self, root: &Path) -> PathBuf {
        self.temp.path(&root.join(self.path.as_str()))
    }
}

/// Step 2 of [`Plan::apply`]: every entry of `writes` under a temporary name, on every core.
/// On failure the temporary files made are removed and the first error in path order
/// returned.
pub(crate) fn stage_all(root: &Path, writes: &[Write<'_>]) -> Result<Vec<Staged>, OutputError> {
    let results: Vec<Result<Option<Staged>, OutputError>> =
        writes.par_iter().map(|write| stage(root, *write)).collect();
    let mut staged = Vec::with_capacity(results.len());
    let mut first = None;
    for result in results {
        match result {
            Ok(one) => staged.extend(one),
            Err(err) => {
                first.get_or_insert(err);
            }
        }
    }
    let Some(err) = first else {
        return Ok(staged);
    };
    unstage(root, staged);
    Err(err)
}

/// Removes the temporary files of `staged` (after a failure, before any is renamed).
pub(crate) fn unstage(root: &Path, staged: Vec<Staged>) {
    for one in staged {
        let _ = fs::remove_file(one.temp_path(root));
    }
}

/// `write` under a temporary name; `None` for a new symlink, made in place at once.
fn stage(root: &Path, write: Write<'_>) -> Result<Option<Staged>, OutputError> {
    let target = root.join(write.path.as_str());
    // What was planned must still be so: nothing where an entry is created, a file or
    // symlink where one is changed.
    let node = fsops::node(&target)?;
    match (write.kind, node) {
        (_, Node::Missing) | (ChangeKind::Change, Node::File { .. } | Node::Symlink) => {}
        _ => return Err(OutputError::NotOwned { path: target }),
    }
    let mut digest = None;
    let temp = match write.entry {
        Entry::File {
            contents,
            executable,
        } => {
            let bytes = contents.as_bytes();
            digest = Some(Digest::of(bytes));
            fsops::write_temp(&target, bytes, file_mode(*executable))?
        }
        // Creating a symlink is atomic: nothing partial to hide.
        Entry::Symlink { target: link } if node == Node::Missing => {
            fsops::create_symlink(&target, link)?;
            return Ok(None);
        }
        Entry::Symlink { target: link } => fsops::temp_symlink(&target, link)?,
    };
    Ok(Some(Staged {
        path: write.path.clone(),
        temp,
        digest,
    }))
}

/// One entry of [`rename_all`]: the stamp of a file renamed into place (`None` for a
/// symlink), or the error and the temporary file left to remove.
type Renamed = Result<Option<(RelPath, Stamp)>, (OutputError, Option<PathBuf>)>;

/// Step 4 of [`Plan::apply`]: every staged entry renamed into place, on every core; the
/// stamps of the files written. On failure the temporary files not renamed are removed.
/// `progress` is told every so many files.
fn rename_all(
    root: &Path,
    staged: Vec<Staged>,
    progress: &dyn Progress,
) -> Result<FxHashMap<RelPath, Stamp>, OutputError> {
    let counter = Counter::new(progress);
    let results: Vec<Renamed> = staged
        .into_par_iter()
        .map(|staged| {
            counter.tick();
            let target = root.join(staged.path.as_str());
            let temp = staged.temp.path(&target);
            if let Err(err) = fs::rename(&temp, &target) {
                return Err((fsops::io_error("write", &target, err), Some(temp)));
            }
            let Some(digest) = staged.digest else {
                return Ok(None);
            };
            match fsops::node(&target) {
                Ok(Node::File { seen, .. }) => Ok(Some((staged.path, Stamp::of(digest, seen)))),
                Ok(_) => Ok(None),
                Err(err) => Err((err, None)),
            }
        })
        .collect();
    counter.finish();
    let mut stamps = FxHashMap::with_capacity_and_hasher(results.len(), FxBuildHasher);
    let mut first = None;
    for result in results {
        match result {
            Ok(Some((path, stamp))) => {
                stamps.insert(path, stamp);
            }
            Ok(None) => {}
            Err((err, temp)) => {
                if let Some(temp) = temp {
                    let _ = fs::remove_file(temp);
                }
                first.get_or_insert(err);
            }
        }
    }
    match first {
        Some(err) => Err(err),
        None => Ok(stamps),
    }
}

fn entry_text(entry: &Entry) -> String {
    match entry {
        Entry::File { contents, .. } => contents.clone(),
        Entry::Symlink { target } => format!("symlink -> {target}\n"),
    }
}

/// Replaces the file at `path` (which need not exist) with `contents`
/// atomically: a temporary file with a unique name beside it, synced, renamed
/// over it; then the directory is synced. A reader sees the old file or the
/// new one, never part of one; a run killed midway leaves the old file and a
/// `.<name>.<random>.xenfab-tmp` beside it.
///
/// The new file keeps the permission bits, owner and group of the old one
/// where the process may set them (the owner only as root); a new file gets
/// mode 0644. A symlink at `path` is replaced by the file, not followed.
pub fn replace_file(path: &Path, contents: &[u8]) -> Result<(), OutputError> {
    use std::os::unix::fs::MetadataExt as _;
    use std::os::unix::fs::PermissionsExt as _;
    let old = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => Some(meta),
        Ok(_) => None,
        Err(err) if err.kind() == io::ErrorKind::NotFound => None,
        Err(err) => return Err(fsops::io_error("inspect", path, err)),
    };
    let mode = old
        .as_ref()
        .map_or(0o644, |meta| meta.permissions().mode() & 0o7777);
    fsops::write_file_atomic_with(path, contents, mode, |file| {
        if let Some(meta) = &old {
            // Only root may give a file away; anyone may keep a group they are in.
            match std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid())) {
                Err(err) if err.kind() != io::ErrorKind::PermissionDenied => return Err(err),
                _ => {}
            }
        }
        Ok(())
    })?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fsops::sync_dir(dir)
}

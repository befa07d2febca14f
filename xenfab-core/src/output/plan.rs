//! Planning (read-only) and applying the writing of a tree.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use similar::TextDiff;

use super::OutputError;
use super::fsops::{self, Node};
use super::manifest::{MANIFEST_FILE, Manifest, SiteStamp, read_manifest};
use super::path::RelPath;
use super::tree::{Entry, Tree, file_mode};

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
    /// What is on disk now (`None` for [`ChangeKind::Create`]). File
    /// contents that are not UTF-8 are converted lossily.
    pub old: Option<Entry>,
    /// What will be on disk (`None` for [`ChangeKind::Remove`]).
    pub new: Option<Entry>,
}

/// The paths of a plan, grouped by what happens to them, each in path order.
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
    changes: Vec<Change>,
    /// Permission bits of the files on disk, for the diff's mode lines.
    old_modes: BTreeMap<RelPath, u32>,
    /// Removals that must happen before writing, because the removed entry
    /// is a parent of, or inside a directory in the place of, a new entry.
    early_removals: BTreeSet<RelPath>,
    /// Directories standing where a new entry goes; they only hold entries
    /// removed early and are removed before writing.
    clear_dirs: Vec<RelPath>,
    manifest: Vec<u8>,
    manifest_changed: bool,
    /// The manifest written before any entry is created, when entries are created that the
    /// old manifest does not list: the old entries and the new ones. A run killed midway
    /// thus leaves a manifest that owns everything it may have written, and the next run
    /// can change or remove it.
    intent: Option<Vec<u8>>,
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
pub fn plan(root: &Path, tree: &Tree) -> Result<Plan, OutputError> {
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
pub fn plan_with(root: &Path, tree: &Tree, options: &PlanOptions) -> Result<Plan, OutputError> {
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
    let owned: BTreeSet<RelPath> = loaded
        .as_ref()
        .map(|loaded| loaded.manifest.entries.keys().cloned().collect())
        .unwrap_or_default();
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

    // A zone's serial moves only when its records do (serial.rs): decided against the disk
    // before anything is compared.
    let reconciled = if root_exists {
        super::serial::reconcile(root, tree, &owned)?
    } else {
        std::borrow::Cow::Borrowed(tree)
    };
    let tree: &Tree = &reconciled;
    let mut planner = Planner {
        root,
        tree,
        removals: owned
            .iter()
            .filter(|p| !tree.contains(p))
            .cloned()
            .collect(),
        owned,
        nodes: BTreeMap::new(),
        changes: Vec::new(),
        old_modes: BTreeMap::new(),
        early_removals: BTreeSet::new(),
        clear_dirs: Vec::new(),
    };
    if root_exists {
        planner.plan_entries()?;
        planner.plan_removals()?;
    } else {
        for (path, entry) in tree {
            planner.push(path.clone(), ChangeKind::Create, None, Some(entry.clone()));
        }
    }

    // What is really removed: owned entries already gone do not count.
    let removed = planner
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Remove)
        .count();
    if !options.force && removed * 2 > planner.owned.len() {
        return Err(OutputError::MassRemoval {
            root: root.to_owned(),
            removed,
            owned: planner.owned.len(),
        });
    }
    let stale_temps = if root_exists {
        stale_temps(root, tree, &planner.owned)?
    } else {
        Vec::new()
    };
    let site = options.site.clone().or(recorded);
    let new_manifest = Manifest::for_tree(tree, site);
    let creates_unowned = planner
        .changes
        .iter()
        .any(|c| c.kind == ChangeKind::Create && !planner.owned.contains(&c.path));
    let intent = match &loaded {
        Some(loaded) if creates_unowned => {
            let mut union = new_manifest.clone();
            for (path, entry) in &loaded.manifest.entries {
                union
                    .entries
                    .entry(path.clone())
                    .or_insert_with(|| entry.clone());
            }
            Some(union.to_bytes())
        }
        None if creates_unowned => Some(new_manifest.to_bytes()),
        _ => None,
    };
    let manifest = new_manifest.to_bytes();
    let manifest_changed = match &loaded {
        Some(loaded) => loaded.bytes != manifest,
        None => !tree.is_empty(),
    };
    let mut changes = planner.changes;
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Plan {
        root: root.to_owned(),
        stale_temps,
        changes,
        old_modes: planner.old_modes,
        early_removals: planner.early_removals,
        clear_dirs: planner.clear_dirs,
        manifest,
        manifest_changed,
        intent,
    })
}

/// xenfab's temporary files (see [`fsops::is_temp_name`]) in the root and in
/// every directory of the tree or of the owned entries that is a real
/// directory: what a killed run leaves behind.
fn stale_temps(
    root: &Path,
    tree: &Tree,
    owned: &BTreeSet<RelPath>,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut dirs: BTreeSet<RelPath> = BTreeSet::new();
    for path in tree.iter().map(|(p, _)| p).chain(owned) {
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

struct Planner<'a> {
    root: &'a Path,
    tree: &'a Tree,
    /// Paths in the old manifest.
    owned: BTreeSet<RelPath>,
    /// Paths in the old manifest but not in the tree.
    removals: BTreeSet<RelPath>,
    /// Cache of the parent directories inspected.
    nodes: BTreeMap<RelPath, Node>,
    changes: Vec<Change>,
    old_modes: BTreeMap<RelPath, u32>,
    early_removals: BTreeSet<RelPath>,
    clear_dirs: Vec<RelPath>,
}

impl Planner<'_> {
    fn full(&self, path: &RelPath) -> PathBuf {
        self.root.join(path.as_str())
    }

    fn push(&mut self, path: RelPath, kind: ChangeKind, old: Option<Entry>, new: Option<Entry>) {
        self.changes.push(Change {
            path,
            kind,
            old,
            new,
        });
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

    fn plan_entries(&mut self) -> Result<(), OutputError> {
        let tree = self.tree;
        for (path, new) in tree {
            if !self.check_parents(path)? {
                self.push(path.clone(), ChangeKind::Create, None, Some(new.clone()));
                continue;
            }
            let full = self.full(path);
            match fsops::node(&full)? {
                Node::Missing => {
                    self.push(path.clone(), ChangeKind::Create, None, Some(new.clone()));
                }
                Node::Dir => {
                    let mut leaves = Vec::new();
                    if !self.owned_leaves(path, &mut leaves)? {
                        return Err(OutputError::NotOwned { path: full });
                    }
                    self.early_removals.extend(leaves);
                    self.clear_dirs.push(path.clone());
                    self.push(path.clone(), ChangeKind::Create, None, Some(new.clone()));
                }
                Node::Other => return Err(OutputError::NotOwned { path: full }),
                Node::File { mode, len } => {
                    let owned = self.owned.contains(path);
                    let plausible = match new {
                        Entry::File {
                            contents,
                            executable,
                        } => contents.len() as u64 == len && file_mode(*executable) == mode,
                        Entry::Symlink { .. } => false,
                    };
                    if !owned && !plausible {
                        return Err(OutputError::NotOwned { path: full });
                    }
                    let bytes = fsops::read_file(&full)?;
                    let same = plausible
                        && matches!(new, Entry::File { contents, .. } if contents.as_bytes() == bytes);
                    if !owned && !same {
                        return Err(OutputError::NotOwned { path: full });
                    }
                    let old = Entry::File {
                        contents: String::from_utf8_lossy(&bytes).into_owned(),
                        executable: mode & 0o111 != 0,
                    };
                    self.old_modes.insert(path.clone(), mode);
                    let kind = if same {
                        ChangeKind::Unchanged
                    } else {
                        ChangeKind::Change
                    };
                    self.push(path.clone(), kind, Some(old), Some(new.clone()));
                }
                Node::Symlink => {
                    let owned = self.owned.contains(path);
                    let target = fsops::read_link(&full)?;
                    let same =
                        matches!(new, Entry::Symlink { target: t } if t.as_bytes() == target);
                    if !owned && !same {
                        return Err(OutputError::NotOwned { path: full });
                    }
                    let old = Entry::Symlink {
                        target: String::from_utf8_lossy(&target).into_owned(),
                    };
                    let kind = if same {
                        ChangeKind::Unchanged
                    } else {
                        ChangeKind::Change
                    };
                    self.push(path.clone(), kind, Some(old), Some(new.clone()));
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
            self.push(path, ChangeKind::Remove, Some(old), None);
        }
        Ok(())
    }
}

impl Plan {
    /// The output directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The decision for every path of the tree and every removed path, in
    /// path order.
    pub fn changes(&self) -> &[Change] {
        &self.changes
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
        // Writing into a String cannot fail.
        let _ = self.write_diff(&mut out);
        out
    }

    fn write_diff(&self, out: &mut String) -> fmt::Result {
        for change in &self.changes {
            let path = &change.path;
            let (old_label, new_label) = match change.kind {
                ChangeKind::Unchanged => continue,
                ChangeKind::Create => ("/dev/null".to_owned(), format!("b/{path}")),
                ChangeKind::Remove => (format!("a/{path}"), "/dev/null".to_owned()),
                ChangeKind::Change => (format!("a/{path}"), format!("b/{path}")),
            };
            writeln!(out, "--- {old_label}")?;
            writeln!(out, "+++ {new_label}")?;
            match (&change.old, &change.new) {
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
            let new_text = change.new.as_ref().map(entry_text).unwrap_or_default();
            let diff = TextDiff::from_lines(old_text.as_str(), new_text.as_str());
            for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
                write!(out, "{hunk}")?;
            }
        }
        Ok(())
    }

    /// Writes the plan.
    ///
    /// Order: temporary files left by an interrupted run are removed; when
    /// entries are created that the manifest does not list yet, a manifest
    /// listing the old entries and the new ones is written first (so that a
    /// run killed midway leaves nothing the next run does not own); owned
    /// entries in the way of new ones are removed; created and changed
    /// entries are written, each atomically (a temporary file with a unique
    /// name, synced, then renamed; missing directories are created with mode
    /// 0755); removed entries are deleted and their parent directories pruned
    /// while empty (never the root); every directory whose names changed is
    /// synced, once; finally the manifest is written atomically if it changed,
    /// and the root synced. Unchanged entries are not touched, and a no-op
    /// plan writes nothing at all.
    ///
    /// Call it with a [`TreeLock`](super::TreeLock) held since [`plan`].
    ///
    /// If a write fails, its temporary file is removed and the error names
    /// the path; entries already written stay written, and the manifest on
    /// disk (the old one, or the one written first) owns them, so the next
    /// run takes them over.
    pub fn apply(self) -> Result<Summary, OutputError> {
        let summary = self.summary();
        if self.is_noop() {
            return Ok(summary);
        }
        let root = self.root.as_path();
        fsops::ensure_root(root)?;
        // Directories whose names changed, synced once each before the manifest.
        let mut touched: BTreeSet<PathBuf> = BTreeSet::new();
        let dir_of = |path: &Path| path.parent().unwrap_or(root).to_owned();

        for temp in &self.stale_temps {
            fsops::remove_if_present(temp)?;
            touched.insert(dir_of(temp));
        }
        if let Some(intent) = &self.intent {
            fsops::write_file_atomic(&root.join(MANIFEST_FILE), intent, 0o644)?;
            fsops::sync_dir(root)?;
        }
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

        for change in &self.changes {
            let Some(new) = &change.new else { continue };
            if !matches!(change.kind, ChangeKind::Create | ChangeKind::Change) {
                continue;
            }
            fsops::ensure_parents(root, &change.path, &mut touched)?;
            let full = root.join(change.path.as_str());
            touched.insert(dir_of(&full));
            match (change.kind, fsops::node(&full)?) {
                (_, Node::Missing) | (ChangeKind::Change, Node::File { .. } | Node::Symlink) => {}
                _ => return Err(OutputError::NotOwned { path: full }),
            }
            match new {
                Entry::File {
                    contents,
                    executable,
                } => fsops::write_file_atomic(&full, contents.as_bytes(), file_mode(*executable))?,
                Entry::Symlink { target } => fsops::write_symlink_atomic(&full, target)?,
            }
        }

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
        for dir in &touched {
            if matches!(fsops::node(dir), Ok(Node::Dir)) {
                fsops::sync_dir(dir)?;
            }
        }
        if self.manifest_changed && self.intent.as_ref() != Some(&self.manifest) {
            fsops::write_file_atomic(&root.join(MANIFEST_FILE), &self.manifest, 0o644)?;
            fsops::sync_dir(root)?;
        }
        Ok(summary)
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

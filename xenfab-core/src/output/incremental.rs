//! Rendering only what changed: [`plan_fabric`] renders the parts of a fabric
//! ([`Part`](super::Part)) whose fingerprint ([`crate::fingerprint`]) differs from the one the
//! tree's manifest records, and carries the others' entries over from the manifest, unread
//! and unrendered, once their files are checked on disk.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rayon::prelude::*;
use rustc_hash::FxHashSet;

use super::fsops::{self, Node};
use super::manifest::{
    Fingerprint, LoadedManifest, MANIFEST_FORMAT, ManifestEntry, PartStamps, TreeParts,
};
use super::path::RelPath;
use super::plan::{Plan, PlanOptions, left_unfinished, open_root, plan_loaded};
use super::tree::{Part, Tree, file_mode};
use crate::error::Error;
use crate::fingerprint::fingerprints;
use crate::model::Fabric;

/// Renders `fabric` for the directory `root` and plans its writing, as [`crate::render()`]
/// followed by [`plan_with`](super::plan_with) would, rendering only the parts that need it.
///
/// A part is carried over (not rendered again) when the tree's manifest (format 4) records
/// the same fingerprint for it and every one of its entries is on disk as the manifest
/// stamps it: each file with its size, inode, times and mode, each symlink with its target,
/// below real directories. A file changed or removed behind xenfab's back makes its part
/// render again, so the plan puts it back. Everything is rendered after a run that did not
/// finish, into a tree of another site, and when the manifest has no fingerprints.
///
/// The plan is the one a whole render would give (same changes, same manifest), except that
/// its [`Plan::diff`] does not show the carried entries, which are unchanged.
pub fn plan_fabric(root: &Path, fabric: &Fabric, options: &PlanOptions) -> Result<Plan, Error> {
    let fps = fingerprints(fabric);
    let names: Vec<String> = fabric.dom0s.iter().map(|d| d.name.to_string()).collect();
    let stamps = PartStamps {
        site: Fingerprint(fps.site),
        dom0s: names
            .iter()
            .cloned()
            .zip(fps.dom0s.iter().map(|fp| Fingerprint(*fp)))
            .collect(),
    };
    let (root_exists, mut loaded) = open_root(root)?;
    let clean = match &loaded {
        Some(loaded) if root_exists => clean_parts(root, loaded, &stamps, options)?,
        _ => Clean::default(),
    };
    // The carried entries are taken out of the loaded manifest: what is left there is what
    // the plan compares with the tree.
    let carried: BTreeMap<RelPath, ManifestEntry> = match loaded.as_mut() {
        Some(loaded) if clean.any() => {
            let entries = std::mem::take(&mut loaded.manifest.entries);
            let (carried, rest): (Vec<_>, Vec<_>) =
                entries.into_iter().partition(|(_, e)| clean.has(e.dom0()));
            loaded.manifest.entries = rest.into_iter().collect();
            carried.into_iter().collect()
        }
        _ => BTreeMap::new(),
    };
    let dirty: Vec<Part> = (!clean.site)
        .then_some(Part::Site)
        .into_iter()
        .chain(
            names
                .iter()
                .enumerate()
                .filter(|(_, name)| !clean.dom0s.contains(name.as_str()))
                .map(|(i, _)| Part::Dom0(i)),
        )
        .collect();
    let parts = crate::render::render_parts(fabric, &dirty)?;
    let tree = Tree::merge_all(parts.into_iter().map(|(_, tree)| tree).collect())?;
    let parts = TreeParts {
        rendered: (dirty.len(), names.len() + 1),
        stamps,
        names,
    };
    Ok(plan_loaded(
        root,
        root_exists,
        loaded,
        tree,
        options,
        Some(parts),
        carried,
    )?)
}

/// The parts whose entries are carried over.
#[derive(Debug, Default)]
struct Clean {
    site: bool,
    dom0s: FxHashSet<String>,
}

impl Clean {
    fn any(&self) -> bool {
        self.site || !self.dom0s.is_empty()
    }

    /// Whether the part of an entry (`dom0`, `None` for the site) is carried.
    fn has(&self, dom0: Option<&str>) -> bool {
        match dom0 {
            None => self.site,
            Some(name) => self.dom0s.contains(name),
        }
    }
}

/// The parts of the tree on disk that need no render: the manifest records their fingerprint,
/// and each of their entries is on disk as it records.
fn clean_parts(
    root: &Path,
    loaded: &LoadedManifest,
    stamps: &PartStamps,
    options: &PlanOptions,
) -> Result<Clean, Error> {
    let manifest = &loaded.manifest;
    let Some(old) = &manifest.parts else {
        return Ok(Clean::default());
    };
    let same_site = match (&manifest.site, &options.site) {
        (Some(found), Some(wanted)) => found.same_site(wanted),
        (_, None) => true,
        (None, Some(_)) => false,
    };
    if manifest.format != MANIFEST_FORMAT || !same_site || left_unfinished(root)? {
        return Ok(Clean::default());
    }
    let mut clean = Clean {
        site: old.site == stamps.site,
        dom0s: stamps
            .dom0s
            .iter()
            .filter(|(name, fp)| old.dom0s.get(*name) == Some(fp))
            .map(|(name, _)| name.clone())
            .collect(),
    };
    if !clean.any() {
        return Ok(clean);
    }
    let candidates: Vec<(&RelPath, &ManifestEntry)> = manifest
        .entries
        .iter()
        .filter(|(_, e)| clean.has(e.dom0()))
        .collect();
    // Every directory above a carried entry must be a real directory, as the plan checks for
    // the entries it writes; anything else is left to a whole render, whose plan says what.
    let mut dirs: BTreeSet<RelPath> = BTreeSet::new();
    let mut last: Option<&str> = None;
    for (path, _) in &candidates {
        if path.parent_str() != last {
            dirs.extend(path.ancestors());
            last = path.parent_str();
        }
    }
    let dirs: Vec<RelPath> = dirs.into_iter().collect();
    let dirs_ok = dirs
        .par_iter()
        .map(|dir| Ok(fsops::node(&root.join(dir.as_str()))? == Node::Dir))
        .collect::<Result<Vec<bool>, super::OutputError>>()?
        .into_iter()
        .all(|ok| ok);
    if !dirs_ok {
        return Ok(Clean::default());
    }
    let written = loaded.written;
    // The entries one directory after another (in path order, a directory's entries come
    // together), each directory opened once a run.
    let mut runs: Vec<&[(&RelPath, &ManifestEntry)]> = Vec::new();
    let mut rest = candidates.as_slice();
    while let Some((first, _)) = rest.first() {
        let dir = first.parent_str();
        // at most 1,024 entries a run, so that the big directories (`tftpboot/pxelinux.cfg`
        // has four entries a host) are shared between the cores
        let len = rest
            .iter()
            .take(1024)
            .take_while(|(p, _)| p.parent_str() == dir)
            .count();
        let (run, tail) = rest.split_at(len);
        runs.push(run);
        rest = tail;
    }
    let failed: Vec<Option<&str>> = runs
        .par_iter()
        .flat_map_iter(|run| {
            let dir = run[0]
                .0
                .parent_str()
                .map_or_else(|| root.to_owned(), |d| root.join(d));
            let open = fsops::OpenDir::open(&dir);
            run.iter().filter_map(move |(path, entry)| {
                let name = path.file_name();
                let intact = open
                    .as_ref()
                    .is_some_and(|dir| intact(dir, name, entry, written));
                (!intact).then(|| entry.dom0())
            })
        })
        .collect();
    for dom0 in failed {
        match dom0 {
            None => clean.site = false,
            Some(name) => {
                clean.dom0s.remove(name);
            }
        }
    }
    Ok(clean)
}

/// Whether the entry `name` of `dir` is what the manifest `entry` says, as the manifest
/// written at `written` stamped it: a file with its stamp (not one of the manifest's own clock
/// tick: it may have changed again unseen) and mode, a symlink with its target.
fn intact(dir: &fsops::OpenDir, name: &str, entry: &ManifestEntry, written: i64) -> bool {
    match entry {
        ManifestEntry::File {
            executable,
            stamp: Some(stamp),
            ..
        } if stamp.trusted(written) => match dir.node(name) {
            Node::File { mode, len, seen } => {
                mode == file_mode(*executable) && stamp.matches(len, seen)
            }
            _ => false,
        },
        ManifestEntry::Symlink { target, .. } => dir
            .read_link(name)
            .is_some_and(|found| found == target.as_bytes()),
        ManifestEntry::File { .. } => false,
    }
}

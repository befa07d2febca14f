//! Rendering only what changed: [`plan_fabric`] renders the parts of a fabric
//! ([`Part`](super::Part)) whose fingerprint ([`crate::fingerprint`]) differs from the one the
//! tree's manifest records, and carries the others' entries over from the manifest, unread
//! and unrendered, once their files are checked on disk.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::fsops::{self, Node};
use super::leave::Leave;
use super::manifest::{
    DeltaOn, Fingerprint, LoadedManifest, MANIFEST_FORMAT, ManifestEntry, PartSet, PartStamps,
    TreeParts,
};
use super::path::RelPath;
use super::plan::{Plan, PlanOptions, left_unfinished, open_root, plan_loaded};
use super::progress::{Progress, Step};
use super::tree::{Entry, Part, Tree, file_mode};
use crate::error::Error;
use crate::fingerprint::{Fingerprints, fingerprints};
use crate::model::Fabric;
use crate::render::{Sections, in_section, render_parts_with};

/// Renders `fabric` for the directory `root` and plans its writing, as [`crate::render()`]
/// followed by [`plan_with`](super::plan_with) would, rendering only the parts that need it.
///
/// A part is carried over (not rendered again) when the tree's manifest (format 5) records
/// the same fingerprint for it and every one of its entries is on disk as the manifest
/// stamps it: each file with its size, inode, times and mode, each symlink with its target,
/// below real directories. A file changed or removed behind xenfab's back makes its part
/// render again, so the plan puts it back. Everything is rendered after a run that did not
/// finish, into a tree of another site, and when the manifest has no fingerprints.
///
/// The plan is the one a whole render would give (same changes, same manifest), except that
/// its [`Plan::diff`] does not show the carried entries, which are unchanged.
///
/// This is [`Survey::of`] followed by [`plan_surveyed`]; a caller that still has to load
/// the fabric can survey the tree meanwhile.
pub fn plan_fabric(root: &Path, fabric: &Fabric, options: &PlanOptions) -> Result<Plan, Error> {
    plan_surveyed(Survey::of(root)?, fabric, options)
}

/// What is in an output tree, found before the fabric is known: its manifest, and which
/// parts have an entry that is no longer on disk as the manifest stamps it. A rerun spends
/// most of its time reading the manifest and checking its entries on disk, which needs the
/// tree, not the fabric: `xenfab render` does it while it loads the fabric, with the tree
/// locked. Give the survey to [`plan_surveyed`] under the same lock.
#[derive(Debug)]
pub struct Survey {
    root: PathBuf,
    root_exists: bool,
    loaded: Option<LoadedManifest>,
    /// Whether the manifest's stamps can be trusted: format 5, and the last run finished.
    trusted: bool,
    /// The parts whose entries were checked on disk, and those of them found not intact.
    checked: PartSet,
    broken: PartSet,
}

impl Survey {
    /// Reads the manifest of the tree at `root` (which may not exist yet).
    pub fn of(root: &Path) -> Result<Survey, Error> {
        let (root_exists, loaded) = open_root(root)?;
        let trusted = match &loaded {
            Some(loaded) if root_exists => {
                loaded.manifest.parts.is_some()
                    && loaded.manifest.format == MANIFEST_FORMAT
                    && !left_unfinished(root)?
            }
            _ => false,
        };
        Ok(Survey {
            root: root.to_owned(),
            root_exists,
            loaded,
            trusted,
            checked: PartSet::default(),
            broken: PartSet::default(),
        })
    }

    /// [`Survey::of`], with every entry the manifest lists checked on disk, on every core:
    /// what a rerun that renders nothing needs, done before its fingerprints are known.
    pub fn checked(root: &Path) -> Result<Survey, Error> {
        let mut survey = Survey::of(root)?;
        if let Some(loaded) = &survey.loaded {
            if survey.trusted {
                let all = PartSet {
                    site: true,
                    dom0s: loaded
                        .manifest
                        .parts
                        .iter()
                        .flat_map(|p| p.dom0s.keys().cloned())
                        .collect(),
                };
                survey.check(&all)?;
            }
        }
        Ok(survey)
    }

    /// Checks on disk the entries of the parts of `wanted` not checked yet.
    fn check(&mut self, wanted: &PartSet) -> Result<(), Error> {
        let Some(loaded) = &self.loaded else {
            return Ok(());
        };
        let todo = |dom0: Option<&str>| wanted.has(dom0) && !self.checked.has(dom0);
        let candidates: Vec<(&RelPath, &ManifestEntry)> = loaded
            .manifest
            .entries
            .iter()
            .filter(|(_, e)| todo(e.dom0()))
            .collect();
        let broken = broken_parts(&self.root, &candidates, loaded.written)?;
        self.checked.site |= wanted.site;
        self.checked.dom0s.extend(wanted.dom0s.iter().cloned());
        match broken {
            Some(broken) => {
                self.broken.site |= broken.site;
                self.broken.dom0s.extend(broken.dom0s);
            }
            // a directory above an entry is not one: nothing is carried
            None => self.trusted = false,
        }
        Ok(())
    }
}

/// [`plan_fabric`], on what `survey` found in the tree; take the tree's lock before the
/// survey, and keep it until the plan is applied.
pub fn plan_surveyed(
    survey: Survey,
    fabric: &Fabric,
    options: &PlanOptions,
) -> Result<Plan, Error> {
    plan_parts(
        survey,
        fabric,
        &fingerprints(fabric),
        options,
        false,
        &super::NoProgress,
    )
}

/// [`plan_surveyed`]; with `lean`, when more than a batch of parts is rendered, the parts
/// are rendered a batch at a time and each file's contents dropped once hashed
/// ([`Tree::make_lean`]), for a [`StreamedPlan`](super::StreamedPlan). `progress` is told
/// of each batch rendered, then of the planning.
pub(crate) fn plan_parts(
    mut survey: Survey,
    fabric: &Fabric,
    fps: &Fingerprints,
    options: &PlanOptions,
    lean: bool,
    progress: &dyn Progress,
) -> Result<Plan, Error> {
    let names: Vec<String> = fabric.dom0s.iter().map(|d| d.name.to_string()).collect();
    let mut stamps = PartStamps {
        site: Fingerprint(fps.site),
        sections: Some(Fingerprint(fps.sections)),
        dom0s: names
            .iter()
            .cloned()
            .zip(fps.dom0s.iter().map(|fp| Fingerprint(*fp)))
            .collect(),
    };
    let leave = Leave::new(options, Some(fabric))?;
    let (clean, sections) = clean_parts(&mut survey, &stamps, options)?;
    let left = |path: &RelPath| leave.covers(path);
    // An entry carried over: of a clean part, one of the site's sections' files kept, or
    // one left as it is (below a directory left untouched, or of a host not written).
    let carry = |path: &RelPath, entry: &ManifestEntry| {
        clean.has(entry.dom0())
            || sections == Sections::Kept && entry.dom0().is_none() && in_section(path.as_str())
            || left(path)
    };
    let delta = delta_on(survey.loaded.as_ref(), &stamps, &clean);
    let Survey {
        root,
        root_exists,
        mut loaded,
        ..
    } = survey;
    // The carried entries are taken out of the loaded manifest: what is left there is what
    // the plan compares with the tree.
    // (The entries of the parts rendered are taken out of the map, which is then the carried
    // ones: on a rerun they are few.)
    let carried: BTreeMap<RelPath, ManifestEntry> = match loaded.as_mut() {
        Some(loaded) if clean.any() || sections == Sections::Kept || leave.any() => {
            let entries = &mut loaded.manifest.entries;
            let rendered: Vec<RelPath> = entries
                .iter()
                .filter(|(path, e)| !carry(path, e))
                .map(|(path, _)| path.clone())
                .collect();
            let rest: BTreeMap<RelPath, ManifestEntry> = rendered
                .into_iter()
                .filter_map(|path| entries.remove_entry(&path))
                .collect();
            std::mem::replace(entries, rest)
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
    // A part with none of the hosts written (`PlanOptions::hosts`) is not rendered: every one
    // of its entries is left, and it is recorded stale (`unrendered`): its inputs changed, or
    // its files on disk did.
    let (dirty, unrendered): (Vec<Part>, Vec<Part>) = dirty
        .into_iter()
        .partition(|part| leave.renders(TreeParts::dom0_of_names(&names, *part)));
    // Dropping the contents costs a second render when they are written: worth it only when
    // many parts are rendered (a small change holds little).
    let lean = lean && dirty.len() > super::streamed::BATCH;
    let batch = if lean {
        super::streamed::BATCH
    } else {
        dirty.len().max(1)
    };
    // The manifest's entries left as they are, by part, of the parts rendered (only theirs
    // are compared; the part is checked first, being cheaper than what is left).
    let mut recorded: FxHashMap<Option<&str>, Vec<&RelPath>> = FxHashMap::default();
    if leave.any() {
        let rendered: FxHashSet<Option<&str>> = dirty
            .iter()
            .map(|part| TreeParts::dom0_of_names(&names, *part))
            .collect();
        for (path, entry) in &carried {
            if rendered.contains(&entry.dom0()) && left(path) {
                recorded.entry(entry.dom0()).or_default().push(path);
            }
        }
    }
    // The parts rendered whose entries left untouched differ from the manifest's record,
    // and whether the site's sections' do.
    let (mut stale, mut stale_sections) = (Vec::new(), false);
    let mut trees = Vec::with_capacity(dirty.len());
    progress.start(Step::Render, dirty.len() as u64);
    for batch in super::streamed::batches(&dirty, batch) {
        let mut parts = render_parts_with(fabric, batch, sections)?;
        if leave.any() {
            for (part, tree) in &mut parts {
                let kept = tree.split_off_where(left);
                let dom0 = TreeParts::dom0_of_names(&names, *part);
                let recorded = recorded.get(&dom0).map_or(&[][..], Vec::as_slice);
                let same = |only: &dyn Fn(&RelPath) -> bool| {
                    as_recorded(&kept, recorded, &carried, dom0, only)
                };
                if *part == Part::Site && sections == Sections::Rendered {
                    let in_sections = !same(&|p| in_section(p.as_str()));
                    stale_sections |= in_sections;
                    if in_sections || !same(&|p| !in_section(p.as_str())) {
                        stale.push(*part);
                    }
                } else if !same(&|p| *part != Part::Site || !in_section(p.as_str())) {
                    stale.push(*part);
                }
            }
        }
        if lean {
            parts.par_iter_mut().for_each(|(_, tree)| tree.make_lean());
        }
        trees.extend(parts.into_iter().map(|(_, tree)| tree));
        progress.advance(batch.len() as u64);
    }
    progress.start(Step::Plan, 0);
    let tree = Tree::merge_all(trees)?;
    // A part rendered whose entries left untouched are not what it renders is recorded
    // without its fingerprint: the next render renders it again, and a render that leaves
    // nothing brings them up to date.
    let mut left_behind = PartSet::default();
    // the site's sections left unrendered keep their fingerprint only when they were kept
    stale_sections |= unrendered.contains(&Part::Site) && sections == Sections::Rendered;
    for part in stale.into_iter().chain(unrendered) {
        match part {
            Part::Site => {
                stamps.site = Fingerprint::STALE;
                left_behind.site = true;
            }
            Part::Dom0(i) => {
                if let Some(fp) = names.get(i).and_then(|name| stamps.dom0s.get_mut(name)) {
                    *fp = Fingerprint::STALE;
                    left_behind.dom0s.insert(names[i].clone());
                }
            }
        }
    }
    if stale_sections {
        stamps.sections = None;
    }
    let parts = TreeParts {
        rendered: (dirty.len(), names.len() + 1),
        stamps,
        names,
        delta,
        sections,
        left_behind,
    };
    Ok(plan_loaded(
        &root,
        (root_exists, loaded),
        tree,
        options,
        &leave,
        Some(parts),
        carried,
    )?)
}

/// Whether `kept`, the entries of a part rendered that are left as they are, are what the
/// manifest records of that part (`recorded`, their entries in `carried`; the part's is
/// `dom0`), as far as `only` takes them: the same paths, each file with its mode and the hash
/// of its contents, each symlink with its target. A zone (whose serial the disk decides) is
/// never taken for the same.
fn as_recorded(
    kept: &Tree,
    recorded: &[&RelPath],
    carried: &BTreeMap<RelPath, ManifestEntry>,
    dom0: Option<&str>,
    only: &dyn Fn(&RelPath) -> bool,
) -> bool {
    let mut count = 0;
    for (path, new) in kept.iter().filter(|(p, _)| only(p)) {
        count += 1;
        let same = match (new, carried.get(path)) {
            _ if kept.is_zone(path) => false,
            (Entry::File { executable, .. }, Some(old @ ManifestEntry::File { stamp, .. })) => {
                old.dom0() == dom0
                    && matches!(old, ManifestEntry::File { executable: e, .. } if e == executable)
                    && stamp
                        .zip(kept.digest(path))
                        .is_some_and(|(s, d)| s.holds(d))
            }
            (Entry::Symlink { target }, Some(old @ ManifestEntry::Symlink { target: t, .. })) => {
                old.dom0() == dom0 && target == t
            }
            _ => false,
        };
        if !same {
            return false;
        }
    }
    count == recorded.iter().filter(|p| only(p)).count()
}

/// How the manifest of the tree planned may be written as a delta on the one on disk,
/// `loaded` (with the fingerprints `stamps`, and the `clean` parts carried over): it replaces
/// every part but the clean ones whose entries are the manifest's own (not its delta's).
/// `None` when the manifest on disk has no `id` to name.
fn delta_on(
    loaded: Option<&LoadedManifest>,
    stamps: &PartStamps,
    clean: &PartSet,
) -> Option<DeltaOn> {
    let manifest = &loaded?.manifest;
    let base = manifest.id?;
    let none = PartSet::default();
    let before = manifest.replaced.as_ref().unwrap_or(&none);
    let own = |dom0: Option<&str>| clean.has(dom0) && !before.has(dom0);
    let old = manifest.parts.iter().flat_map(|p| p.dom0s.keys());
    let dom0s = old
        .chain(stamps.dom0s.keys())
        .chain(&before.dom0s)
        .filter(|name| !own(Some(name.as_str())))
        .cloned()
        .collect();
    Some(DeltaOn {
        base,
        replaced: PartSet {
            site: !own(None),
            dom0s,
        },
    })
}

/// What of the tree on disk needs no render: its clean parts, whose fingerprint the manifest
/// records and whose entries are each on disk as it records; and whether the site's sections
/// are kept ([`Sections::Kept`]: the site's part is not clean, but its sections' fingerprint
/// is the one recorded, and its entries are on disk as recorded).
fn clean_parts(
    survey: &mut Survey,
    stamps: &PartStamps,
    options: &PlanOptions,
) -> Result<(PartSet, Sections), Error> {
    let nothing = (PartSet::default(), Sections::Rendered);
    let Some(manifest) = survey.loaded.as_ref().map(|l| &l.manifest) else {
        return Ok(nothing);
    };
    let same_site = match (&manifest.site, &options.site) {
        (Some(found), Some(wanted)) => found.same_site(wanted),
        (_, None) => true,
        (None, Some(_)) => false,
    };
    let Some(old) = manifest
        .parts
        .as_ref()
        .filter(|_| survey.trusted && same_site)
    else {
        return Ok(nothing);
    };
    let clean = PartSet {
        site: old.site == stamps.site,
        dom0s: stamps
            .dom0s
            .iter()
            .filter(|(name, fp)| old.dom0s.get(*name) == Some(fp))
            .map(|(name, _)| name.clone())
            .collect(),
    };
    let sections = !clean.site && old.sections.is_some() && old.sections == stamps.sections;
    if !clean.any() && !sections {
        return Ok((clean, Sections::Rendered));
    }
    survey.check(&PartSet {
        site: clean.site || sections,
        dom0s: clean.dom0s.clone(),
    })?;
    if !survey.trusted {
        return Ok(nothing);
    }
    let broken = &survey.broken;
    let sections = if sections && !broken.site {
        Sections::Kept
    } else {
        Sections::Rendered
    };
    let clean = PartSet {
        site: clean.site && !broken.site,
        dom0s: clean
            .dom0s
            .into_iter()
            .filter(|name| !broken.dom0s.contains(name))
            .collect(),
    };
    Ok((clean, sections))
}

/// The parts of which one of the manifest's `entries` (written at `written`) is not on disk
/// as the manifest stamps it; `None` when a directory above one is not a real directory,
/// which the plan of a whole render checks and reports.
fn broken_parts(
    root: &Path,
    entries: &[(&RelPath, &ManifestEntry)],
    written: i64,
) -> Result<Option<PartSet>, Error> {
    // Every directory above a carried entry must be a real directory, as the plan checks for
    // the entries it writes; anything else is left to a whole render, whose plan says what.
    // Where `openat2` is, opening each entry's directory checks it; elsewhere each
    // directory on the way is inspected first.
    #[cfg(target_os = "linux")]
    let beneath = fsops::OpenDir::open(root).filter(fsops::OpenDir::opens_beneath);
    #[cfg(not(target_os = "linux"))]
    let beneath: Option<fsops::OpenDir> = None;
    if beneath.is_none() && !directories_real(root, entries)? {
        return Ok(None);
    }
    // The entries one directory after another (in path order, a directory's entries come
    // together), each directory opened once a run.
    let mut runs: Vec<&[(&RelPath, &ManifestEntry)]> = Vec::new();
    let mut rest = entries;
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
    let not_real = AtomicBool::new(false);
    let check = || -> Vec<Option<&str>> {
        runs.par_iter()
            .flat_map_iter(|run| {
                let open = match (run[0].0.parent_str(), &beneath) {
                    (None, _) => fsops::OpenDir::open(root),
                    #[cfg(target_os = "linux")]
                    (Some(dir), Some(beneath)) => match beneath.open_beneath(dir) {
                        fsops::Beneath::Dir(dir) => Some(dir),
                        fsops::Beneath::NotReal => {
                            not_real.store(true, std::sync::atomic::Ordering::Relaxed);
                            None
                        }
                        fsops::Beneath::Failed | fsops::Beneath::Unsupported => None,
                    },
                    (Some(dir), _) => fsops::OpenDir::open(&root.join(dir)),
                };
                run.iter().filter_map(move |(path, entry)| {
                    let name = path.file_name();
                    let intact = open
                        .as_ref()
                        .is_some_and(|dir| intact(dir, name, entry, written));
                    (!intact).then(|| entry.dom0())
                })
            })
            .collect()
    };
    // Four threads a core, in a pool of their own: a `stat` waits for the disk when the
    // inode is not cached (after other work pushed the tree's out), and meanwhile another
    // thread can use the core, as git's preload-index does for its `lstat`s. A rerun of
    // 110,000 hosts after `drop_caches`: 5.3-6.2 s with one thread a core, 3.4 s with four;
    // cached, the same 1.4-1.6 s. (In the global pool, the checks also queued behind the
    // load's work and took 0.75 s or 1.15 s by turns.)
    let threads = 4 * rayon::current_num_threads();
    let failed = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(check),
        Err(_) => check(),
    };
    if not_real.into_inner() {
        return Ok(None);
    }
    let mut broken = PartSet::default();
    for dom0 in failed {
        match dom0 {
            None => broken.site = true,
            Some(name) => {
                broken.dom0s.insert(name.to_owned());
            }
        }
    }
    Ok(Some(broken))
}

/// Whether every directory above each of `entries` is a real directory, each inspected once.
pub(super) fn directories_real(
    root: &Path,
    entries: &[(&RelPath, &ManifestEntry)],
) -> Result<bool, Error> {
    let mut dirs: BTreeSet<RelPath> = BTreeSet::new();
    let mut last: Option<&str> = None;
    for (path, _) in entries {
        if path.parent_str() != last {
            dirs.extend(path.ancestors());
            last = path.parent_str();
        }
    }
    let dirs: Vec<RelPath> = dirs.into_iter().collect();
    Ok(dirs
        .par_iter()
        .map(|dir| Ok(fsops::node(&root.join(dir.as_str()))? == Node::Dir))
        .collect::<Result<Vec<bool>, super::OutputError>>()?
        .into_iter()
        .all(|ok| ok))
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

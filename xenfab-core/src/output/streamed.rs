//! Plans that hold no file contents: [`plan_streamed`] renders the parts that changed a batch
//! at a time and keeps of each file only its length and hash, and [`StreamedPlan`] renders
//! the parts again, a batch at a time, when it writes or shows them. A first write of a
//! 110,000-host site never holds its 800 MB of files at once.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use super::RelPath;
use super::incremental::{Survey, plan_parts};
use super::plan::{Change, ChangeKind, FileStat, Plan, PlanOptions, Staged, Summary, Write};
use super::plan::{stage_all, unstage};
use super::progress::{NoProgress, Progress, Step};
use super::tree::{Entry, Part, Tree};
use crate::error::{Error, RenderError};
use crate::fingerprint::Fingerprinted;
use crate::model::Fabric;
use crate::render::{Sections, render_parts_with};

/// How many parts are rendered at once: a dom0 of ten guests is about 80 kB of files.
pub(crate) const BATCH: usize = 256;

/// `parts` (in [`Part`] order, the site's first) a batch at a time: at most `size` dom0s'
/// parts, and the site's part alone (at 110,000 hosts its files are 140 MB, and rendering
/// them takes as much again).
pub(crate) fn batches(parts: &[Part], size: usize) -> impl Iterator<Item = &[Part]> {
    let site = parts.iter().take_while(|p| **p == Part::Site).count();
    let (site, dom0s) = parts.split_at(site);
    (!site.is_empty())
        .then_some(site)
        .into_iter()
        .chain(dom0s.chunks(size.max(1)))
}

/// Why [`StreamedPlan::write_diff`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// Writing the diff failed.
    #[error(transparent)]
    Write(#[from] io::Error),
    /// A part could not be rendered again as it was planned (a bug in xenfab).
    #[error(transparent)]
    Render(#[from] Error),
}

/// A plan made by [`plan_streamed`]: as [`Plan`], for a tree whose files' contents are
/// rendered again from the fabric when they are written ([`StreamedPlan::apply`]) or shown
/// ([`StreamedPlan::write_diff`]).
pub struct StreamedPlan<'f> {
    plan: Plan,
    fabric: &'f Fabric,
    progress: &'f dyn Progress,
}

impl std::fmt::Debug for StreamedPlan<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamedPlan")
            .field("plan", &self.plan)
            .field("fabric", &self.fabric)
            .finish_non_exhaustive()
    }
}

/// [`plan_surveyed`](super::plan_surveyed), holding of each file rendered only its length
/// and hash: what `xenfab render` does, fingerprinting the fabric while it surveys the tree.
/// Keep the tree's lock until the plan is applied.
pub fn plan_streamed<'f>(
    survey: Survey,
    fabric: &'f Fingerprinted,
    options: &PlanOptions,
) -> Result<StreamedPlan<'f>, Error> {
    plan_streamed_with(survey, fabric, options, &NoProgress)
}

/// [`plan_streamed`], telling `progress` how far it has got ([`Step::Render`], then
/// [`Step::Plan`]); the plan made tells it too when it is applied or shown.
pub fn plan_streamed_with<'f>(
    survey: Survey,
    fabric: &'f Fingerprinted,
    options: &PlanOptions,
    progress: &'f dyn Progress,
) -> Result<StreamedPlan<'f>, Error> {
    let fps = fabric.fingerprints();
    let fabric = fabric.fabric();
    let plan = plan_parts(survey, fabric, fps, options, true, progress)?;
    Ok(StreamedPlan {
        plan,
        fabric,
        progress,
    })
}

impl StreamedPlan<'_> {
    /// See [`Plan::summary`].
    pub fn summary(&self) -> Summary {
        self.plan.summary()
    }

    /// The decision for each path, as [`Plan::changes`].
    pub fn changes(&self) -> &[Change] {
        self.plan.changes()
    }

    /// See [`Plan::parts_rendered`].
    pub fn parts_rendered(&self) -> Option<(usize, usize)> {
        self.plan.parts_rendered()
    }

    /// See [`Plan::sections_kept`].
    pub fn sections_kept(&self) -> bool {
        self.plan.sections_kept()
    }

    /// See [`Plan::left_behind`].
    pub fn left_behind(&self) -> Vec<Option<&str>> {
        self.plan.left_behind()
    }

    /// See [`Plan::stale_temps`].
    pub fn stale_temps(&self) -> &[PathBuf] {
        self.plan.stale_temps()
    }

    /// See [`Plan::is_noop`].
    pub fn is_noop(&self) -> bool {
        self.plan.is_noop()
    }

    /// The output directory.
    pub fn root(&self) -> &Path {
        self.plan.root()
    }

    /// Writes the diff of [`Plan::diff`] into `out`, part by part: the site's entries first,
    /// then each dom0's in the fabric's order, each part's in path order, and the removed
    /// entries last, in path order. The parts are rendered again a batch at a time.
    pub fn write_diff(&self, out: &mut impl io::Write) -> Result<(), DiffError> {
        let mut text = String::new();
        self.each_change(|change, new| {
            text.clear();
            // Writing into a String cannot fail.
            let _ = self.plan.write_change_to(change, new, &mut text);
            Ok(out.write_all(text.as_bytes())?)
        })
    }

    /// How many lines each change adds and removes, in the order of
    /// [`StreamedPlan::write_diff`] (what `xenfab render --stat` shows). The parts are
    /// rendered again a batch at a time, as for the diff.
    pub fn stat(&self) -> Result<Vec<FileStat>, Error> {
        let mut stats = Vec::new();
        let done = self.each_change(|change, new| {
            stats.extend(Plan::stat_of(change, new));
            Ok(())
        });
        match done {
            Ok(()) => Ok(stats),
            Err(DiffError::Render(err)) => Err(err),
            Err(DiffError::Write(err)) => unreachable!("nothing is written: {err}"),
        }
    }

    /// Calls `f` with each change that is not [`ChangeKind::Unchanged`] and its new entry
    /// (`None` for a removal): the site's entries first, then each dom0's in the fabric's
    /// order, each part's in path order, and the removed entries last, in path order.
    fn each_change(
        &self,
        mut f: impl FnMut(&Change, Option<&Entry>) -> Result<(), DiffError>,
    ) -> Result<(), DiffError> {
        let (by_part, removals) = self.by_part();
        let parts: Vec<Part> = by_part.keys().copied().collect();
        let total = by_part.values().map(Vec::len).sum::<usize>() + removals.len();
        self.progress.start(Step::Diff, total as u64);
        for batch in batches(&parts, BATCH) {
            let mut done = 0;
            for (part, fresh) in self.render(batch, &by_part)? {
                for change in &by_part[&part] {
                    let new = rendered_entry(self.plan.tree(), fresh.as_ref(), &change.path)?;
                    f(change, Some(new))?;
                }
                done += by_part[&part].len();
            }
            self.progress.advance(done as u64);
        }
        for change in &removals {
            f(change, None)?;
        }
        self.progress.advance(removals.len() as u64);
        Ok(())
    }

    /// Writes the plan, as [`Plan::apply`] does; the created and changed files are rendered
    /// again, a batch of parts at a time, and staged under their temporary names before the
    /// next batch. On failure, the temporary files made are removed.
    pub fn apply(self) -> Result<Summary, Error> {
        let fabric = self.fabric;
        let progress = self.progress;
        let sections = self.plan.sections();
        self.plan.apply_staging(progress, |root, tree, writes| {
            stage_rendered(root, tree, writes, fabric, sections, progress)
        })
    }

    /// The changes that leave an entry (created, changed) by part, in path order within
    /// each; and the removals.
    fn by_part(&self) -> (BTreeMap<Part, Vec<&Change>>, Vec<&Change>) {
        let tree = self.plan.tree();
        let mut by_part: BTreeMap<Part, Vec<&Change>> = BTreeMap::new();
        let mut removals = Vec::new();
        for change in self.plan.changes() {
            match change.kind {
                ChangeKind::Unchanged => {}
                ChangeKind::Remove => removals.push(change),
                ChangeKind::Create | ChangeKind::Change => {
                    let part = tree.part(&change.path).unwrap_or_default();
                    by_part.entry(part).or_default().push(change);
                }
            }
        }
        (by_part, removals)
    }

    /// The parts of `batch` rendered again, those whose changed files are lean (the others
    /// need nothing: `None`).
    fn render(
        &self,
        batch: &[Part],
        by_part: &BTreeMap<Part, Vec<&Change>>,
    ) -> Result<Vec<(Part, Option<Tree>)>, Error> {
        let tree = self.plan.tree();
        let (lean, ready): (Vec<Part>, Vec<Part>) = batch
            .iter()
            .partition(|part| by_part[part].iter().any(|c| tree.is_lean(&c.path)));
        let mut parts: Vec<(Part, Option<Tree>)> =
            render_parts_with(self.fabric, &lean, self.plan.sections())?
                .into_iter()
                .map(|(part, tree)| (part, Some(tree)))
                .chain(ready.into_iter().map(|part| (part, None)))
                .collect();
        parts.sort_by_key(|(part, _)| *part);
        Ok(parts)
    }
}

/// The entry at `path` to write: the plan's, unless it is lean, then the one `fresh` (its
/// part rendered again) has, which must be what was planned.
fn rendered_entry<'a>(
    planned: &'a Tree,
    fresh: Option<&'a Tree>,
    path: &RelPath,
) -> Result<&'a Entry, Error> {
    let unsteady = || Error::Render(RenderError::Unsteady { path: path.clone() });
    if !planned.is_lean(path) {
        return planned.get(path).ok_or_else(unsteady);
    }
    let fresh = fresh.ok_or_else(unsteady)?;
    match fresh.get(path) {
        Some(entry) if fresh.digest(path) == planned.digest(path) => Ok(entry),
        _ => Err(unsteady()),
    }
}

/// Step 2 of [`Plan::apply`] for a lean tree: the entries kept whole staged at once, then
/// the others a batch of parts at a time, each part rendered again; `progress` is told of
/// each batch.
fn stage_rendered(
    root: &Path,
    tree: &Tree,
    writes: &[Write<'_>],
    fabric: &Fabric,
    sections: Sections,
    progress: &dyn Progress,
) -> Result<Vec<Staged>, Error> {
    progress.start(Step::Write, writes.len() as u64);
    let mut ready = Vec::new();
    let mut by_part: BTreeMap<Part, Vec<Write<'_>>> = BTreeMap::new();
    for write in writes.iter().copied() {
        if tree.is_lean(write.path) {
            let part = tree.part(write.path).unwrap_or_default();
            by_part.entry(part).or_default().push(write);
        } else {
            ready.push(write);
        }
    }
    let mut staged = stage_all(root, &ready)?;
    progress.advance(ready.len() as u64);
    let parts: Vec<Part> = by_part.keys().copied().collect();
    for batch in batches(&parts, BATCH) {
        let more = (|| -> Result<Vec<Staged>, Error> {
            let rendered = render_parts_with(fabric, batch, sections)?;
            let mut again = Vec::new();
            for (part, fresh) in &rendered {
                for write in &by_part[part] {
                    let entry = rendered_entry(tree, Some(fresh), write.path)?;
                    again.push(Write { entry, ..*write });
                }
            }
            Ok(stage_all(root, &again)?)
        })();
        match more {
            Ok(more) => {
                progress.advance(batch.iter().map(|part| by_part[part].len() as u64).sum());
                staged.extend(more);
            }
            Err(err) => {
                unstage(root, staged);
                return Err(err);
            }
        }
    }
    Ok(staged)
}

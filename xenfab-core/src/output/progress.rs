//! How far a streamed render has got: [`Progress`], told by [`plan_streamed_with`] and the
//! [`StreamedPlan`] it makes, for a caller that shows it (`xenfab render` draws a progress bar
//! on a terminal). The core prints nothing; a caller that wants nothing passes
//! [`NoProgress`], which [`plan_streamed`] does.
//!
//! It is told a batch at a time (a batch of parts rendered, a batch of files written or
//! shown), never a file at a time, so that it costs nothing worth measuring.
//!
//! [`plan_streamed_with`]: super::plan_streamed_with
//! [`plan_streamed`]: super::plan_streamed
//! [`StreamedPlan`]: super::StreamedPlan

use std::sync::atomic::{AtomicU64, Ordering};

/// A step of a streamed render, in the order a run goes through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// The parts of the fabric whose inputs changed are rendered and hashed; counted in parts
    /// (the site's, and one a dom0 with its guests).
    Render,
    /// What was rendered is compared with the tree on disk; not counted.
    Plan,
    /// The created and changed files are rendered again and written under temporary names;
    /// counted in files.
    Write,
    /// The filesystem is synced, before the files get their names and after; not counted.
    Sync,
    /// The temporary files are renamed into place; counted in files.
    Rename,
    /// The manifest is written; not counted.
    Manifest,
    /// The created and changed files are rendered again and shown (a diff, or the lines of
    /// `--stat`); counted in files.
    Diff,
}

impl Step {
    /// The step's name in lower case (`render`, `write`), as a progress display shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Render => "render",
            Step::Plan => "plan",
            Step::Write => "write",
            Step::Sync => "sync",
            Step::Rename => "rename",
            Step::Manifest => "manifest",
            Step::Diff => "diff",
        }
    }

    /// What the step counts (`parts`, `files`), or `None` for a step that is not counted.
    pub fn unit(self) -> Option<&'static str> {
        match self {
            Step::Render => Some("parts"),
            Step::Write | Step::Rename | Step::Diff => Some("files"),
            Step::Plan | Step::Sync | Step::Manifest => None,
        }
    }
}

/// Told how far a streamed render has got. Both methods may be called from any thread (the
/// writes and renames run on every core), a batch at a time.
pub trait Progress: Sync {
    /// `step` begins, with `total` units of it to do ([`Step::unit`]; 0 for a step that is
    /// not counted).
    fn start(&self, step: Step, total: u64);

    /// `done` more units of the step begun last are done.
    fn advance(&self, done: u64);
}

/// No progress to show: what [`plan_streamed`](super::plan_streamed) passes.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: Step, _: u64) {}

    fn advance(&self, _: u64) {}
}

/// How many files a [`Counter`] counts before it tells its [`Progress`].
const TICK: u64 = 1024;

/// Counts files done on many threads and tells `progress` every [`TICK`] of them: one atomic
/// add a file.
pub(crate) struct Counter<'p> {
    progress: &'p dyn Progress,
    done: AtomicU64,
}

impl<'p> Counter<'p> {
    pub(crate) fn new(progress: &'p dyn Progress) -> Counter<'p> {
        Counter {
            progress,
            done: AtomicU64::new(0),
        }
    }

    /// One more file done.
    pub(crate) fn tick(&self) {
        if self.done.fetch_add(1, Ordering::Relaxed) % TICK == TICK - 1 {
            self.progress.advance(TICK);
        }
    }

    /// Tells the files counted since the last [`TICK`].
    pub(crate) fn finish(self) {
        let rest = self.done.into_inner() % TICK;
        if rest > 0 {
            self.progress.advance(rest);
        }
    }
}

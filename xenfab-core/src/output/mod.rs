//! The output tree: the only place xenfab writes to the filesystem.
//!
//! Renderers produce a [`Tree`] (relative path → file contents or symlink).
//! [`plan`] compares it with an output directory and decides what to create,
//! change, keep and remove, checking everything that could go wrong before
//! anything is written; [`Plan::apply`] then writes it.
//!
//! # Guarantees
//!
//! * **Ownership.** xenfab records the entries it wrote in
//!   `<root>/.xenfab-manifest.json` ([`MANIFEST_FILE`]), with what the runs since it
//!   was written whole changed in `<root>/.xenfab-manifest-delta.json`
//!   ([`MANIFEST_DELTA_FILE`]), and never modifies or removes anything else. A file or symlink at a tree path that is not in
//!   the manifest is adopted only when it is exactly what would be written
//!   (contents, mode / target); otherwise planning fails with
//!   [`OutputError::NotOwned`].
//! * **No half-written tree.** Every check (ownership, file/directory
//!   conflicts, parents that are symlinks or files) is done by [`plan`],
//!   which only reads. Each file is written to a temporary
//!   `.<name>.<random>.xenfab-tmp` in the same directory, the filesystem synced
//!   once (`syncfs`), and the files renamed into place, so a reader sees either
//!   the old or the new contents, never a partial file or a missing path; the
//!   filesystem is synced again after the renames (see [`Plan::apply`]). Temporary files a killed run left are removed by the next
//!   [`Plan::apply`] (a run leaves [`UNFINISHED_FILE`] in the root until it is
//!   done), and new entries are listed in the manifest before they
//!   are created, so that the next run owns whatever a killed one wrote.
//! * **Whose tree.** The manifest records the site that wrote the tree
//!   ([`SiteStamp`]); [`plan_with`] refuses another site's tree, and a plan
//!   that removes more than half of the owned entries, unless forced
//!   ([`PlanOptions`]).
//! * **One run at a time.** [`TreeLock`] locks the tree (`.xenfab-lock`,
//!   `flock`) from before [`plan`] until [`Plan::apply`] is done.
//! * **Idempotence.** Entries that are already right are not touched, and an
//!   apply with nothing to do writes nothing, not even the manifest. The
//!   manifest stamps each file (size, inode, times, content hash), so that a
//!   file still as xenfab wrote it is compared without being read.
//! * **No symlink following.** A symlink in a parent component of an output
//!   path is refused ([`OutputError::UnsafeParent`]); only the root itself may
//!   be a symlink to a directory.
//!
//! * **Zone serials.** A DNS zone file ([`Tree::insert_zone`]) whose records are
//!   what the tree on disk holds keeps its file, SOA serial included; one whose
//!   records changed gets the serial on disk plus one.
//!
//! Names beginning with `.` are reserved for the manifest, the lock and
//! temporary files and cannot appear in a [`Tree`]. This module uses Unix file modes and
//! symlinks and is therefore Unix-only.

pub mod ack;
pub mod boot;
mod fsops;
mod incremental;
mod leave;
mod lock;
mod manifest;
mod path;
mod plan;
mod progress;
mod serial;
mod streamed;
mod tree;

#[cfg(test)]
mod tests;

use std::io;
use std::path::PathBuf;

pub use incremental::{Survey, plan_fabric, plan_surveyed};
pub use leave::Untouched;
pub use lock::{Busy, LOCK_FILE, LockKind, TreeLock};
pub use manifest::{MANIFEST_DELTA_FILE, MANIFEST_FILE, MANIFEST_FORMAT, SiteStamp};
pub use path::{MAX_COMPONENT_LEN, MAX_PATH_LEN, RelPath};
pub use plan::{
    Change, ChangeKind, FileStat, Plan, PlanOptions, Summary, UNFINISHED_FILE, plan, plan_with,
    replace_file,
};
pub use progress::{NoProgress, Progress, Step};
pub use streamed::{DiffError, StreamedPlan, plan_streamed, plan_streamed_with};
pub use tree::{Entry, Iter, Part, Tree};

/// The suffix of the temporary files written next to their target
/// (`.<name>.<random>.xenfab-tmp`).
pub const TEMP_SUFFIX: &str = ".xenfab-tmp";

/// Everything that can go wrong while building, planning or writing an
/// output tree.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// A path given to the tree is not a valid [`RelPath`].
    #[error("invalid output path `{path}`: {reason}")]
    InvalidPath {
        /// The refused path, as given.
        path: String,
        /// Why it was refused.
        reason: String,
    },
    /// The target of a symlink is not an acceptable relative path.
    #[error("invalid target `{target}` for symlink `{path}`: {reason}")]
    InvalidSymlinkTarget {
        /// The path of the symlink in the tree.
        path: RelPath,
        /// The refused target.
        target: String,
        /// Why it was refused.
        reason: String,
    },
    /// The target of a symlink, resolved from the link's directory, leaves
    /// the output tree.
    #[error("symlink `{path}` -> `{target}` points outside the output tree")]
    SymlinkEscapes {
        /// The path of the symlink in the tree.
        path: RelPath,
        /// The refused target.
        target: String,
    },
    /// The same path was inserted twice into a tree.
    #[error("`{path}` is inserted twice into the output tree")]
    DuplicatePath {
        /// The duplicated path.
        path: RelPath,
    },
    /// A tree entry is also the parent directory of another entry.
    #[error("`{path}` is an entry of the output tree but also the parent directory of `{child}`")]
    FileDirConflict {
        /// The entry that would also have to be a directory.
        path: RelPath,
        /// An entry below it.
        child: RelPath,
    },
    /// Something exists on disk where xenfab would write, and xenfab does not
    /// own it.
    #[error("`{path}` exists and was not written by xenfab; move it away or remove it")]
    NotOwned {
        /// The path on disk.
        path: PathBuf,
    },
    /// A path that has to be a directory (the root or a parent of an entry)
    /// is something else.
    #[error("`{path}` is not a directory")]
    NotADirectory {
        /// The path on disk.
        path: PathBuf,
    },
    /// A parent component of an output path is a symlink; xenfab never
    /// writes through one.
    #[error("`{path}` is a symlink; refusing to write through it")]
    UnsafeParent {
        /// The symlink on disk.
        path: PathBuf,
    },
    /// The manifest exists but cannot be used.
    #[error("corrupt manifest `{path}`")]
    Manifest {
        /// The manifest on disk.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: serde_json::Error,
    },
    /// A boot link would point at a file that is not there (render the tree first).
    #[error("`{path}` does not exist: render the tree into this TFTP root first")]
    MissingBootTarget {
        /// The file the link would point at.
        path: PathBuf,
    },
    /// The file recording hosts' boot states exists but cannot be read.
    #[error("corrupt boot state file `{path}`")]
    BootState {
        /// The file on disk.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: serde_json::Error,
    },
    /// Another run holds the lock on the output tree (see [`TreeLock`]).
    #[error("{busy}")]
    Locked {
        /// The lock file and its holder.
        busy: Busy,
    },
    /// The tree holds another site's artefacts (see [`PlanOptions::force`]).
    #[error(
        "`{}` holds the artefacts of site {found}, not of site {wanted}",
        root.display()
    )]
    OtherSite {
        /// The output root.
        root: PathBuf,
        /// The site recorded in the tree's manifest.
        found: Box<SiteStamp>,
        /// The site being rendered.
        wanted: Box<SiteStamp>,
    },
    /// The plan would remove more than half of the entries xenfab owns in the tree (see
    /// [`PlanOptions::force`]).
    #[error(
        "rendering into `{}` would remove {removed} of the {owned} entries xenfab wrote there (more than half)",
        root.display()
    )]
    MassRemoval {
        /// The output root.
        root: PathBuf,
        /// How many owned entries the plan removes.
        removed: usize,
        /// How many entries the manifest lists.
        owned: usize,
    },
    /// [`PlanOptions::hosts`] names a host the fabric does not have.
    #[error("no host `{}` in the fabric", name.escape_debug())]
    UnknownHost {
        /// The name as given.
        name: String,
    },
    /// [`PlanOptions::hosts`] was given to a plan of a bare tree ([`plan_with`]), whose
    /// entries are of no fabric's hosts: only a plan of a fabric writes some hosts' entries.
    #[error("a plan of a tree without its fabric cannot write some hosts' entries alone")]
    HostsOfNoFabric,
    /// A filesystem operation failed.
    #[error("cannot {action} `{path}`")]
    Io {
        /// What was being done (`read`, `write`, `remove`, …).
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

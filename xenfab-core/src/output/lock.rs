//! The lock on an output tree: one writer at a time, and no reader while it writes.
//!
//! The lock is an advisory `flock(2)` lock (through the `fs4` crate) on
//! `<root>/.xenfab-lock` ([`LOCK_FILE`]). The kernel drops it when its holder exits, however
//! it exits (`kill -9` included), so a lock is never left behind. The lock file itself stays:
//! removing it would let a waiting run and a new one lock two different files.
//!
//! A writer takes it exclusively and writes its process id into the file, so that a run that
//! has to wait can say for whom; a dry run takes it shared.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use fs4::FileExt;
use fs4::TryLockError;

use super::OutputError;
use super::fsops::{self, Node};

/// The file, directly in the output root, that the lock is taken on.
pub const LOCK_FILE: &str = ".xenfab-lock";

/// How a tree is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    /// For writing: nobody else holds the lock. Creates the root and the lock file when
    /// missing.
    Exclusive,
    /// For reading (a dry run): no writer holds it, other readers may. A tree without a lock
    /// file (never written by this version) is read without a lock, and nothing is created.
    Shared,
}

/// The lock is held by another process; given to the `on_busy` callback of
/// [`TreeLock::acquire`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy {
    /// The lock file.
    pub lock_file: PathBuf,
    /// The process id of the writer holding it, when the lock file names a process that is
    /// still running (known on Linux only); a reader is never named.
    pub holder: Option<u32>,
}

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` is locked by another xenfab run",
            self.lock_file.display()
        )?;
        if let Some(pid) = self.holder {
            write!(f, " (pid {pid})")?;
        }
        Ok(())
    }
}

/// A held lock on an output tree; released when dropped.
#[derive(Debug)]
pub struct TreeLock {
    /// `None` for a shared lock on a tree without a lock file.
    file: Option<File>,
    kind: LockKind,
}

impl TreeLock {
    /// Locks the tree at `root`.
    ///
    /// When another run holds the lock, `on_busy` is called once with who holds it: `true`
    /// waits until the lock is free, `false` gives up with [`OutputError::Locked`].
    ///
    /// An exclusive lock creates `root` (with its parents) when it is missing. The lock file
    /// must be a regular file: a symlink or anything else there is refused.
    pub fn acquire(
        root: &Path,
        kind: LockKind,
        on_busy: impl FnOnce(&Busy) -> bool,
    ) -> Result<TreeLock, OutputError> {
        let path = root.join(LOCK_FILE);
        let file = match kind {
            LockKind::Exclusive => {
                fsops::ensure_root(root)?;
                check_lock_file(&path)?;
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .mode(0o644)
                    .open(&path)
                    .map_err(|err| fsops::io_error("open", &path, err))?
            }
            LockKind::Shared => {
                if fsops::node(root)? == Node::Missing || fsops::node(&path)? == Node::Missing {
                    return Ok(TreeLock { file: None, kind });
                }
                check_lock_file(&path)?;
                File::open(&path).map_err(|err| fsops::io_error("open", &path, err))?
            }
        };
        let attempt = match kind {
            LockKind::Exclusive => FileExt::try_lock(&file),
            LockKind::Shared => FileExt::try_lock_shared(&file),
        };
        match attempt {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let busy = Busy {
                    holder: holder(&file),
                    lock_file: path.clone(),
                };
                if !on_busy(&busy) {
                    return Err(OutputError::Locked { busy });
                }
                let waited = match kind {
                    LockKind::Exclusive => FileExt::lock(&file),
                    LockKind::Shared => FileExt::lock_shared(&file),
                };
                waited.map_err(|err| fsops::io_error("lock", &path, err))?;
            }
            Err(TryLockError::Error(err)) => return Err(fsops::io_error("lock", &path, err)),
        }
        if kind == LockKind::Exclusive {
            let mut file = &file;
            file.set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| writeln!(file, "{}", std::process::id()))
                .map_err(|err| fsops::io_error("write", &path, err))?;
        }
        Ok(TreeLock {
            file: Some(file),
            kind,
        })
    }

    /// How the tree is locked.
    pub fn kind(&self) -> LockKind {
        self.kind
    }
}

impl Drop for TreeLock {
    fn drop(&mut self) {
        if let (Some(file), LockKind::Exclusive) = (&self.file, self.kind) {
            // The pid of a finished run means nothing; the lock goes with the file.
            let _ = file.set_len(0);
        }
    }
}

/// Refuses a lock file that is not a regular file (or missing).
fn check_lock_file(path: &Path) -> Result<(), OutputError> {
    match fsops::node(path)? {
        Node::Missing | Node::File { .. } => Ok(()),
        Node::Symlink => Err(OutputError::UnsafeParent {
            path: path.to_owned(),
        }),
        Node::Dir | Node::Other => Err(OutputError::NotOwned {
            path: path.to_owned(),
        }),
    }
}

/// The pid written in the lock file, if that process still runs (checked in `/proc`, so on
/// Linux only: elsewhere no pid is named, rather than a wrong one).
fn holder(file: &File) -> Option<u32> {
    let mut text = String::new();
    let mut reader = file;
    reader.rewind().ok()?;
    reader.take(32).read_to_string(&mut text).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    let proc_dir = Path::new("/proc");
    let running = proc_dir.join("self").exists() && proc_dir.join(pid.to_string()).exists();
    running.then_some(pid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn exclusive_lock_names_its_holder_and_refuses_a_second() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("out");
        let first = TreeLock::acquire(&root, LockKind::Exclusive, |_| false).unwrap();
        assert_eq!(first.kind(), LockKind::Exclusive);
        let text = fs::read_to_string(root.join(LOCK_FILE)).unwrap();
        assert_eq!(text, format!("{}\n", std::process::id()));
        let mut seen = None;
        let err = TreeLock::acquire(&root, LockKind::Exclusive, |busy| {
            seen = Some(busy.clone());
            false
        })
        .unwrap_err();
        let busy = seen.unwrap();
        assert_eq!(busy.lock_file, root.join(LOCK_FILE));
        if Path::new("/proc/self").exists() {
            assert_eq!(busy.holder, Some(std::process::id()));
        }
        assert!(matches!(err, OutputError::Locked { .. }));
        assert!(err.to_string().contains("is locked by another xenfab run"));
        // A reader waits for the writer too.
        assert!(TreeLock::acquire(&root, LockKind::Shared, |_| false).is_err());
        drop(first);
        assert_eq!(fs::read_to_string(root.join(LOCK_FILE)).unwrap(), "");
        let shared = TreeLock::acquire(&root, LockKind::Shared, |_| false).unwrap();
        let shared2 = TreeLock::acquire(&root, LockKind::Shared, |_| false).unwrap();
        assert!(TreeLock::acquire(&root, LockKind::Exclusive, |_| false).is_err());
        drop((shared, shared2));
        TreeLock::acquire(&root, LockKind::Exclusive, |_| false).unwrap();
    }

    #[test]
    fn waiting_writer_gets_the_lock_when_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        let first = TreeLock::acquire(&root, LockKind::Exclusive, |_| false).unwrap();
        let waiter = std::thread::spawn({
            let root = root.clone();
            move || {
                let mut asked = 0;
                let lock = TreeLock::acquire(&root, LockKind::Exclusive, |_| {
                    asked += 1;
                    true
                });
                (lock.is_ok(), asked)
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        drop(first);
        assert_eq!(waiter.join().unwrap(), (true, 1));
    }

    #[test]
    fn shared_lock_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        TreeLock::acquire(&missing, LockKind::Shared, |_| false).unwrap();
        assert!(!missing.exists());
        TreeLock::acquire(dir.path(), LockKind::Shared, |_| false).unwrap();
        assert!(!dir.path().join(LOCK_FILE).exists());
    }

    #[test]
    fn lock_file_that_is_a_symlink_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join(LOCK_FILE)).unwrap();
        assert!(matches!(
            TreeLock::acquire(dir.path(), LockKind::Exclusive, |_| true),
            Err(OutputError::UnsafeParent { .. })
        ));
        assert!(matches!(
            TreeLock::acquire(dir.path(), LockKind::Shared, |_| true),
            Err(OutputError::UnsafeParent { .. })
        ));
    }
}

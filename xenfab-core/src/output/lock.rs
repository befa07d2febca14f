//! The lock on an output tree: one writer at a time, and no reader while it writes.
//!
//! The lock is an advisory `flock(2)` lock (through the `fs4` crate) on
//! `<root>/.xenfab-lock` ([`LOCK_FILE`]). The kernel drops it when its holder exits, however
//! it exits (`kill -9` included), so a lock is never left held.
//!
//! The lock file exists only while a run uses it: the last holder removes it (a holder that
//! can lock it exclusively knows that nobody else holds or waits for it... except those that
//! opened it before the removal, so every run checks, once it has the lock, that the file it
//! locked is still the one at the path, and starts again if not). A file left by a killed run
//! is simply locked and removed by the next.
//!
//! A writer takes it exclusively and writes its process id into it, so that a run that has to
//! wait can say for whom; a dry run takes it shared.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read as _, Seek as _, Write as _};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
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
    /// For writing: nobody else holds the lock. Creates the root when it is missing.
    Exclusive,
    /// For reading (a dry run): no writer holds it, other readers may. A missing root is
    /// not created (there is nothing to read), and a tree the process may not write into is
    /// read under the lock of a running writer, if there is one, else without a lock.
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
    /// The locked file and its path; `None` for a shared lock on a missing tree.
    file: Option<(File, PathBuf)>,
    kind: LockKind,
}

impl TreeLock {
    /// Locks the tree at `root`.
    ///
    /// When another run holds the lock, `on_busy` is called once with who holds it: `true`
    /// waits until the lock is free, `false` gives up with [`OutputError::Locked`].
    ///
    /// An exclusive lock creates `root` (with its parents) when it is missing. The lock file
    /// is created, and removed again by the last holder when it is dropped; it must be a
    /// regular file: a symlink or anything else there is refused.
    pub fn acquire(
        root: &Path,
        kind: LockKind,
        on_busy: impl FnOnce(&Busy) -> bool,
    ) -> Result<TreeLock, OutputError> {
        let path = root.join(LOCK_FILE);
        match kind {
            LockKind::Exclusive => fsops::ensure_root(root)?,
            LockKind::Shared if fsops::node(root)? == Node::Missing => {
                return Ok(TreeLock { file: None, kind });
            }
            LockKind::Shared => {}
        }
        let mut on_busy = Some(on_busy);
        loop {
            check_lock_file(&path)?;
            let opened = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o644)
                .open(&path);
            let file = match opened {
                Ok(file) => file,
                // A reader that may not write into the tree (a dry run by another user) locks
                // the file if a writer made it, and else reads without a lock.
                Err(err)
                    if kind == LockKind::Shared
                        && matches!(
                            err.kind(),
                            ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
                        ) =>
                {
                    match File::open(&path) {
                        Ok(file) => file,
                        Err(err) if err.kind() == ErrorKind::NotFound => {
                            return Ok(TreeLock { file: None, kind });
                        }
                        Err(err) => return Err(fsops::io_error("open", &path, err)),
                    }
                }
                Err(err) => return Err(fsops::io_error("open", &path, err)),
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
                    // Asked once: a run that waited and then finds the file replaced waits on.
                    if let Some(on_busy) = on_busy.take() {
                        if !on_busy(&busy) {
                            return Err(OutputError::Locked { busy });
                        }
                    }
                    let waited = match kind {
                        LockKind::Exclusive => FileExt::lock(&file),
                        LockKind::Shared => FileExt::lock_shared(&file),
                    };
                    waited.map_err(|err| fsops::io_error("lock", &path, err))?;
                }
                Err(TryLockError::Error(err)) => {
                    return Err(fsops::io_error("lock", &path, err));
                }
            }
            if !is_at(&file, &path)? {
                // Removed (or replaced) by the holder we waited for: lock the new one.
                continue;
            }
            if kind == LockKind::Exclusive {
                let mut writer = &file;
                writer
                    .set_len(0)
                    .and_then(|()| writer.rewind())
                    .and_then(|()| writeln!(writer, "{}", std::process::id()))
                    .map_err(|err| fsops::io_error("write", &path, err))?;
            }
            return Ok(TreeLock {
                file: Some((file, path)),
                kind,
            });
        }
    }

    /// How the tree is locked.
    pub fn kind(&self) -> LockKind {
        self.kind
    }
}

impl Drop for TreeLock {
    fn drop(&mut self) {
        let Some((file, path)) = &self.file else {
            return;
        };
        // The last holder removes the file: whoever can lock it exclusively is the only one
        // holding it (a reader's shared lock may be given up in the attempt; it is done
        // anyway). Runs waiting on the removed file see it gone and start again.
        let alone = match self.kind {
            LockKind::Exclusive => true,
            LockKind::Shared => FileExt::try_lock(file).is_ok(),
        };
        if alone {
            let _ = fs::remove_file(path);
        }
    }
}

/// Whether `file` is (still) the regular file at `path`.
fn is_at(file: &File, path: &Path) -> Result<bool, OutputError> {
    let open = file
        .metadata()
        .map_err(|err| fsops::io_error("inspect", path, err))?;
    Ok(match fs::symlink_metadata(path) {
        Ok(now) => now.file_type().is_file() && now.dev() == open.dev() && now.ino() == open.ino(),
        Err(err) if err.kind() == ErrorKind::NotFound => false,
        Err(err) => return Err(fsops::io_error("inspect", path, err)),
    })
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
            assert_eq!(
                err.to_string(),
                format!(
                    "`{}` is locked by another xenfab run (pid {})",
                    root.join(LOCK_FILE).display(),
                    std::process::id()
                )
            );
        }
        assert!(matches!(err, OutputError::Locked { .. }));
        // A reader waits for the writer too.
        assert!(TreeLock::acquire(&root, LockKind::Shared, |_| false).is_err());
        drop(first);
        assert!(!root.join(LOCK_FILE).exists(), "the last holder removes it");
        let shared = TreeLock::acquire(&root, LockKind::Shared, |_| false).unwrap();
        let shared2 = TreeLock::acquire(&root, LockKind::Shared, |_| false).unwrap();
        assert!(TreeLock::acquire(&root, LockKind::Exclusive, |_| false).is_err());
        drop(shared);
        assert!(root.join(LOCK_FILE).exists(), "another reader holds it");
        assert!(TreeLock::acquire(&root, LockKind::Exclusive, |_| false).is_err());
        drop(shared2);
        assert!(!root.join(LOCK_FILE).exists());
        TreeLock::acquire(&root, LockKind::Exclusive, |_| false).unwrap();
    }

    #[test]
    fn a_lock_file_left_by_a_killed_run_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(LOCK_FILE), "4194304\n").unwrap();
        let lock = TreeLock::acquire(dir.path(), LockKind::Exclusive, |_| false).unwrap();
        drop(lock);
        assert!(!dir.path().join(LOCK_FILE).exists());
    }

    #[test]
    fn waiters_take_turns_when_the_file_is_removed_under_them() {
        // Many threads each add one to a counter file under the lock, with a pause between
        // reading and writing: a lost update would show that two held it at once.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        fs::write(root.join("n"), "0").unwrap();
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let root = root.clone();
                std::thread::spawn(move || {
                    let kind = if i % 3 == 2 {
                        LockKind::Shared
                    } else {
                        LockKind::Exclusive
                    };
                    let _lock = TreeLock::acquire(&root, kind, |_| true).unwrap();
                    if kind == LockKind::Exclusive {
                        let n: u32 = fs::read_to_string(root.join("n")).unwrap().parse().unwrap();
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        fs::write(root.join("n"), (n + 1).to_string()).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(fs::read_to_string(root.join("n")).unwrap(), "6");
        assert!(!root.join(LOCK_FILE).exists());
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
    fn shared_lock_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        TreeLock::acquire(&missing, LockKind::Shared, |_| false).unwrap();
        assert!(!missing.exists());
        let shared = TreeLock::acquire(dir.path(), LockKind::Shared, |_| false).unwrap();
        drop(shared);
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

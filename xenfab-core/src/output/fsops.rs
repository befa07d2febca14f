//! Low-level filesystem operations. Nothing here follows a symlink except
//! through the root directory itself.

use std::collections::{BTreeSet, HashSet};
use std::ffi::OsString;
use std::fs::{self, DirBuilder, Permissions};
use std::io::{self, Write as _};
use std::os::unix::ffi::OsStringExt as _;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use super::path::RelPath;
use super::{OutputError, TEMP_SUFFIX};

/// What a path is on disk, without following a final symlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Node {
    Missing,
    Dir,
    File { mode: u32, len: u64, seen: Seen },
    Symlink,
    Other,
}

/// What tells one version of a file from another without reading it: its inode, and the
/// times of its last write and last status change, in nanoseconds. A write changes the
/// modification time and the change time, a rename or a replacement the inode, and nobody
/// but the kernel sets the change time (`touch -d` cannot put a file back as it was), so a
/// file whose `Seen` and size are what the manifest recorded holds what xenfab wrote, as
/// with git's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Seen {
    pub(crate) ino: u64,
    pub(crate) mtime: i64,
    pub(crate) ctime: i64,
}

impl Seen {
    pub(crate) fn of(meta: &fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt as _;
        Seen {
            ino: meta.ino(),
            mtime: nanos(meta.mtime(), meta.mtime_nsec()),
            ctime: nanos(meta.ctime(), meta.ctime_nsec()),
        }
    }
}

pub(crate) fn io_error(action: &'static str, path: &Path, source: io::Error) -> OutputError {
    OutputError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// Inspects `path` with `symlink_metadata`.
pub(crate) fn node(path: &Path) -> Result<Node, OutputError> {
    match fs::symlink_metadata(path) {
        Ok(meta) => {
            let kind = meta.file_type();
            Ok(if kind.is_symlink() {
                Node::Symlink
            } else if kind.is_dir() {
                Node::Dir
            } else if kind.is_file() {
                Node::File {
                    mode: meta.permissions().mode() & 0o7777,
                    len: meta.len(),
                    seen: Seen::of(&meta),
                }
            } else {
                Node::Other
            })
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(Node::Missing),
        Err(err) => Err(io_error("inspect", path, err)),
    }
}

/// A file time in nanoseconds since the epoch, from its seconds and nanoseconds.
fn nanos(secs: i64, nsecs: i64) -> i64 {
    secs.saturating_mul(1_000_000_000).saturating_add(nsecs)
}

/// A stat field as `i64`: their types differ between targets (`i64`, `u64`, `c_long`).
fn wide<T: TryInto<i64>>(value: T) -> i64 {
    value.try_into().unwrap_or(0)
}

/// What [`OpenDir::open_beneath`] found.
#[cfg(target_os = "linux")]
pub(crate) enum Beneath {
    /// The directory, opened.
    Dir(OpenDir),
    /// It, or a directory on the way, is missing, or is not a real directory.
    NotReal,
    /// It could not be opened for another reason (permissions, no file descriptor left).
    Failed,
    /// `openat2` is not there.
    Unsupported,
}

/// A directory opened to inspect its entries by name (`fstatat`, `readlinkat`), without a
/// lookup of the whole path for each: what a rerun does to every file of a tree.
pub(crate) struct OpenDir(rustix::fd::OwnedFd);

impl OpenDir {
    /// `None` when `path` is not a real directory (missing, a symlink, anything else).
    pub(crate) fn open(path: &Path) -> Option<Self> {
        use rustix::fs::{Mode, OFlags};
        rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok()
        .map(OpenDir)
    }

    /// The directory `path` below this one, opened only if it and every directory between
    /// are real directories (no symlink on the way, nothing outside): `openat2` with
    /// `RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH` (Linux 5.6), one lookup for what a `lstat` of
    /// each directory on the way would check. [`Beneath::Unsupported`] where the kernel (or
    /// a seccomp filter) has no `openat2`.
    #[cfg(target_os = "linux")]
    pub(crate) fn open_beneath(&self, path: &str) -> Beneath {
        use rustix::fs::{Mode, OFlags, ResolveFlags};
        use rustix::io::Errno;
        match rustix::fs::openat2(
            &self.0,
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::NO_SYMLINKS | ResolveFlags::BENEATH,
        ) {
            Ok(fd) => Beneath::Dir(OpenDir(fd)),
            // missing, a file, a symlink (ELOOP), out of the tree (EXDEV)
            Err(Errno::NOENT | Errno::NOTDIR | Errno::LOOP | Errno::XDEV) => Beneath::NotReal,
            // no such system call, or flags it does not know (EINVAL), or a filter's refusal
            Err(Errno::NOSYS | Errno::INVAL | Errno::PERM) => Beneath::Unsupported,
            Err(_) => Beneath::Failed,
        }
    }

    /// Where `openat2` can be used: an opening of `.` (which has no symlink) succeeds.
    #[cfg(target_os = "linux")]
    pub(crate) fn opens_beneath(&self) -> bool {
        matches!(self.open_beneath("."), Beneath::Dir(_))
    }

    /// What the entry `name` is (as [`node`]); `Node::Other` when it cannot be inspected.
    pub(crate) fn node(&self, name: &str) -> Node {
        use rustix::fs::{AtFlags, FileType};
        let stat = match rustix::fs::statat(&self.0, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => stat,
            Err(rustix::io::Errno::NOENT) => return Node::Missing,
            Err(_) => return Node::Other,
        };
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Symlink => Node::Symlink,
            FileType::Directory => Node::Dir,
            FileType::RegularFile => Node::File {
                mode: stat.st_mode & 0o7777,
                len: u64::try_from(stat.st_size).unwrap_or(0),
                seen: Seen {
                    ino: stat.st_ino,
                    mtime: nanos(wide(stat.st_mtime), wide(stat.st_mtime_nsec)),
                    ctime: nanos(wide(stat.st_ctime), wide(stat.st_ctime_nsec)),
                },
            },
            _ => Node::Other,
        }
    }

    /// The target of the symlink `name`; `None` when it is not one.
    pub(crate) fn read_link(&self, name: &str) -> Option<Vec<u8>> {
        rustix::fs::readlinkat(&self.0, name, Vec::new())
            .ok()
            .map(std::ffi::CString::into_bytes)
    }
}

pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, OutputError> {
    fs::read(path).map_err(|err| io_error("read", path, err))
}

pub(crate) fn read_link(path: &Path) -> Result<Vec<u8>, OutputError> {
    fs::read_link(path)
        .map(|target| OsString::from(target).into_vec())
        .map_err(|err| io_error("read", path, err))
}

/// The random part of a temporary name: enough that two runs never pick the same one.
const TEMP_RANDOM_LEN: usize = 6;

/// The `tempfile` builder for temporary files beside `target`:
/// `.<name>.<random>.xenfab-tmp` (the name is shortened so that the result fits in 255
/// bytes). The leading `.` keeps them out of a [`Tree`](super::Tree), and
/// [`is_temp_name`] recognises them.
pub(crate) fn temp_builder(target: &Path) -> (PathBuf, String) {
    let name = target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let budget = 255 - 2 - TEMP_RANDOM_LEN - TEMP_SUFFIX.len();
    let mut cut = name.len().min(budget);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_owned();
    (dir, format!(".{}.", &name[..cut]))
}

/// Whether `name` is one of xenfab's temporary names (`.….xenfab-tmp`), including the fixed
/// `.<name>.xenfab-tmp` of earlier versions.
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(TEMP_SUFFIX) && name.len() > TEMP_SUFFIX.len()
}

/// Writes `contents` to `target` atomically with exactly `mode`: a temporary file with a
/// unique name in the same directory, synced, then renamed over `target`. The temporary file
/// is removed on failure. The directory itself is not synced: see [`sync_dir`].
pub(crate) fn write_file_atomic(
    target: &Path,
    contents: &[u8],
    mode: u32,
) -> Result<(), OutputError> {
    write_file_atomic_with(target, contents, mode, |_| Ok(()))
}

/// [`write_file_atomic`], with `prepare` run on the temporary file before it is renamed (to
/// copy an owner, say).
pub(crate) fn write_file_atomic_with(
    target: &Path,
    contents: &[u8],
    mode: u32,
    prepare: impl FnOnce(&fs::File) -> io::Result<()>,
) -> Result<(), OutputError> {
    write_pieces_atomic_with(target, &[contents], mode, prepare)
}

/// [`write_file_atomic`] of the file made of `pieces` one after another (a manifest of a
/// million entries is made in pieces on every core, and not copied into one).
pub(crate) fn write_pieces_atomic(
    target: &Path,
    pieces: &[&[u8]],
    mode: u32,
) -> Result<(), OutputError> {
    write_pieces_atomic_with(target, pieces, mode, |_| Ok(()))
}

fn write_pieces_atomic_with(
    target: &Path,
    pieces: &[&[u8]],
    mode: u32,
    prepare: impl FnOnce(&fs::File) -> io::Result<()>,
) -> Result<(), OutputError> {
    write_streamed_atomic(target, mode, |file| {
        for piece in pieces {
            file.write_all(piece)?;
        }
        prepare(file)?;
        Ok(true)
    })
    .map(drop)
}

/// [`write_file_atomic`] of what `fill` writes into the temporary file, when `fill` returns
/// `true` (its file is then given `mode`, synced and renamed over `target`); when it returns
/// `false`, the temporary file is removed and `target` left alone. Returns what `fill` did.
pub(crate) fn write_streamed_atomic(
    target: &Path,
    mode: u32,
    fill: impl FnOnce(&mut fs::File) -> io::Result<bool>,
) -> Result<bool, OutputError> {
    let (dir, prefix) = temp_builder(target);
    let result = (|| -> io::Result<bool> {
        let mut temp = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(TEMP_SUFFIX)
            .rand_bytes(TEMP_RANDOM_LEN)
            .permissions(Permissions::from_mode(0o600))
            .tempfile_in(&dir)?;
        // On failure or refusal the temporary file is dropped, which removes it.
        if !fill(temp.as_file_mut())? {
            return Ok(false);
        }
        let file = temp.as_file();
        file.set_permissions(Permissions::from_mode(mode))?;
        file.sync_all()?;
        temp.persist(target).map(drop).map_err(|e| e.error)?;
        Ok(true)
    })();
    result.map_err(|err| io_error("write", target, err))
}

/// The name of a temporary file [`write_temp`] or [`temp_symlink`] made beside a target: its
/// random part only, which with the target gives the path back ([`TempName::path`]). A first
/// write of a 110,000-host site stages 650,000 of them: kept whole, their paths would be
/// 65 MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TempName([u8; TEMP_RANDOM_LEN]);

impl TempName {
    /// The random part of `temp`, a path `tempfile` made with [`temp_builder`]'s prefix,
    /// [`TEMP_RANDOM_LEN`] random ASCII letters and digits, and [`TEMP_SUFFIX`].
    fn of(temp: &Path) -> io::Result<TempName> {
        let name = temp
            .file_name()
            .map(std::ffi::OsStr::as_encoded_bytes)
            .unwrap_or_default();
        name.strip_suffix(TEMP_SUFFIX.as_bytes())
            .and_then(|rest| {
                rest.len()
                    .checked_sub(TEMP_RANDOM_LEN)
                    .map(|at| &rest[at..])
            })
            .and_then(|random| random.try_into().ok())
            .map(TempName)
            .ok_or_else(|| {
                io::Error::other(format!("unexpected temporary name {}", temp.display()))
            })
    }

    /// The temporary file's path, beside `target`.
    pub(crate) fn path(self, target: &Path) -> PathBuf {
        let (dir, prefix) = temp_builder(target);
        let mut name = OsString::from(prefix);
        name.push(OsString::from_vec(self.0.to_vec()));
        name.push(TEMP_SUFFIX);
        dir.join(name)
    }
}

/// Writes `contents` with exactly `mode` to a new temporary file beside `target`
/// (`.<name>.<random>.xenfab-tmp`), not synced, and returns its name: to be renamed over
/// `target` once [`sync_filesystem`] has made it durable. Removed again on failure.
pub(crate) fn write_temp(
    target: &Path,
    contents: &[u8],
    mode: u32,
) -> Result<TempName, OutputError> {
    let (dir, prefix) = temp_builder(target);
    let result = (|| -> io::Result<TempName> {
        let mut temp = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(TEMP_SUFFIX)
            .rand_bytes(TEMP_RANDOM_LEN)
            .permissions(Permissions::from_mode(mode))
            .tempfile_in(&dir)?;
        let name = TempName::of(temp.path())?;
        temp.write_all(contents)?;
        // The umask may have taken bits away.
        temp.as_file()
            .set_permissions(Permissions::from_mode(mode))?;
        if !HAS_SYNCFS {
            temp.as_file().sync_all()?;
        }
        temp.into_temp_path().keep().map_err(|e| e.error)?;
        Ok(name)
    })();
    result.map_err(|err| io_error("write", target, err))
}

/// Creates a symlink at `target` (which must not exist) pointing to `link_target`.
pub(crate) fn create_symlink(target: &Path, link_target: &str) -> Result<(), OutputError> {
    std::os::unix::fs::symlink(link_target, target).map_err(|err| io_error("write", target, err))
}

/// Creates a symlink pointing to `link_target` under a temporary name beside `target`, and
/// returns that name: to be renamed over `target`.
pub(crate) fn temp_symlink(target: &Path, link_target: &str) -> Result<TempName, OutputError> {
    let (dir, prefix) = temp_builder(target);
    tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(TEMP_SUFFIX)
        .rand_bytes(TEMP_RANDOM_LEN)
        .make_in(&dir, |temp| std::os::unix::fs::symlink(link_target, temp))
        .and_then(|temp| {
            let name = TempName::of(temp.path());
            if name.is_ok() {
                temp.into_temp_path().keep().map_err(|e| e.error)?;
            }
            name
        })
        .map_err(|err| io_error("write", target, err))
}

/// Whether [`sync_filesystem`] is one `syncfs(2)` (Linux) rather than a sync of each file
/// and directory.
const HAS_SYNCFS: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// Makes everything written under `root` so far durable: one `syncfs(2)` of the filesystem
/// holding `root`, which writes back every dirty file and directory of it and waits (Linux
/// since 2.6.39; `man 2 syncfs`). The output tree is expected on one filesystem: a mount point
/// inside it is not synced.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn sync_filesystem(root: &Path) -> Result<(), OutputError> {
    let dir = fs::File::open(root).map_err(|err| io_error("sync", root, err))?;
    rustix::fs::syncfs(&dir).map_err(|err| io_error("sync", root, err.into()))
}

/// Without `syncfs`, [`write_temp`] synced each file as it wrote it: nothing is left to do.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn sync_filesystem(_root: &Path) -> Result<(), OutputError> {
    Ok(())
}

/// Makes the names written in the directories `dirs` under `root` durable: one
/// [`sync_filesystem`] where there is `syncfs`, else a sync of each directory (those since
/// removed are skipped).
pub(crate) fn sync_names<'a>(
    root: &Path,
    dirs: impl Iterator<Item = &'a Path>,
) -> Result<(), OutputError> {
    if HAS_SYNCFS {
        return sync_filesystem(root);
    }
    for dir in dirs {
        if matches!(node(dir), Ok(Node::Dir)) {
            sync_dir(dir)?;
        }
    }
    Ok(())
}

/// Creates a symlink at `target` pointing to `link_target`, atomically
/// replacing whatever file or symlink was there (a symlink with a unique temporary name,
/// renamed into place).
pub(crate) fn write_symlink_atomic(target: &Path, link_target: &str) -> Result<(), OutputError> {
    let temp = temp_symlink(target, link_target)?.path(target);
    fs::rename(&temp, target).map_err(|err| {
        let _ = fs::remove_file(&temp);
        io_error("write", target, err)
    })
}

/// Flushes the directory `dir` itself (the names in it: renames, creations, removals) to
/// disk.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), OutputError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|err| io_error("sync", dir, err))
}

/// The temporary files (see [`is_temp_name`]) directly in the directory `dir`, which may be
/// missing.
pub(crate) fn temp_files_in(dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(io_error("read", dir, err)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|err| io_error("read", dir, err))?;
        let is_temp = entry.file_name().to_str().is_some_and(is_temp_name);
        // A directory with such a name is not something xenfab made.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_temp && !is_dir {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

/// Removes a file, accepting that it is gone already.
pub(crate) fn remove_if_present(path: &Path) -> Result<(), OutputError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(io_error("remove", path, err)),
    }
}

/// Makes sure every parent directory of `path` exists below `root`, creating
/// missing ones with mode 0755; the directory each is created in goes into
/// `touched`, and each directory checked into `known` (not checked again). Fails on a parent
/// that is a symlink or not a directory.
pub(crate) fn ensure_parents(
    root: &Path,
    path: &RelPath,
    known: &mut HashSet<RelPath>,
    touched: &mut BTreeSet<PathBuf>,
) -> Result<(), OutputError> {
    for ancestor in path.ancestors() {
        if known.contains(&ancestor) {
            continue;
        }
        let dir = root.join(ancestor.as_str());
        match node(&dir)? {
            Node::Dir => {}
            Node::Missing => {
                create_dir(&dir)?;
                touched.insert(dir.parent().unwrap_or(root).to_owned());
            }
            Node::Symlink => return Err(OutputError::UnsafeParent { path: dir }),
            Node::File { .. } | Node::Other => {
                return Err(OutputError::NotADirectory { path: dir });
            }
        }
        known.insert(ancestor);
    }
    Ok(())
}

/// Creates one directory with mode 0755 (or accepts one created meanwhile).
fn create_dir(dir: &Path) -> Result<(), OutputError> {
    match DirBuilder::new().mode(0o755).create(dir) {
        Ok(()) => fs::set_permissions(dir, Permissions::from_mode(0o755))
            .map_err(|err| io_error("create directory", dir, err)),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => match node(dir)? {
            Node::Dir => Ok(()),
            Node::Symlink => Err(OutputError::UnsafeParent {
                path: dir.to_owned(),
            }),
            _ => Err(OutputError::NotADirectory {
                path: dir.to_owned(),
            }),
        },
        Err(err) => Err(io_error("create directory", dir, err)),
    }
}

/// Creates the root directory (and its parents) with mode 0755 if missing.
pub(crate) fn ensure_root(root: &Path) -> Result<(), OutputError> {
    match fs::metadata(root) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(OutputError::NotADirectory {
            path: root.to_owned(),
        }),
        Err(err) if err.kind() == io::ErrorKind::NotFound => DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(root)
            .map_err(|err| io_error("create directory", root, err)),
        Err(err) => Err(io_error("inspect", root, err)),
    }
}

/// Whether every parent of `path` below `root` is a real directory.
pub(crate) fn parents_are_dirs(root: &Path, path: &RelPath) -> Result<bool, OutputError> {
    for ancestor in path.ancestors() {
        if node(&root.join(ancestor.as_str()))? != Node::Dir {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Removes the owned entry `path` if it is still a file or symlink reached
/// through real directories; anything else is left alone.
pub(crate) fn remove_owned(root: &Path, path: &RelPath) -> Result<(), OutputError> {
    if !parents_are_dirs(root, path)? {
        return Ok(());
    }
    let full = root.join(path.as_str());
    match node(&full)? {
        Node::File { .. } | Node::Symlink => match fs::remove_file(&full) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(io_error("remove", &full, err)),
        },
        Node::Missing | Node::Dir | Node::Other => Ok(()),
    }
}

/// Removes the parent directories of `path` that are empty, innermost
/// first, stopping at the first one that still holds something. Never
/// removes the root. Best effort: any failure just stops the pruning. The
/// directory each is removed from goes into `touched`.
pub(crate) fn prune_parents(root: &Path, path: &RelPath, touched: &mut BTreeSet<PathBuf>) {
    let ancestors: Vec<RelPath> = path.ancestors().collect();
    for ancestor in ancestors.iter().rev() {
        let dir = root.join(ancestor.as_str());
        if node(&dir).ok() != Some(Node::Dir) || fs::remove_dir(&dir).is_err() {
            break;
        }
        touched.insert(dir.parent().unwrap_or(root).to_owned());
    }
}

/// Removes the directory `dir` and the directories in it, which must all be
/// empty of anything else; fails with [`OutputError::NotOwned`] when it finds
/// something that is not a directory.
pub(crate) fn remove_empty_dirs(dir: &Path) -> Result<(), OutputError> {
    match node(dir)? {
        Node::Missing => return Ok(()),
        Node::Dir => {}
        _ => {
            return Err(OutputError::NotOwned {
                path: dir.to_owned(),
            });
        }
    }
    let entries = fs::read_dir(dir).map_err(|err| io_error("read", dir, err))?;
    for entry in entries {
        let entry = entry.map_err(|err| io_error("read", dir, err))?;
        remove_empty_dirs(&entry.path())?;
    }
    fs::remove_dir(dir).map_err(|err| io_error("remove", dir, err))
}

//! Low-level filesystem operations. Nothing here follows a symlink except
//! through the root directory itself.

use std::ffi::OsString;
use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::io::{self, Write as _};
use std::os::unix::ffi::OsStringExt as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use super::path::RelPath;
use super::{OutputError, TEMP_SUFFIX};

/// What a path is on disk, without following a final symlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Node {
    Missing,
    Dir,
    File { mode: u32, len: u64 },
    Symlink,
    Other,
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
                }
            } else {
                Node::Other
            })
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(Node::Missing),
        Err(err) => Err(io_error("inspect", path, err)),
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

/// The temporary name used while writing `target`: `.<name>.xenfab-tmp` in
/// the same directory (the name is shortened if the result would be longer
/// than 255 bytes).
pub(crate) fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let budget = 255 - 1 - TEMP_SUFFIX.len();
    let mut cut = name.len().min(budget);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    target.with_file_name(format!(".{}{TEMP_SUFFIX}", &name[..cut]))
}

/// Removes a leftover temporary file (from an interrupted run).
fn clear_temp(temp: &Path, target: &Path) -> Result<(), OutputError> {
    match fs::remove_file(temp) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(io_error("write", target, err)),
    }
}

/// Writes `contents` to `target` atomically with exactly `mode`: a temporary
/// file in the same directory, synced, then renamed over `target`. The
/// temporary file is removed on failure.
pub(crate) fn write_file_atomic(
    target: &Path,
    contents: &[u8],
    mode: u32,
) -> Result<(), OutputError> {
    let temp = temp_path(target);
    clear_temp(&temp, target)?;
    let result = (|| -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(contents)?;
        file.set_permissions(Permissions::from_mode(mode))?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, target)
    })();
    result.map_err(|err| {
        let _ = fs::remove_file(&temp);
        io_error("write", target, err)
    })
}

/// Creates a symlink at `target` pointing to `link_target`, atomically
/// replacing whatever file or symlink was there.
pub(crate) fn write_symlink_atomic(target: &Path, link_target: &str) -> Result<(), OutputError> {
    let temp = temp_path(target);
    clear_temp(&temp, target)?;
    let result =
        std::os::unix::fs::symlink(link_target, &temp).and_then(|()| fs::rename(&temp, target));
    result.map_err(|err| {
        let _ = fs::remove_file(&temp);
        io_error("write", target, err)
    })
}

/// Makes sure every parent directory of `path` exists below `root`, creating
/// missing ones with mode 0755. Fails on a parent that is a symlink or not a
/// directory.
pub(crate) fn ensure_parents(root: &Path, path: &RelPath) -> Result<(), OutputError> {
    for ancestor in path.ancestors() {
        let dir = root.join(ancestor.as_str());
        match node(&dir)? {
            Node::Dir => {}
            Node::Missing => create_dir(&dir)?,
            Node::Symlink => return Err(OutputError::UnsafeParent { path: dir }),
            Node::File { .. } | Node::Other => {
                return Err(OutputError::NotADirectory { path: dir });
            }
        }
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
/// removes the root. Best effort: any failure just stops the pruning.
pub(crate) fn prune_parents(root: &Path, path: &RelPath) {
    let ancestors: Vec<RelPath> = path.ancestors().collect();
    for ancestor in ancestors.iter().rev() {
        let dir = root.join(ancestor.as_str());
        if node(&dir).ok() != Some(Node::Dir) || fs::remove_dir(&dir).is_err() {
            break;
        }
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

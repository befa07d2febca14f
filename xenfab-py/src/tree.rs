//! The rendered tree as Python values: `File`, `Link`, a tree as a dict, and `WriteResult`,
//! what `Fabric.write` did to the output directory.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use xenfab_core::output::{Entry, Tree};

use crate::util::py_repr;

/// A symbolic link of the rendered tree; ``target`` is relative to the link's directory.
#[pyclass(frozen, eq, hash, module = "xenfab._xenfab")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Link {
    /// The target, relative to the link's own directory.
    #[pyo3(get)]
    target: String,
}

#[pymethods]
impl Link {
    #[new]
    fn new(target: String) -> Link {
        Link { target }
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("Link({})", py_repr(py, &self.target)?))
    }
}

/// A file of the rendered tree with its mode, as :meth:`Fabric.render` and
/// :meth:`Fabric.show` give it with ``files=True``; ``str(file)`` is its contents.
#[pyclass(frozen, eq, hash, get_all, module = "xenfab._xenfab")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct File {
    /// The file's text.
    contents: String,
    /// Its permission bits as written: ``0o755`` for a script, ``0o644`` otherwise.
    mode: u32,
}

#[pymethods]
impl File {
    #[new]
    fn new(contents: String, mode: u32) -> File {
        File { contents, mode }
    }

    fn __str__(&self) -> &str {
        &self.contents
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let shown: String = self.contents.chars().take(40).collect();
        let more = if shown.len() < self.contents.len() {
            "…"
        } else {
            ""
        };
        Ok(format!(
            "File({}{more}, mode=0o{:o})",
            py_repr(py, &shown)?,
            self.mode
        ))
    }
}

/// ``tree`` as :meth:`Fabric.render` gives it: path to contents (a :class:`File` with
/// ``files``) or :class:`Link`, in path order.
pub(crate) fn tree_dict<'py>(
    py: Python<'py>,
    tree: &Tree,
    files: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (path, entry) in tree {
        match entry {
            Entry::File { contents, .. } if !files => dict.set_item(path.as_str(), contents)?,
            Entry::File { contents, .. } => dict.set_item(
                path.as_str(),
                File {
                    contents: contents.clone(),
                    mode: entry.mode().unwrap_or(0o644),
                },
            )?,
            Entry::Symlink { target } => dict.set_item(
                path.as_str(),
                Link {
                    target: target.clone(),
                },
            )?,
        }
    }
    Ok(dict)
}

/// What :meth:`Fabric.write` did (or, with ``dry_run``, would do) to the output directory.
#[pyclass(frozen, get_all, module = "xenfab._xenfab")]
pub(crate) struct WriteResult {
    /// Paths written that were not there.
    pub(crate) created: Vec<String>,
    /// Paths whose contents (or mode, or target) changed.
    pub(crate) changed: Vec<String>,
    /// Paths that were already right and were not touched. Those the write left as they
    /// are (``hosts``, ``no_dhcp``, ``no_tftp``) are in none of the lists.
    pub(crate) unchanged: Vec<String>,
    /// Paths xenfab wrote earlier that the fabric no longer has.
    pub(crate) removed: Vec<String>,
    /// The changes as a unified diff (``""`` when there are none), or ``None`` when it was
    /// not asked for: :meth:`Fabric.write` makes it for a dry run, or with ``diff=True``.
    pub(crate) diff: Option<String>,
    /// The parts of the tree whose entries this write left as they are (``hosts``,
    /// ``no_dhcp``, ``no_tftp``) while the fabric now makes them differently from what
    /// xenfab last wrote there: ``None`` for the site's part (the files that list every
    /// host: DHCP, DNS, ``inventory/hosts.csv``, ...), then the name of each dom0 whose part
    /// (its own files and its guests') is behind, in the fabric's order. A later write
    /// that leaves nothing brings them up to date. Empty when nothing was left behind. With
    /// ``hosts``, a part with none of them is not rendered: it counts when its inputs or its
    /// files on disk changed; in a part rendered, a file edited by hand does not count.
    pub(crate) left_behind: Py<PyTuple>,
}

#[pymethods]
impl WriteResult {
    /// True when anything was (or would be) created, changed or removed.
    #[getter]
    fn changed_anything(&self) -> bool {
        !(self.created.is_empty() && self.changed.is_empty() && self.removed.is_empty())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let behind = match self.left_behind.bind(py).len() {
            0 => String::new(),
            1 => ", 1 part left behind".to_owned(),
            n => format!(", {n} parts left behind"),
        };
        format!(
            "<WriteResult {} created, {} changed, {} unchanged, {} removed{behind}>",
            self.created.len(),
            self.changed.len(),
            self.unchanged.len(),
            self.removed.len()
        )
    }
}

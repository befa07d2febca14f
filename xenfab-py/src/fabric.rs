//! The `Fabric` class: reading a fabric, checking, rendering and writing it, its model,
//! switching boot states, pickling; and `Shared`, the checked fabric that a `Fabric` and
//! every value read from it hold.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use pyo3::exceptions::{PyKeyError, PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType, PyWeakrefMethods, PyWeakrefReference};
use xenfab_core::FabricFile;
use xenfab_core::error_chain as chain;
use xenfab_core::input::text::ReadError;
use xenfab_core::model::HostRef;
use xenfab_core::output::boot::BootStates;
use xenfab_core::output::{LockKind, PlanOptions, SiteStamp, TreeLock, Untouched};
use xenfab_core::render::inventory;
use xenfab_core::{Diagnostics, Error, Format, Loaded, Source};

use crate::errors::{
    Diagnostic, ParseError, RenderError, diagnostics, io_error, other_as_diagnostics, output_error,
    parse_error, py_err, validation_error,
};
use crate::model::{Dom0, Guest, HostState, Profiles};
use crate::tree::{WriteResult, tree_dict};
use crate::util::{shown, some_names, to_python};

/// The host ``name`` (short name or FQDN) of ``fabric``, or a ``KeyError`` naming some of
/// its hosts.
fn find_host<'f>(fabric: &'f xenfab_core::Fabric, name: &str) -> PyResult<HostRef<'f>> {
    fabric.host(name).ok_or_else(|| {
        let names: Vec<&str> = fabric.hosts().map(|h| h.name().as_str()).collect();
        PyKeyError::new_err(format!(
            "no host `{}`; the fabric's hosts: {}",
            shown(name),
            some_names(names.into_iter())
        ))
    })
}

/// The hosts :meth:`Fabric.write` is to write the artefacts of, from its ``hosts``: each
/// name (short name or FQDN) resolved with [`find_host`], as its short name. ``None`` and
/// an empty sequence are every host (no names).
///
/// Raises ``TypeError`` for a ``str`` (it would be taken letter by letter) or anything
/// but a sequence of ``str``, and ``KeyError`` for a name that is no host's.
fn write_hosts(
    fabric: &xenfab_core::Fabric,
    hosts: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<String>> {
    let Some(hosts) = hosts else {
        return Ok(Vec::new());
    };
    if hosts.is_instance_of::<pyo3::types::PyString>() {
        return Err(PyTypeError::new_err(format!(
            "hosts is a sequence of host names, not one str: write hosts=[{}]",
            hosts.repr()?
        )));
    }
    let names: Vec<String> = hosts.extract().map_err(|e: PyErr| {
        PyTypeError::new_err(format!(
            "hosts is a sequence of host names (str): {}",
            e.value(hosts.py())
        ))
    })?;
    names
        .iter()
        .map(|name| find_host(fabric, name).map(|host| host.name().to_string()))
        .collect()
}

/// Applies to `fabric` the boot states `xenfab boot` recorded in the output tree
/// `directory` (as `xenfab render` does), with a `UserWarning` for each recorded state the
/// host cannot be in (it keeps the fabric's), and returns them.
fn apply_recorded(
    py: Python<'_>,
    fabric: &mut xenfab_core::Fabric,
    directory: &std::path::Path,
) -> PyResult<BootStates> {
    let tftp_root = directory.join(xenfab_core::render::netboot::TFTP_DIR);
    let states =
        xenfab_core::output::boot::read_states(&tftp_root).map_err(|e| output_error(&e))?;
    for refused in states.apply(fabric) {
        let message = std::ffi::CString::new(refused.replace('\0', " ")).unwrap_or_default();
        PyErr::warn(
            py,
            &py.get_type::<pyo3::exceptions::PyUserWarning>(),
            &message,
            1,
        )?;
    }
    Ok(states)
}

/// What a :class:`Fabric` and every value read from it share: the checked fabric, and
/// what makes it again (for pickling). It holds no Python object, so that values can
/// keep it without making reference cycles.
pub(crate) struct Shared {
    checked: Result<Loaded, Diagnostics>,
    /// Where it came from, recorded in an output tree's manifest by `write`.
    origin: String,
    remake: Remake,
}

/// How a fabric is read again when it is unpickled.
enum Remake {
    /// From its parsed source: the TOML text when it was TOML (diagnostics keep their
    /// lines), else the fabric file it holds, as JSON.
    Source(Box<Source>),
    /// From the Quattor profiles in the directory, which gave no fabric file.
    Quattor(PathBuf),
}

impl Shared {
    /// The valid fabric; a value of the model only exists for one.
    pub(crate) fn fabric(&self) -> PyResult<&xenfab_core::Fabric> {
        self.checked
            .as_ref()
            .map(|l| &l.fabric)
            .map_err(|_| RenderError::new_err("internal: a value of an invalid fabric"))
    }

    pub(crate) fn dom0(&self, index: usize) -> PyResult<&xenfab_core::model::Dom0> {
        self.fabric()?
            .dom0s
            .get(index)
            .ok_or_else(|| RenderError::new_err("internal: no such dom0"))
    }

    pub(crate) fn guest(&self, dom0: usize, index: usize) -> PyResult<&xenfab_core::model::Guest> {
        self.dom0(dom0)?
            .guests
            .get(index)
            .ok_or_else(|| RenderError::new_err("internal: no such guest"))
    }

    /// `inventory/hosts/<fqdn>.json` of a host, as a JSON value.
    pub(crate) fn host_value(
        &self,
        dom0: usize,
        guest: Option<usize>,
    ) -> PyResult<serde_json::Value> {
        let fabric = self.fabric()?;
        let d = self.dom0(dom0)?;
        let host = match guest {
            Some(g) => HostRef::Guest(d, self.guest(dom0, g)?),
            None => HostRef::Dom0(d),
        };
        inventory::host_value(fabric, host).map_err(|e| RenderError::new_err(chain(&e)))
    }
}

/// How a dom0 or guest pickles: a lookup method of `Fabric`, its fabric and its name.
pub(crate) type ByName<'py> = (Bound<'py, PyAny>, (Bound<'py, PyAny>, String));

/// The :class:`Fabric` object a value was read from, for `__reduce__`: the same object
/// while it lives (so that a pickle holds one fabric, and what is unpickled shares it),
/// else a new one of the same fabric.
pub(crate) fn fabric_object<'py>(
    py: Python<'py>,
    fabric: &Py<PyWeakrefReference>,
    shared: &Arc<Shared>,
) -> PyResult<Bound<'py, PyAny>> {
    match fabric.bind(py).upgrade() {
        Some(fabric) => Ok(fabric),
        None => Ok(Bound::new(py, Fabric::of_shared(Arc::clone(shared)))?.into_any()),
    }
}

/// The names of a fabric's hosts, to look them up.
struct Index {
    dom0s: HashMap<String, usize>,
    guests: HashMap<String, (usize, usize)>,
}

/// A fabric description, read and checked; nothing is rendered until asked.
///
/// Make one with :meth:`from_toml`, :meth:`from_json`, :meth:`from_file`,
/// :meth:`from_dict` or :meth:`from_quattor`. A fabric with errors is still a
/// ``Fabric``: :meth:`validate` lists them, and everything that needs a valid fabric
/// raises ``ValidationError``.
///
/// Frozen; its model (:attr:`dom0s`, :attr:`guests`) is made on first use and kept.
/// Pickled as its source.
#[pyclass(frozen, weakref, module = "xenfab._xenfab")]
pub(crate) struct Fabric {
    shared: Arc<Shared>,
    dom0s: PyOnceLock<Py<PyTuple>>,
    guests: PyOnceLock<Py<PyTuple>>,
    index: OnceLock<Index>,
}

impl Fabric {
    fn of_shared(shared: Arc<Shared>) -> Fabric {
        Fabric {
            shared,
            dom0s: PyOnceLock::new(),
            guests: PyOnceLock::new(),
            index: OnceLock::new(),
        }
    }

    fn of_source(source: Source) -> Fabric {
        let checked = match xenfab_core::check(&source) {
            Ok(loaded) => Ok(loaded),
            Err(Error::Invalid(d)) => Err(d),
            // `check` reports nothing else; keep whatever it says as a diagnostic-free
            // failure rather than dropping it.
            Err(e) => Err(other_as_diagnostics(&e)),
        };
        Fabric::of_shared(Arc::new(Shared {
            checked,
            origin: source.origin().to_owned(),
            remake: Remake::Source(Box::new(source)),
        }))
    }

    fn parse(text: &str, format: Format, origin: &str) -> PyResult<Fabric> {
        let source = Source::parse(text, format, origin).map_err(|e| {
            let location = match &e {
                Error::Parse(p) => Some(&p.location),
                _ => None,
            };
            parse_error(chain(&e), location)
        })?;
        Ok(Fabric::of_source(source))
    }

    fn loaded(&self, py: Python<'_>) -> PyResult<&Loaded> {
        self.shared
            .checked
            .as_ref()
            .map_err(|d| validation_error(py, d))
    }

    fn index(&self, py: Python<'_>) -> PyResult<&Index> {
        let fabric = &self.loaded(py)?.fabric;
        Ok(self.index.get_or_init(|| {
            let mut index = Index {
                dom0s: HashMap::with_capacity(fabric.dom0s.len()),
                guests: HashMap::new(),
            };
            for (i, d) in fabric.dom0s.iter().enumerate() {
                index.dom0s.entry(d.name.to_string()).or_insert(i);
                for (j, g) in d.guests.iter().enumerate() {
                    index.guests.entry(g.name.to_string()).or_insert((i, j));
                }
            }
            index
        }))
    }
}

#[pymethods]
impl Fabric {
    /// Reads a fabric file written in TOML; ``origin`` names it in messages.
    ///
    /// Raises ``ParseError`` for a syntax error, an unknown key or a value of the wrong
    /// type (the message has the file, line and column).
    #[classmethod]
    #[pyo3(signature = (text, origin = "<string>"))]
    fn from_toml(_cls: &Bound<'_, PyType>, text: &str, origin: &str) -> PyResult<Fabric> {
        Fabric::parse(text, Format::Toml, origin)
    }

    /// Reads a fabric file written in JSON, with the same structure as the TOML form.
    ///
    /// Raises ``ParseError`` as :meth:`from_toml` does.
    #[classmethod]
    #[pyo3(signature = (text, origin = "<string>"))]
    fn from_json(_cls: &Bound<'_, PyType>, text: &str, origin: &str) -> PyResult<Fabric> {
        Fabric::parse(text, Format::Json, origin)
    }

    /// Reads the fabric file at ``path``: JSON when it ends in ``.json``, else TOML.
    ///
    /// Raises ``OSError`` when it cannot be read, ``ParseError`` as :meth:`from_toml` does,
    /// and for a file larger than 64 MiB or not UTF-8 (with the line and column of the
    /// first bad byte).
    #[classmethod]
    #[allow(
        clippy::needless_pass_by_value,
        reason = "pyo3 extracts a path argument as an owned `PathBuf`"
    )]
    fn from_file(_cls: &Bound<'_, PyType>, path: PathBuf) -> PyResult<Fabric> {
        let text = xenfab_core::input::text::read_path(&path).map_err(|e| match e {
            ReadError::Io { source, .. } => io_error(&source, &path),
            ReadError::Invalid(e) => parse_error(e.to_string(), Some(&e.location)),
            other => ParseError::new_err(chain(&other)),
        })?;
        let origin = path.display().to_string();
        Fabric::parse(&text, Format::from_file_name(&origin), &origin)
    }

    /// Reads a fabric from a mapping with the structure of the fabric file (such as
    /// ``tomllib.load``'s result, or Ansible variables).
    ///
    /// Raises ``ParseError`` for an unknown key or a value of the wrong type, and
    /// ``TypeError`` when ``data`` is not a mapping.
    #[classmethod]
    #[pyo3(signature = (data, origin = "<dict>"))]
    fn from_dict(
        _cls: &Bound<'_, PyType>,
        data: &Bound<'_, PyAny>,
        origin: &str,
    ) -> PyResult<Fabric> {
        let py = data.py();
        let mapping = py.import("collections.abc")?.getattr("Mapping")?;
        if !data.is_instance(&mapping)? {
            return Err(PyTypeError::new_err(format!(
                "a fabric is a mapping, not {}",
                data.get_type().name()?
            )));
        }
        // Depythonized from a dict, as `dict(data)` gives, with the path of a bad field.
        let dict = py.get_type::<PyDict>().call1((data,))?;
        // Through a JSON value: serde_json's messages are those of `from_json` (`invalid
        // type: string "x", expected u32`), where pythonize's would be Python's.
        let mut de = pythonize::Depythonizer::from_object(&dict);
        let file = serde_path_to_error::deserialize::<_, serde_json::Value>(&mut de)
            .map_err(|e| (e.path().to_string(), e.into_inner().to_string()))
            .and_then(|value| {
                serde_path_to_error::deserialize::<_, FabricFile>(value)
                    .map_err(|e| (e.path().to_string(), e.into_inner().to_string()))
            });
        let file = file.map_err(|(path, error)| {
            let path = (path != ".").then_some(path);
            let place = path
                .as_deref()
                .map(|p| format!("{p}: "))
                .unwrap_or_default();
            // "did you mean", as for a file (xenfab_core::input::suggest)
            let error = error.replace('\n', " ");
            let error = xenfab_core::input::suggest::did_you_mean(&error);
            let text = format!("{origin}: {place}{error}");
            let message = xenfab_core::escape_controls(&text).into_owned();
            ParseError::new_err((message, None::<u32>, None::<u32>, path))
        })?;
        Ok(Fabric::of_source(Source::from_file(file, origin)))
    }

    /// Reads a Quattor site's compiled profiles (pan XML or JSON, gzip'd or not) in
    /// ``directory`` as one fabric.
    ///
    /// Raises ``OSError`` when the directory cannot be read, ``ParseError`` for a profile
    /// that is not well-formed. Profiles that lack what xenfab needs are diagnostics.
    #[classmethod]
    #[allow(
        clippy::needless_pass_by_value,
        reason = "pyo3 extracts a path argument as an owned `PathBuf`"
    )]
    fn from_quattor(cls: &Bound<'_, PyType>, directory: PathBuf) -> PyResult<Fabric> {
        std::fs::read_dir(&directory).map_err(|e| io_error(&e, &directory))?;
        match xenfab_core::input::quattor::fabric_file_of_dir(&directory) {
            Ok(file) => Ok(Fabric::of_source(Source::from_file(
                file,
                &directory.display().to_string(),
            ))),
            Err(Error::Invalid(d)) => Ok(Fabric::of_shared(Arc::new(Shared {
                checked: Err(d),
                origin: directory.display().to_string(),
                remake: Remake::Quattor(directory),
            }))),
            Err(Error::Parse(e)) => Err(parse_error(chain(&e), Some(&e.location))),
            Err(e) => Err(py_err(cls.py(), e)),
        }
    }

    /// Every diagnostic, errors and warnings, in file order; an empty list for a clean
    /// fabric. Never raises for an invalid fabric.
    fn validate(&self, py: Python<'_>) -> PyResult<Vec<Py<Diagnostic>>> {
        match &self.shared.checked {
            Ok(loaded) => diagnostics(py, &loaded.warnings),
            Err(d) => diagnostics(py, d),
        }
    }

    /// Every artefact: a dict of relative path to file contents, or to a :class:`Link`
    /// for a symbolic link, in path order. With ``files=True`` each file is a
    /// :class:`File`, which has its mode too (``0o755`` for the scripts).
    ///
    /// The rendering runs without the GIL: other Python threads go on meanwhile.
    ///
    /// Raises ``ValidationError`` when the fabric has errors, ``RenderError`` when an
    /// artefact cannot be made.
    #[pyo3(signature = (*, files = false))]
    fn render<'py>(&self, py: Python<'py>, files: bool) -> PyResult<Bound<'py, PyDict>> {
        let loaded = self.loaded(py)?;
        let tree = py
            .detach(|| xenfab_core::render(&loaded.fabric))
            .map_err(|e| py_err(py, Error::from(e)))?;
        tree_dict(py, &tree, files)
    }

    /// The artefacts of one host (its short name or FQDN), as ``xenfab show HOST`` lists
    /// them, in :meth:`render`'s form: a dom0's own files and everything in its
    /// ``dom0s/<fqdn>/`` (its guests' configs among them), or a guest's own files and
    /// configs; the site's files (DHCP, DNS, ``inventory/hosts.csv``) list every host and
    /// are no host's. Each is exactly what :meth:`render` gives at that path.
    ///
    /// Raises ``KeyError`` when the fabric has no such host, and what :meth:`render`
    /// raises.
    #[pyo3(signature = (host, *, files = false))]
    fn show<'py>(&self, py: Python<'py>, host: &str, files: bool) -> PyResult<Bound<'py, PyDict>> {
        let fabric = &self.loaded(py)?.fabric;
        let found = find_host(fabric, host)?;
        let tree = py
            .detach(|| xenfab_core::render::owners::Owners::new(fabric).render(found))
            .map_err(|e| py_err(py, Error::from(e)))?;
        tree_dict(py, &tree, files)
    }

    /// Writes every artefact into ``directory``, only what changed, as ``xenfab render``
    /// does: hosts switched with ``xenfab boot`` keep the boot state recorded there, files
    /// xenfab did not write are never touched, and the site is recorded in the directory's
    /// manifest. With ``dry_run``, nothing is written.
    ///
    /// The result's ``diff`` is the unified diff of the changes when ``diff`` is true, and
    /// ``None`` when it is false; by default (``diff=None``) it is made for a dry run only,
    /// since the diff of a large tree costs as much as the writing.
    ///
    /// The directory is locked while it is read and written (``.xenfab-lock``, as the
    /// command does): a call waits for another xenfab run into the same directory. The
    /// waiting, planning and writing run without the GIL: other Python threads go on
    /// meanwhile.
    ///
    /// Raises ``ValidationError`` when the fabric has errors (nothing is written),
    /// ``OSError`` when the directory cannot be planned or written, or when it holds
    /// another site's artefacts or more than half of what xenfab wrote there would be
    /// removed, unless ``force`` (nothing is written).
    ///
    /// ``no_dhcp`` and ``no_tftp`` leave ``dhcp/`` and ``tftpboot/`` as they are, as
    /// ``xenfab render --no-dhcp --no-tftp`` does, for a site whose own tools write them
    /// (Quattor's aii-dhcp and aii-pxelinux): nothing below them is written, changed or
    /// removed, and a later write without them brings them up to date.
    ///
    /// ``hosts``, a sequence of host names (dom0s or guests, short name or FQDN), writes
    /// the artefacts of those hosts alone, the ones :meth:`show` lists: a dom0's own files
    /// and its ``dom0s/<fqdn>/`` (its guests' configs among them), a guest's own files and
    /// configs. Every other entry is left as it is, as ``no_dhcp`` leaves ``dhcp/``: the
    /// site's files that list every host (DHCP, DNS, ``inventory/hosts.csv``), the other
    /// hosts' files, and those of hosts the fabric no longer has are neither written,
    /// changed nor removed. The result's ``left_behind`` names the parts whose entries it
    /// left are now out of date, and a later write without ``hosts`` brings them up to date.
    /// ``None`` or an empty sequence writes every entry. A ``str`` is refused with
    /// ``TypeError`` (write ``hosts=["ullr"]``), and a name that is no host's raises
    /// ``KeyError`` before the directory is locked or anything is written.
    #[pyo3(signature = (
        directory, dry_run = false, force = false, diff = None, *, no_dhcp = false,
        no_tftp = false, hosts = None
    ))]
    #[allow(
        clippy::needless_pass_by_value,
        reason = "pyo3 extracts a path argument as an owned `PathBuf`"
    )]
    #[allow(
        clippy::too_many_arguments,
        clippy::fn_params_excessive_bools,
        reason = "a Python method's keyword arguments"
    )]
    fn write(
        &self,
        py: Python<'_>,
        directory: PathBuf,
        dry_run: bool,
        force: bool,
        diff: Option<bool>,
        no_dhcp: bool,
        no_tftp: bool,
        hosts: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<WriteResult> {
        let want_diff = diff.unwrap_or(dry_run);
        let loaded = self.loaded(py)?;
        let hosts = write_hosts(&loaded.fabric, hosts)?;
        let mut fabric = loaded.fabric.clone();
        let site = SiteStamp::of(&fabric, &self.shared.origin);
        let kind = if dry_run {
            LockKind::Shared
        } else {
            LockKind::Exclusive
        };
        // Waiting for another run releases the GIL, so that other threads go on.
        let lock = py
            .detach(|| TreeLock::acquire(&directory, kind, |_| true))
            .map_err(|e| output_error(&e))?;
        apply_recorded(py, &mut fabric, &directory)?;
        let options = PlanOptions {
            site: Some(site),
            force,
            untouched: Untouched::chosen(no_dhcp, no_tftp),
            hosts,
        };
        // Planning and writing release the GIL too.
        let done = py.detach(|| {
            let plan = xenfab_core::output::plan_fabric(&directory, &fabric, &options)?;
            let diff = want_diff.then(|| plan.diff());
            let left_behind: Vec<Option<String>> = plan
                .left_behind()
                .into_iter()
                .map(|part| part.map(str::to_owned))
                .collect();
            let summary = if dry_run {
                plan.summary()
            } else {
                plan.apply()?
            };
            Ok::<_, Error>((summary, diff, left_behind))
        });
        drop(lock);
        let (summary, diff, left_behind) = done.map_err(|e| match e {
            Error::Output(e) => output_error(&e),
            e => py_err(py, e),
        })?;
        let strings = |paths: Vec<xenfab_core::output::RelPath>| {
            paths.into_iter().map(|p| p.to_string()).collect()
        };
        Ok(WriteResult {
            created: strings(summary.created),
            changed: strings(summary.changed),
            unchanged: strings(summary.unchanged),
            removed: strings(summary.removed),
            diff,
            left_behind: PyTuple::new(py, left_behind)?.unbind(),
        })
    }

    /// The dom0s and their guests, with every default filled in and every MAC derived: a
    /// tuple of :class:`Dom0`, made on first use and kept.
    ///
    /// Raises ``ValidationError`` when the fabric has errors.
    #[getter]
    fn dom0s(slf: &Bound<'_, Self>) -> PyResult<Py<PyTuple>> {
        let py = slf.py();
        let this = slf.get();
        let fabric = &this.loaded(py)?.fabric;
        let dom0s = this.dom0s.get_or_try_init(py, || {
            let fabric_ref = PyWeakrefReference::new(slf.as_any())?.unbind();
            let profiles = Profiles::new(py, fabric)?;
            let dom0s = (0..fabric.dom0s.len())
                .map(|i| Py::new(py, Dom0::new(py, &this.shared, &fabric_ref, &profiles, i)?))
                .collect::<PyResult<Vec<_>>>()?;
            Ok::<_, PyErr>(PyTuple::new(py, dom0s)?.unbind())
        })?;
        Ok(dom0s.clone_ref(py))
    }

    /// Every guest, dom0 by dom0: a tuple of the :class:`Guest` objects of :attr:`dom0s`.
    ///
    /// Raises ``ValidationError`` when the fabric has errors.
    #[getter]
    fn guests(slf: &Bound<'_, Self>) -> PyResult<Py<PyTuple>> {
        let py = slf.py();
        let dom0s = Fabric::dom0s(slf)?;
        let guests = slf.get().guests.get_or_try_init(py, || {
            let mut guests = Vec::new();
            for d in dom0s.bind(py).iter() {
                guests.extend(d.cast::<Dom0>()?.get().guests.bind(py).iter());
            }
            Ok::<_, PyErr>(PyTuple::new(py, guests)?.unbind())
        })?;
        Ok(guests.clone_ref(py))
    }

    /// The dom0 ``name`` (its host name, not its FQDN).
    ///
    /// Raises ``KeyError`` when there is none (the message lists some of the fabric's
    /// dom0s, or says that ``name`` is a guest), ``ValidationError`` when the fabric has
    /// errors.
    fn dom0<'py>(slf: &Bound<'py, Self>, name: &str) -> PyResult<Bound<'py, Dom0>> {
        let py = slf.py();
        let this = slf.get();
        let index = this.index(py)?;
        if let Some(&i) = index.dom0s.get(name) {
            return Ok(Fabric::dom0s(slf)?
                .into_bound(py)
                .get_item(i)?
                .cast_into::<Dom0>()?);
        }
        let fabric = &this.loaded(py)?.fabric;
        let message = match index.guests.get(name) {
            Some(&(d, _)) => format!(
                "no dom0 `{}`: it is a guest of `{}`",
                shown(name),
                fabric.dom0s[d].name
            ),
            None if fabric.dom0s.is_empty() => {
                format!("no dom0 `{}`: the fabric has none", shown(name))
            }
            None => format!(
                "no dom0 `{}`; the fabric's dom0s: {}",
                shown(name),
                some_names(fabric.dom0s.iter().map(|d| d.name.as_str()))
            ),
        };
        Err(PyKeyError::new_err(message))
    }

    /// The guest ``name`` (its host name, not its FQDN), on whichever dom0.
    ///
    /// Raises ``KeyError`` when there is none (the message lists some of the fabric's
    /// guests, or says that ``name`` is a dom0), ``ValidationError`` when the fabric has
    /// errors.
    fn guest<'py>(slf: &Bound<'py, Self>, name: &str) -> PyResult<Bound<'py, Guest>> {
        let py = slf.py();
        let this = slf.get();
        let index = this.index(py)?;
        if let Some(&(d, g)) = index.guests.get(name) {
            let dom0 = Fabric::dom0s(slf)?
                .into_bound(py)
                .get_item(d)?
                .cast_into::<Dom0>()?;
            return Ok(dom0
                .get()
                .guests
                .bind(py)
                .get_item(g)?
                .cast_into::<Guest>()?);
        }
        let fabric = &this.loaded(py)?.fabric;
        let guests: Vec<&str> = fabric
            .dom0s
            .iter()
            .flat_map(|d| &d.guests)
            .map(|g| g.name.as_str())
            .collect();
        let message = if index.dom0s.contains_key(name) {
            format!("no guest `{}`: it is a dom0", shown(name))
        } else if guests.is_empty() {
            format!("no guest `{}`: the fabric has none", shown(name))
        } else {
            format!(
                "no guest `{}`; the fabric's guests: {}",
                shown(name),
                some_names(guests.into_iter())
            )
        };
        Err(PyKeyError::new_err(message))
    }

    /// The host ``name``, a :class:`Dom0` or a :class:`Guest`, by its host name or its FQDN
    /// in either case, as ``xenfab boot`` and :meth:`write`'s ``hosts`` find hosts.
    ///
    /// Raises ``KeyError`` when the fabric has no such host (the message lists some of its
    /// hosts), ``ValidationError`` when the fabric has errors.
    fn host<'py>(slf: &Bound<'py, Self>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let (short, is_dom0) = {
            let host = find_host(&slf.get().loaded(py)?.fabric, name)?;
            (
                host.name().as_str().to_owned(),
                matches!(host, HostRef::Dom0(_)),
            )
        };
        if is_dom0 {
            Ok(Fabric::dom0(slf, &short)?.into_any())
        } else {
            Ok(Fabric::guest(slf, &short)?.into_any())
        }
    }

    /// The whole model as plain, JSON-able values: what the inventory files are cut from,
    /// every default applied and every MAC derived, sizes in MiB (not the fabric file's
    /// shape: for that, keep what you read it from).
    ///
    /// Raises ``ValidationError`` when the fabric has errors.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.loaded(py)?.fabric)
    }

    /// The capacity of every dom0, as ``xenfab report --json`` prints it: a list of
    /// ``{"dom0": fqdn, "capacity": {...}}``, sizes in MiB.
    ///
    /// Raises ``ValidationError`` when the fabric has errors.
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let text = inventory::capacity_json(&self.loaded(py)?.fabric)
            .map_err(|e| RenderError::new_err(chain(&e)))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| RenderError::new_err(e.to_string()))?;
        to_python(py, &value)
    }

    /// Every host's boot state in the output tree ``directory``, as ``xenfab status``
    /// lists them: the state ``xenfab boot`` recorded there, else the fabric's; a list of
    /// :class:`HostState`, each dom0 followed by its guests.
    ///
    /// The recorded states are read under the directory's shared lock, as
    /// :meth:`write` (with ``dry_run``) reads them. A recorded state the host cannot be in
    /// is not used, with a ``UserWarning`` (as :meth:`write` warns).
    ///
    /// Raises ``ValidationError`` when the fabric has errors, ``OSError`` when the
    /// recorded states cannot be read.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "pyo3 extracts a path argument as an owned `PathBuf`"
    )]
    fn boot_states(&self, py: Python<'_>, directory: PathBuf) -> PyResult<Vec<HostState>> {
        let mut fabric = self.loaded(py)?.fabric.clone();
        let lock = py
            .detach(|| TreeLock::acquire(&directory, LockKind::Shared, |_| true))
            .map_err(|e| output_error(&e))?;
        let states = apply_recorded(py, &mut fabric, &directory);
        drop(lock);
        let states = states?;
        Ok(fabric
            .hosts()
            .map(|host| {
                let status = states.status(&fabric, host);
                HostState {
                    host: status.host,
                    dom0: status.dom0,
                    state: status.state.as_str(),
                    recorded: status.recorded,
                }
            })
            .collect())
    }

    /// Switches what network boot gives ``host`` (its short name or FQDN) next, in the
    /// output tree ``directory``, as ``xenfab boot HOST STATE -o DIRECTORY`` does: its
    /// pxelinux, GRUB2 and iPXE links are replaced atomically and the state is recorded,
    /// so that the next :meth:`write` keeps it. Returns the host's new
    /// :class:`HostState`.
    ///
    /// ``install`` of a dom0 with guests is refused (its kickstart wipes their volumes)
    /// unless ``wipe_guests=True``; use ``reinstall``. With ``dry_run=True`` every check
    /// is made and nothing is written: the :class:`HostState` returned has the state the host
    /// would get, and ``recorded`` false, since nothing was recorded. The directory's lock is
    /// held while it is switched.
    ///
    /// Raises ``KeyError`` when the fabric has no such host, ``ValueError`` when the host
    /// cannot be in ``state`` or does not boot from the network, ``ValidationError`` when
    /// the fabric has errors, ``OSError`` when the tree cannot be switched (not rendered
    /// yet, a file xenfab did not write where a link goes).
    #[pyo3(signature = (host, state, directory, *, wipe_guests = false, dry_run = false))]
    #[allow(
        clippy::needless_pass_by_value,
        reason = "pyo3 extracts a path argument as an owned `PathBuf`"
    )]
    fn boot(
        &self,
        py: Python<'_>,
        host: &str,
        state: &str,
        directory: PathBuf,
        wipe_guests: bool,
        dry_run: bool,
    ) -> PyResult<HostState> {
        use xenfab_core::model::BootState;
        use xenfab_core::render::netboot::{BootRefusal, switch_plan};
        let fabric = &self.loaded(py)?.fabric;
        let Some(state) = BootState::ALL.into_iter().find(|s| s.as_str() == state) else {
            let names: Vec<&str> = BootState::ALL.iter().map(|s| s.as_str()).collect();
            return Err(PyValueError::new_err(format!(
                "no boot state `{}`: one of {}",
                shown(state),
                names.join(", ")
            )));
        };
        let found = find_host(fabric, host)?;
        let fqdn = fabric.fqdn(found.name());
        let links = switch_plan(fabric, found, state, wipe_guests)
            .map_err(|refusal| {
                PyValueError::new_err(match refusal {
                    BootRefusal::State(why) => {
                        format!("`{fqdn}` cannot be in state `{}`: {why}", state.as_str())
                    }
                    BootRefusal::WipesGuests {
                        guests,
                        reinstall_keeps,
                    } => format!(
                        "installing dom0 `{fqdn}` wipes its disks and the volumes of its \
                         {guests} guest{}: {}, or pass wipe_guests=True",
                        if guests == 1 { "" } else { "s" },
                        if reinstall_keeps {
                            "use `reinstall` to keep them"
                        } else {
                            "it has no reinstall that keeps them: move them off first"
                        },
                    ),
                    BootRefusal::NotNetworkBooted => {
                        format!("`{fqdn}` does not boot from the network")
                    }
                })
            })?
            .links;
        if !directory.is_dir() {
            return Err(PyOSError::new_err(format!(
                "`{}` is not a directory: render the tree first",
                directory.display()
            )));
        }
        if !dry_run {
            let root = directory.join(xenfab_core::render::netboot::TFTP_DIR);
            py.detach(|| {
                let _lock = TreeLock::acquire(&directory, LockKind::Exclusive, |_| true)?;
                xenfab_core::output::boot::switch(&root, &fqdn, state, &links)
            })
            .map_err(|e| output_error(&e))?;
        }
        Ok(HostState {
            dom0: match found {
                HostRef::Dom0(_) => None,
                HostRef::Guest(d, _) => Some(fabric.fqdn(&d.name)),
            },
            state: state.as_str(),
            recorded: !dry_run,
            host: fqdn,
        })
    }

    /// Pickled as its source: ``Fabric.from_toml`` of its TOML text, ``Fabric.from_json``
    /// of the fabric file it read otherwise (from JSON, a dict or Quattor profiles), or
    /// ``Fabric.from_quattor`` of the directory whose profiles gave no fabric file.
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let cls = py.get_type::<Fabric>();
        let origin = &self.shared.origin;
        Ok(match &self.shared.remake {
            Remake::Source(source) => {
                if let Some((format, text)) = source.text() {
                    let from = match format {
                        xenfab_core::Format::Toml => "from_toml",
                        xenfab_core::Format::Json => "from_json",
                    };
                    (cls.getattr(from)?, (text, origin).into_pyobject(py)?)
                } else {
                    let json = serde_json::to_string(source.file())
                        .map_err(|e| RenderError::new_err(e.to_string()))?;
                    (cls.getattr("from_json")?, (json, origin).into_pyobject(py)?)
                }
            }
            Remake::Quattor(directory) => (
                cls.getattr("from_quattor")?,
                (directory,).into_pyobject(py)?,
            ),
        })
    }

    /// The site's DNS domain.
    ///
    /// Raises ``ValidationError`` when the fabric has errors.
    #[getter]
    fn domain(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.loaded(py)?.fabric.site.domain.to_string())
    }

    fn __repr__(&self) -> String {
        match &self.shared.checked {
            Ok(loaded) => format!(
                "<Fabric {} ({} dom0s)>",
                loaded.fabric.site.domain,
                loaded.fabric.dom0s.len()
            ),
            Err(d) => format!("<Fabric with {} error(s)>", d.error_count()),
        }
    }
}

//! The native part of the `xenfab` Python package, `xenfab._xenfab`: thin, mechanical
//! wrappers around `xenfab-core`, re-exported by `python/xenfab/__init__.py`.
//!
//! The doc comments of the `#[pyfunction]`s and `#[pyclass]`es are their Python docstrings, so
//! they are written for Python readers; `python/xenfab/_xenfab.pyi` gives their types. The
//! exceptions are defined in Python (`python/xenfab/_exceptions.py`: `ParseError` and
//! `ValidationError` are both a `XenfabError` and a `ValueError`, which a pyo3 exception type
//! cannot be) and raised from here.

use pyo3::prelude::*;

/// mimalloc for the module's own allocations (Python keeps its allocator), as in the
/// xenfab command: the render of a large site is allocation-bound.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Native helpers of xenfab, which renders Xen provisioning configs from one fabric description.
#[pymodule]
mod _xenfab {
    use std::collections::HashMap;
    use std::net::Ipv4Addr;
    use std::path::PathBuf;
    use std::sync::{Arc, OnceLock};

    use pyo3::exceptions::{PyKeyError, PyOSError, PyTypeError, PyValueError};
    use pyo3::prelude::*;
    use pyo3::sync::PyOnceLock;
    use pyo3::types::{PyDict, PyTuple, PyType, PyWeakrefMethods, PyWeakrefReference};
    use xenfab_core::FabricFile;
    use xenfab_core::input::text::ReadError;
    use xenfab_core::model::{HostRef, MacSource};
    use xenfab_core::output::boot::BootStates;
    use xenfab_core::output::{Entry, LockKind, PlanOptions, SiteStamp, Tree, TreeLock, Untouched};
    use xenfab_core::render::inventory;
    use xenfab_core::render::kickstart::reinstall;
    use xenfab_core::{Diagnostics, Error, Format, Loaded, Location, MacAddr, MacScheme, Source};

    pyo3::import_exception!(xenfab._exceptions, ParseError);
    pyo3::import_exception!(xenfab._exceptions, ValidationError);
    pyo3::import_exception!(xenfab._exceptions, RenderError);

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }

    /// The text of user input shown in an error message: at most 40 characters, escaped.
    fn shown(s: &str) -> String {
        s.chars()
            .take(40)
            .collect::<String>()
            .escape_debug()
            .collect()
    }

    use xenfab_core::error_chain as chain;

    /// Python's `repr` of a string.
    fn py_repr(py: Python<'_>, s: &str) -> PyResult<String> {
        Ok(pyo3::types::PyString::new(py, s).repr()?.to_string())
    }

    fn parse_ip(ip: &str) -> PyResult<Ipv4Addr> {
        ip.parse().map_err(|_| {
            PyValueError::new_err(format!(
                "invalid IPv4 address `{}`: expected four decimal octets such as 192.168.1.2",
                shown(ip)
            ))
        })
    }

    /// `ParseError(message, line, column)`, with the line and column of `location` (`None`
    /// for either that it lacks, or for both without a location).
    fn parse_error(message: String, location: Option<&Location>) -> PyErr {
        let (line, column) = location.map_or((None, None), |l| (l.line, l.column));
        ParseError::new_err((message, line, column))
    }

    /// The Python exception of a core error.
    fn py_err(py: Python<'_>, e: Error) -> PyErr {
        match e {
            Error::Parse(e) => parse_error(e.to_string(), Some(&e.location)),
            Error::Invalid(d) => validation_error(py, &d),
            Error::Render(e) => RenderError::new_err(chain(&e)),
            Error::Output(e) => output_error(&e),
            other => RenderError::new_err(chain(&other)),
        }
    }

    /// `ValidationError(message, diagnostics)`: a summary line, then every diagnostic.
    fn validation_error(py: Python<'_>, d: &Diagnostics) -> PyErr {
        let message = format!(
            "{} error(s), {} warning(s)\n{}",
            d.error_count(),
            d.warning_count(),
            d.to_string().trim_end()
        );
        match diagnostics(py, d) {
            Ok(list) => ValidationError::new_err((message, list)),
            Err(e) => e,
        }
    }

    /// An `OSError` of the subclass that the underlying I/O error calls for (such as
    /// `PermissionError`), with the whole chain as its message.
    fn output_error(e: &xenfab_core::output::OutputError) -> PyErr {
        use xenfab_core::output::OutputError;
        if matches!(
            e,
            OutputError::OtherSite { .. } | OutputError::MassRemoval { .. }
        ) {
            return PyOSError::new_err(format!(
                "{}: nothing written; pass force=True to write anyway",
                chain(e)
            ));
        }
        let mut source: Option<&dyn std::error::Error> = Some(e);
        while let Some(s) = source {
            if let Some(code) = s
                .downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::raw_os_error)
            {
                // `OSError(errno, message)` is the subclass for `errno`.
                return PyOSError::new_err((code, chain(e)));
            }
            source = s.source();
        }
        PyOSError::new_err(chain(e))
    }

    /// `OSError(errno, strerror, filename)`, which Python makes the subclass for `errno`
    /// (such as `FileNotFoundError`).
    fn io_error(e: &std::io::Error, path: &std::path::Path) -> PyErr {
        let text = e.to_string();
        let strerror = text.split(" (os error ").next().unwrap_or(&text).to_owned();
        match e.raw_os_error() {
            Some(code) => PyOSError::new_err((code, strerror, path.display().to_string())),
            None => PyOSError::new_err(format!("{}: {strerror}", path.display())),
        }
    }

    fn diagnostics(py: Python<'_>, d: &Diagnostics) -> PyResult<Vec<Py<Diagnostic>>> {
        d.iter().map(|d| Py::new(py, Diagnostic::from(d))).collect()
    }

    /// The MAC address that ``scheme`` derives from the IPv4 address ``ip``.
    ///
    /// ``"xen-last3"`` (the default) is Xen's OUI and the last three octets of the address
    /// (``192.168.1.2`` -> ``00:16:3e:a8:01:02``); ``"local-ipv4"`` is ``02:00`` and all four
    /// (``02:00:c0:a8:01:02``).
    ///
    /// Raises ``ValueError`` for an invalid address, an unknown scheme, or ``"explicit"``,
    /// which derives nothing.
    #[pyfunction]
    #[pyo3(signature = (ip, scheme = "xen-last3"))]
    fn derive_mac(ip: &str, scheme: &str) -> PyResult<String> {
        let parsed: MacScheme = scheme.parse().map_err(PyValueError::new_err)?;
        let ip = parse_ip(ip)?;
        parsed.derive(ip).map(|mac| mac.to_string()).ok_or_else(|| {
            PyValueError::new_err(format!(
                "the `{parsed}` MAC scheme derives no address: every guest gives its own MAC"
            ))
        })
    }

    /// The IPv4 address ``ip`` as eight upper-case hex digits (``192.168.1.2`` ->
    /// ``C0A80102``): the name pxelinux and GRUB2 look a client's configuration up by.
    ///
    /// Raises ``ValueError`` for an invalid address.
    #[pyfunction]
    fn hex_ip(ip: &str) -> PyResult<String> {
        Ok(xenfab_core::hex_ip(parse_ip(ip)?))
    }

    /// The file name pxelinux looks the MAC address ``mac`` up by
    /// (``00:16:3e:a8:01:02`` -> ``01-00-16-3e-a8-01-02``).
    ///
    /// ``mac`` is six hex octets separated by ``:`` or ``-``, in either case. Raises
    /// ``ValueError`` for anything else.
    #[pyfunction]
    fn pxelinux_name(mac: &str) -> PyResult<String> {
        let mac = mac
            .parse::<MacAddr>()
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(mac.pxelinux_name())
    }

    /// The built-in example fabric, as TOML text: a complete, valid site to start from.
    #[pyfunction]
    fn example() -> &'static str {
        xenfab_core::EXAMPLE
    }

    /// The reinstall variant of the dom0 kickstart file ``text``: the dom0's own system is
    /// reformatted, the volume groups in ``keep_vgs`` (by default every volume group that no
    /// ``logvol`` of the file uses: the guests') are kept.
    ///
    /// Raises ``ParseError`` for a file it cannot make safe; the message and its ``line``
    /// name the line.
    #[pyfunction]
    #[pyo3(signature = (text, keep_vgs = None))]
    fn ks_reinstall(text: &str, keep_vgs: Option<Vec<String>>) -> PyResult<String> {
        let options = reinstall::Options {
            keep_vgs: keep_vgs.unwrap_or_default(),
            ..reinstall::Options::default()
        };
        reinstall::reinstall(text, &options)
            .map(|c| c.text)
            .map_err(|e| {
                // The line of `Output` is one of the converted text, not of `text`.
                let line = match e {
                    reinstall::ReinstallError::Output { .. } => None,
                    _ => e.line(),
                };
                ParseError::new_err((e.to_string(), line, None::<u32>))
            })
    }

    /// One problem with a fabric: an error (nothing renders) or a warning.
    #[pyclass(frozen, eq, hash, module = "xenfab._xenfab")]
    #[derive(Clone, PartialEq, Eq, Hash)]
    struct Diagnostic {
        /// ``"error"`` stops rendering; ``"warning"`` does not.
        #[pyo3(get)]
        severity: &'static str,
        /// The stable, kebab-case name of the rule, such as ``"ip-outside-network"``.
        #[pyo3(get)]
        code: String,
        /// The field it is about, such as ``"dom0s[xen01].guests[ullr].ip"``; ``""`` for the
        /// whole fabric.
        #[pyo3(get)]
        path: String,
        /// What is wrong, in lower case.
        #[pyo3(get)]
        message: String,
        /// The file, as it was named, or ``None`` where the field was not located.
        #[pyo3(get)]
        file: Option<String>,
        /// The line, counted from 1, or ``None`` where unknown.
        #[pyo3(get)]
        line: Option<u32>,
        /// The column in characters, counted from 1, or ``None`` where unknown.
        #[pyo3(get)]
        column: Option<u32>,
        text: String,
    }

    impl From<&xenfab_core::Diagnostic> for Diagnostic {
        fn from(d: &xenfab_core::Diagnostic) -> Diagnostic {
            let location = d.location.as_ref();
            Diagnostic {
                severity: match d.severity {
                    xenfab_core::Severity::Error => "error",
                    xenfab_core::Severity::Warning => "warning",
                },
                code: d.code.to_owned(),
                path: d.path.to_string(),
                message: d.message.clone(),
                file: location.map(|l| l.file.to_string()),
                line: location.and_then(|l| l.line),
                column: location.and_then(|l| l.column),
                text: d.to_string(),
            }
        }
    }

    #[pymethods]
    impl Diagnostic {
        /// The diagnostic on one line, as ``xenfab validate`` prints it.
        fn __str__(&self) -> &str {
            &self.text
        }

        fn __repr__(&self) -> String {
            format!("<Diagnostic {}>", self.text)
        }

        /// Pickled as its fields, and its line as it was printed.
        #[allow(
            clippy::type_complexity,
            reason = "the arguments of `_unpickle`, as Python's pickle takes them"
        )]
        fn __reduce__<'py>(
            slf: &Bound<'py, Self>,
        ) -> PyResult<(
            Bound<'py, PyAny>,
            (
                &'static str,
                String,
                String,
                String,
                Option<String>,
                Option<u32>,
                Option<u32>,
                String,
            ),
        )> {
            let d = slf.get();
            Ok((
                slf.get_type().getattr("_unpickle")?,
                (
                    d.severity,
                    d.code.clone(),
                    d.path.clone(),
                    d.message.clone(),
                    d.file.clone(),
                    d.line,
                    d.column,
                    d.text.clone(),
                ),
            ))
        }

        /// The diagnostic `__reduce__` pickled.
        #[staticmethod]
        #[allow(clippy::too_many_arguments, reason = "the fields of a diagnostic")]
        fn _unpickle(
            severity: &str,
            code: String,
            path: String,
            message: String,
            file: Option<String>,
            line: Option<u32>,
            column: Option<u32>,
            text: String,
        ) -> PyResult<Diagnostic> {
            let severity = match severity {
                "error" => "error",
                "warning" => "warning",
                other => {
                    return Err(PyValueError::new_err(format!(
                        "unknown severity `{}`",
                        shown(other)
                    )));
                }
            };
            Ok(Diagnostic {
                severity,
                code,
                path,
                message,
                file,
                line,
                column,
                text,
            })
        }
    }

    /// A symbolic link of the rendered tree; ``target`` is relative to the link's directory.
    #[pyclass(frozen, eq, hash, module = "xenfab._xenfab")]
    #[derive(Clone, PartialEq, Eq, Hash)]
    struct Link {
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
    struct File {
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

    /// ``tree`` as :meth:`Fabric.render` gives it: path to contents (a :class:`File` with
    /// ``files``) or :class:`Link`, in path order.
    fn tree_dict<'py>(py: Python<'py>, tree: &Tree, files: bool) -> PyResult<Bound<'py, PyDict>> {
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
    struct WriteResult {
        /// Paths written that were not there.
        created: Vec<String>,
        /// Paths whose contents (or mode, or target) changed.
        changed: Vec<String>,
        /// Paths that were already right and were not touched. Those the write left as they
        /// are (``hosts``, ``no_dhcp``, ``no_tftp``) are in none of the lists.
        unchanged: Vec<String>,
        /// Paths xenfab wrote earlier that the fabric no longer has.
        removed: Vec<String>,
        /// The changes as a unified diff (``""`` when there are none), or ``None`` when it was
        /// not asked for: :meth:`Fabric.write` makes it for a dry run, or with ``diff=True``.
        diff: Option<String>,
        /// The parts of the tree whose entries this write left as they are (``hosts``,
        /// ``no_dhcp``, ``no_tftp``) while the fabric now makes them differently from what
        /// xenfab last wrote there: ``None`` for the site's part (the files that list every
        /// host: DHCP, DNS, ``inventory/hosts.csv``, ...), then the name of each dom0 whose part
        /// (its own files and its guests') is behind, in the fabric's order. A later write
        /// that leaves nothing brings them up to date. Empty when nothing was left behind; a
        /// file edited by hand since xenfab wrote it does not count.
        left_behind: Py<PyTuple>,
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

    /// What network boot gives a host next, and where that comes from: a row of
    /// ``xenfab status``.
    #[pyclass(frozen, eq, hash, get_all, module = "xenfab._xenfab")]
    #[derive(PartialEq, Eq, Hash)]
    struct HostState {
        /// The host's FQDN.
        host: String,
        /// The FQDN of a guest's dom0; ``None`` for a dom0.
        dom0: Option<String>,
        /// ``localboot``, ``install``, ``reinstall`` or ``rescue``.
        state: &'static str,
        /// True when ``xenfab boot`` recorded it in the output tree; false when it is the
        /// fabric's.
        recorded: bool,
    }

    #[pymethods]
    impl HostState {
        fn __repr__(&self) -> String {
            format!(
                "<HostState {} {} ({})>",
                self.host,
                self.state,
                if self.recorded {
                    "xenfab boot"
                } else {
                    "fabric"
                }
            )
        }
    }

    /// A logical volume of a guest.
    #[pyclass(frozen, eq, hash, get_all, module = "xenfab._xenfab")]
    #[derive(Clone, PartialEq, Eq, Hash)]
    struct Disk {
        /// The volume group, on the guest's dom0.
        vg: String,
        /// The logical volume.
        lv: String,
        /// The device the guest sees it as (``xvda``, ``hda``).
        vdev: String,
        /// Its size in MiB.
        size_mib: u64,
    }

    #[pymethods]
    impl Disk {
        fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
            Ok(format!(
                "Disk(vg={}, lv={}, vdev={}, size_mib={})",
                py_repr(py, &self.vg)?,
                py_repr(py, &self.lv)?,
                py_repr(py, &self.vdev)?,
                self.size_mib
            ))
        }
    }

    /// What a :class:`Fabric` and every value read from it share: the checked fabric, and
    /// what makes it again (for pickling). It holds no Python object, so that values can
    /// keep it without making reference cycles.
    struct Shared {
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
        fn fabric(&self) -> PyResult<&xenfab_core::Fabric> {
            self.checked
                .as_ref()
                .map(|l| &l.fabric)
                .map_err(|_| RenderError::new_err("internal: a value of an invalid fabric"))
        }

        fn dom0(&self, index: usize) -> PyResult<&xenfab_core::model::Dom0> {
            self.fabric()?
                .dom0s
                .get(index)
                .ok_or_else(|| RenderError::new_err("internal: no such dom0"))
        }

        fn guest(&self, dom0: usize, index: usize) -> PyResult<&xenfab_core::model::Guest> {
            self.dom0(dom0)?
                .guests
                .get(index)
                .ok_or_else(|| RenderError::new_err("internal: no such guest"))
        }

        /// `inventory/hosts/<fqdn>.json` of a host, as a JSON value.
        fn host_value(&self, dom0: usize, guest: Option<usize>) -> PyResult<serde_json::Value> {
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
    type ByName<'py> = (Bound<'py, PyAny>, (Bound<'py, PyAny>, String));

    /// The :class:`Fabric` object a value was read from, for `__reduce__`: the same object
    /// while it lives (so that a pickle holds one fabric, and what is unpickled shares it),
    /// else a new one of the same fabric.
    fn fabric_object<'py>(
        py: Python<'py>,
        fabric: &Py<PyWeakrefReference>,
        shared: &Arc<Shared>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match fabric.bind(py).upgrade() {
            Some(fabric) => Ok(fabric),
            None => Ok(Bound::new(py, Fabric::of_shared(Arc::clone(shared)))?.into_any()),
        }
    }

    /// `a, b, c` of at most five names, then how many there are in all.
    fn some_names<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> String {
        let count = names.len();
        let mut listed: Vec<String> = names.take(5).map(|n| format!("`{}`", shown(n))).collect();
        if count > listed.len() {
            listed.push(format!("… ({count} in all)"));
        }
        listed.join(", ")
    }

    /// A Python value of a serde value (a dict, list, str, int, bool or None).
    fn to_python<'py, T: serde::Serialize>(
        py: Python<'py>,
        value: &T,
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, value)?)
    }

    /// The hash of a string key, for `__hash__`.
    fn hash_of(key: &str) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut hasher);
        hasher.finish()
    }

    /// The name serde gives a unit enum value (`raid10`, `x86_64`).
    fn serde_name<T: serde::Serialize>(value: &T) -> String {
        serde_json::to_value(value)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// A hardware profile: what one model of server has.
    #[pyclass(frozen, eq, hash, module = "xenfab._xenfab")]
    #[derive(PartialEq, Eq, Hash)]
    struct Hardware {
        /// Its name, a key of the fabric file's ``hardware`` table.
        #[pyo3(get)]
        name: String,
        /// Installed memory in MiB.
        #[pyo3(get)]
        ram_mib: u64,
        /// Physical CPUs (cores) the hypervisor can schedule.
        #[pyo3(get)]
        cpus: u32,
        /// How a RAID controller combines the disks: ``none``, ``raid1``, ``raid5``, ``raid10``.
        #[pyo3(get)]
        raid: String,
        disks: Vec<(String, u64)>,
    }

    #[pymethods]
    impl Hardware {
        /// The physical disks: a tuple of ``(name, size_mib)`` pairs.
        #[getter]
        fn disks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
            PyTuple::new(py, &self.disks)
        }

        fn __repr__(&self) -> String {
            format!(
                "<Hardware {} ram_mib={} cpus={} raid={} disks={}>",
                self.name,
                self.ram_mib,
                self.cpus,
                self.raid,
                self.disks.len()
            )
        }
    }

    /// An operating system release that hosts are installed with.
    #[pyclass(frozen, eq, hash, get_all, module = "xenfab._xenfab")]
    #[derive(PartialEq, Eq, Hash)]
    struct Os {
        /// Its name, a key of the fabric file's ``os`` table.
        name: String,
        /// Its installer family: ``el3``, ``el4``, ``el5``, ``el9`` or ``debian``.
        family: &'static str,
        /// The release, such as ``"5.2"``.
        release: String,
        /// Its architecture: ``x86_64`` or ``i386``.
        arch: String,
        /// The installation tree.
        install_url: String,
        /// The boot image that starts its installer.
        boot_image: String,
        /// The version of its Xen kernel (``2.6.18-92.el5``), or ``None``.
        kernel_version: Option<String>,
    }

    #[pymethods]
    impl Os {
        fn __repr__(&self) -> String {
            format!(
                "<Os {} {} {} {}>",
                self.name, self.family, self.release, self.arch
            )
        }
    }

    /// An IPv4 network that hosts live on.
    #[pyclass(frozen, eq, hash, module = "xenfab._xenfab")]
    #[derive(PartialEq, Eq, Hash)]
    struct Network {
        /// Its name, a key of the fabric file's ``networks`` table.
        #[pyo3(get)]
        name: String,
        /// The subnet, such as ``"192.168.96.0/24"``.
        #[pyo3(get)]
        subnet: String,
        /// The default gateway.
        #[pyo3(get)]
        gateway: String,
        dns: Vec<String>,
        /// The bridge on each dom0 that guests on this network attach to.
        #[pyo3(get)]
        bridge: String,
        /// The TFTP server of hosts on it, when it is not the site's install server.
        #[pyo3(get)]
        next_server: Option<String>,
        /// True for a network inside each dom0, with no uplink.
        #[pyo3(get)]
        host_only: bool,
        /// Its 802.1Q VLAN id, or ``None`` when untagged.
        #[pyo3(get)]
        vlan: Option<u16>,
    }

    #[pymethods]
    impl Network {
        /// Its DNS servers, in order: a tuple of addresses.
        #[getter]
        fn dns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
            PyTuple::new(py, &self.dns)
        }

        fn __repr__(&self) -> String {
            format!(
                "<Network {} {} bridge={}>",
                self.name, self.subnet, self.bridge
            )
        }
    }

    /// The fabric's OS releases, hardware profiles and networks as Python objects, made once
    /// with the model and shared by every host that names them.
    struct Profiles {
        os: HashMap<String, Py<Os>>,
        hardware: HashMap<String, Py<Hardware>>,
        networks: HashMap<String, Py<Network>>,
    }

    impl Profiles {
        fn new(py: Python<'_>, fabric: &xenfab_core::Fabric) -> PyResult<Profiles> {
            let os = fabric
                .os
                .iter()
                .map(|(name, o)| {
                    let os = Os {
                        name: name.to_string(),
                        family: o.family.as_str(),
                        release: o.release.to_string(),
                        arch: serde_name(&o.arch),
                        install_url: o.install_url.to_string(),
                        boot_image: o.boot_image.to_string(),
                        kernel_version: o.kernel_version.as_ref().map(ToString::to_string),
                    };
                    Ok((name.to_string(), Py::new(py, os)?))
                })
                .collect::<PyResult<_>>()?;
            let hardware = fabric
                .hardware
                .iter()
                .map(|(name, h)| {
                    let hardware = Hardware {
                        name: name.to_string(),
                        ram_mib: h.ram.mib(),
                        cpus: h.cpus,
                        raid: serde_name(&h.raid),
                        disks: h
                            .disks
                            .iter()
                            .map(|d| (d.name.to_string(), d.size.mib()))
                            .collect(),
                    };
                    Ok((name.to_string(), Py::new(py, hardware)?))
                })
                .collect::<PyResult<_>>()?;
            let networks = fabric
                .networks
                .iter()
                .map(|(name, n)| {
                    let network = Network {
                        name: name.to_string(),
                        subnet: n.subnet.to_string(),
                        gateway: n.gateway.to_string(),
                        dns: n.dns.iter().map(ToString::to_string).collect(),
                        bridge: n.bridge.to_string(),
                        next_server: n.next_server.map(|a| a.to_string()),
                        host_only: n.host_only,
                        vlan: n.vlan,
                    };
                    Ok((name.to_string(), Py::new(py, network)?))
                })
                .collect::<PyResult<_>>()?;
            Ok(Profiles {
                os,
                hardware,
                networks,
            })
        }

        /// The object named `name` in `table`; validation made sure it is there.
        fn get<T>(py: Python<'_>, table: &HashMap<String, Py<T>>, name: &str) -> PyResult<Py<T>> {
            table
                .get(name)
                .map(|o| o.clone_ref(py))
                .ok_or_else(|| RenderError::new_err(format!("internal: no `{}`", shown(name))))
        }
    }

    /// A guest (domU) of a dom0, every default applied; get one with :meth:`Fabric.guest`,
    /// :meth:`Dom0.guest` or :attr:`Dom0.guests`.
    ///
    /// Frozen. Two guests are equal when their :meth:`to_dict` is. Pickled as its name and
    /// its fabric.
    #[pyclass(frozen, module = "xenfab._xenfab")]
    struct Guest {
        shared: Arc<Shared>,
        /// A weak reference to the `Fabric` object (a strong one would make a cycle).
        fabric: Py<PyWeakrefReference>,
        dom0_index: usize,
        index: usize,
        /// Its host name.
        #[pyo3(get)]
        name: String,
        /// Its fully qualified name.
        #[pyo3(get)]
        fqdn: String,
        /// The name of its dom0 (``fabric.dom0(guest.dom0)`` is the :class:`Dom0`).
        #[pyo3(get)]
        dom0: String,
        /// Its IPv4 address.
        #[pyo3(get)]
        ip: String,
        /// Its MAC address (given, or derived from ``ip``).
        #[pyo3(get)]
        mac: String,
        /// Where its MAC comes from: ``"explicit"``, or ``"derived:<scheme>"`` (as in
        /// ``inventory/hosts.csv``).
        #[pyo3(get)]
        mac_source: String,
        /// The network of its first NIC.
        #[pyo3(get)]
        network: Py<Network>,
        /// How it is virtualised and booted: ``pv-pypxeboot``, ``pv-pygrub``, ``hvm``, ``pvh``, ``pv-kernel``, ``pvh-kernel``.
        #[pyo3(get)]
        mode: String,
        /// The OS release it is installed with.
        #[pyo3(get)]
        os: Py<Os>,
        /// The boot image its network install uses.
        #[pyo3(get)]
        boot_image: String,
        /// What network boot gives it next, as the fabric says: ``localboot``, ``install``,
        /// ``reinstall`` or ``rescue``.
        #[pyo3(get)]
        state: &'static str,
        /// Its memory in MiB.
        #[pyo3(get)]
        memory_mib: u64,
        /// Its virtual CPUs.
        #[pyo3(get)]
        vcpus: u32,
        /// Its logical volumes, a tuple of :class:`Disk`.
        #[pyo3(get)]
        disks: Py<PyTuple>,
    }

    impl Guest {
        fn new(
            py: Python<'_>,
            shared: &Arc<Shared>,
            fabric_ref: &Py<PyWeakrefReference>,
            profiles: &Profiles,
            dom0_index: usize,
            index: usize,
        ) -> PyResult<Guest> {
            let fabric = shared.fabric()?;
            let d = shared.dom0(dom0_index)?;
            let g = shared.guest(dom0_index, index)?;
            let disks = g.disks.iter().map(|k| Disk {
                vg: k.vg.to_string(),
                lv: k.lv.to_string(),
                vdev: k.vdev.to_string(),
                size_mib: k.size.mib(),
            });
            Ok(Guest {
                shared: Arc::clone(shared),
                fabric: fabric_ref.clone_ref(py),
                dom0_index,
                index,
                name: g.name.to_string(),
                fqdn: fabric.fqdn(&g.name),
                dom0: d.name.to_string(),
                ip: g.ip.to_string(),
                mac: g.mac.to_string(),
                mac_source: match g.mac_source {
                    MacSource::Explicit => "explicit".to_owned(),
                    MacSource::Derived(scheme) => format!("derived:{scheme}"),
                },
                network: Profiles::get(py, &profiles.networks, g.network.as_str())?,
                mode: g.mode.as_str().to_owned(),
                os: Profiles::get(py, &profiles.os, g.os.as_str())?,
                boot_image: g.boot_image.to_string(),
                state: g.state.as_str(),
                memory_mib: g.memory.mib(),
                vcpus: g.vcpus,
                disks: PyTuple::new(
                    py,
                    disks
                        .map(|k| Py::new(py, k))
                        .collect::<PyResult<Vec<_>>>()?,
                )?
                .unbind(),
            })
        }

        fn key(&self) -> PyResult<String> {
            Ok(self
                .shared
                .host_value(self.dom0_index, Some(self.index))?
                .to_string())
        }
    }

    #[pymethods]
    impl Guest {
        /// What ``inventory/hosts/<fqdn>.json`` holds of it: a plain, JSON-able dict with
        /// every default applied, sizes in MiB, its dom0 as an FQDN.
        fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            to_python(
                py,
                &self.shared.host_value(self.dom0_index, Some(self.index))?,
            )
        }

        fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
            let py = other.py();
            match other.cast::<Guest>() {
                Ok(other) => Ok((self.key()? == other.get().key()?)
                    .into_pyobject(py)?
                    .to_owned()
                    .into_any()
                    .unbind()),
                Err(_) => Ok(py.NotImplemented()),
            }
        }

        fn __hash__(&self) -> PyResult<u64> {
            Ok(hash_of(&self.key()?))
        }

        /// Pickled as ``Fabric.guest(fabric, name)``: the fabric pickles its source.
        fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<ByName<'py>> {
            Ok((
                py.get_type::<Fabric>().getattr("guest")?,
                (
                    fabric_object(py, &self.fabric, &self.shared)?,
                    self.name.clone(),
                ),
            ))
        }

        fn __repr__(&self) -> String {
            format!(
                "<Guest {} ip={} mac={} mode={}>",
                self.fqdn, self.ip, self.mac, self.mode
            )
        }
    }

    /// A volume group of a dom0's partition scheme and what takes its space.
    #[pyclass(frozen, eq, hash, get_all, module = "xenfab._xenfab")]
    #[derive(Clone, PartialEq, Eq, Hash)]
    struct VolumeGroup {
        /// Its name (``xenvg``).
        name: String,
        /// Its usable size in MiB: its physical volumes rounded down to whole extents.
        size_mib: u64,
        /// What dom0's own logical volumes take, in MiB (all of it when one of them grows).
        system_mib: u64,
        /// What the guests' disks take, in MiB.
        guests_mib: u64,
        /// The space for guests, in MiB: the size less dom0's own volumes.
        available_mib: u64,
        /// The space still free after the guests' disks, in MiB.
        free_mib: u64,
    }

    #[pymethods]
    impl VolumeGroup {
        fn __repr__(&self) -> String {
            format!(
                "<VolumeGroup {} {} MiB: dom0 {} + guests {} + free {}>",
                self.name, self.size_mib, self.system_mib, self.guests_mib, self.free_mib
            )
        }
    }

    /// What a dom0 has and what its guests take, as ``xenfab report`` shows it; sizes in MiB.
    #[pyclass(frozen, get_all, module = "xenfab._xenfab")]
    struct Capacity {
        /// Installed memory.
        ram_mib: u64,
        /// Memory kept by the hypervisor.
        hypervisor_memory_mib: u64,
        /// Memory given to dom0.
        dom0_memory_mib: u64,
        /// Memory of all its guests together.
        guest_memory_mib: u64,
        /// Memory the hypervisor, dom0 and the guests take together.
        memory_used_mib: u64,
        /// Memory left: ``ram_mib`` less ``memory_used_mib`` (0 when overcommitted).
        memory_free_mib: u64,
        /// Physical CPUs.
        cpus: u32,
        /// dom0's vCPUs.
        dom0_vcpus: u32,
        /// vCPUs of all its guests together.
        guest_vcpus: u32,
        /// Each volume group of its partition scheme, a tuple of :class:`VolumeGroup`.
        volume_groups: Py<PyTuple>,
        /// The mount point of the file system that holds the save area
        /// (``/var/lib/xen/save``), or ``None`` when none does.
        save_area_mount: Option<String>,
        /// The size of that file system in MiB, or ``None`` when it grows or there is none.
        save_area_mib: Option<u64>,
    }

    impl Capacity {
        fn new(py: Python<'_>, c: &xenfab_core::model::Capacity) -> PyResult<Capacity> {
            let vgs = c
                .volume_groups
                .iter()
                .map(|vg| {
                    Py::new(
                        py,
                        VolumeGroup {
                            name: vg.name.to_string(),
                            size_mib: vg.size.mib(),
                            system_mib: vg.system.mib(),
                            guests_mib: vg.guests.mib(),
                            available_mib: vg.available().mib(),
                            free_mib: vg.free().mib(),
                        },
                    )
                })
                .collect::<PyResult<Vec<_>>>()?;
            Ok(Capacity {
                ram_mib: c.ram.mib(),
                hypervisor_memory_mib: c.hypervisor_memory.mib(),
                dom0_memory_mib: c.dom0_memory.mib(),
                guest_memory_mib: c.guest_memory.mib(),
                memory_used_mib: c.memory_used().mib(),
                memory_free_mib: c.ram.saturating_sub(c.memory_used()).mib(),
                cpus: c.cpus,
                dom0_vcpus: c.dom0_vcpus,
                guest_vcpus: c.guest_vcpus,
                volume_groups: PyTuple::new(py, vgs)?.unbind(),
                save_area_mount: c.save_area.as_ref().map(|s| s.mount.clone()),
                save_area_mib: c
                    .save_area
                    .as_ref()
                    .and_then(|s| s.size)
                    .map(xenfab_core::Size::mib),
            })
        }
    }

    #[pymethods]
    impl Capacity {
        fn __repr__(&self) -> String {
            format!(
                "<Capacity memory {} of {} MiB used, {} + {} of {} CPUs' vCPUs>",
                self.memory_used_mib, self.ram_mib, self.dom0_vcpus, self.guest_vcpus, self.cpus
            )
        }
    }

    /// A Xen host and its guests, every default applied; get one with :meth:`Fabric.dom0` or
    /// :attr:`Fabric.dom0s`.
    ///
    /// Frozen. Two dom0s are equal when their :meth:`to_dict` and their guests are. Pickled
    /// as its name and its fabric.
    #[pyclass(frozen, module = "xenfab._xenfab")]
    struct Dom0 {
        shared: Arc<Shared>,
        /// A weak reference to the `Fabric` object (a strong one would make a cycle).
        fabric: Py<PyWeakrefReference>,
        index: usize,
        /// Its host name.
        #[pyo3(get)]
        name: String,
        /// Its fully qualified name.
        #[pyo3(get)]
        fqdn: String,
        /// Its IPv4 address.
        #[pyo3(get)]
        ip: String,
        /// Its MAC address.
        #[pyo3(get)]
        mac: String,
        /// The network it installs through.
        #[pyo3(get)]
        network: Py<Network>,
        /// Its hardware profile.
        #[pyo3(get)]
        hardware: Py<Hardware>,
        /// The OS release it is installed with.
        #[pyo3(get)]
        os: Py<Os>,
        /// The partition scheme of its disks.
        #[pyo3(get)]
        partitioning: String,
        /// What network boot gives it next, as the fabric says: ``localboot``, ``install``,
        /// ``reinstall`` or ``rescue``.
        #[pyo3(get)]
        state: &'static str,
        /// dom0's own memory in MiB.
        #[pyo3(get)]
        memory_mib: u64,
        /// dom0's virtual CPUs.
        #[pyo3(get)]
        vcpus: u32,
        /// Whether dom0 may balloon down to make room for guests.
        #[pyo3(get)]
        balloon: bool,
        /// Its Xen toolstack: ``xm`` or ``xl``.
        #[pyo3(get)]
        toolstack: String,
        /// Its guests, a tuple of :class:`Guest`.
        #[pyo3(get)]
        guests: Py<PyTuple>,
        capacity: PyOnceLock<Py<Capacity>>,
    }

    impl Dom0 {
        fn new(
            py: Python<'_>,
            shared: &Arc<Shared>,
            fabric_ref: &Py<PyWeakrefReference>,
            profiles: &Profiles,
            index: usize,
        ) -> PyResult<Dom0> {
            let d = shared.dom0(index)?;
            let guests = (0..d.guests.len())
                .map(|g| Py::new(py, Guest::new(py, shared, fabric_ref, profiles, index, g)?))
                .collect::<PyResult<Vec<_>>>()?;
            Ok(Dom0 {
                shared: Arc::clone(shared),
                fabric: fabric_ref.clone_ref(py),
                index,
                name: d.name.to_string(),
                fqdn: shared.fabric()?.fqdn(&d.name),
                ip: d.ip.to_string(),
                mac: d.mac.to_string(),
                network: Profiles::get(py, &profiles.networks, d.network.as_str())?,
                hardware: Profiles::get(py, &profiles.hardware, d.hardware.as_str())?,
                os: Profiles::get(py, &profiles.os, d.os.as_str())?,
                partitioning: d.partitioning.to_string(),
                state: d.state.as_str(),
                memory_mib: d.memory.mib(),
                vcpus: d.vcpus,
                balloon: d.balloon,
                toolstack: d.toolstack.as_str().to_owned(),
                guests: PyTuple::new(py, guests)?.unbind(),
                capacity: PyOnceLock::new(),
            })
        }

        fn key(&self, py: Python<'_>) -> PyResult<String> {
            let mut key = self.shared.host_value(self.index, None)?.to_string();
            for g in self.guests.bind(py).iter() {
                key.push('\n');
                key.push_str(&g.cast::<Guest>()?.get().key()?);
            }
            Ok(key)
        }
    }

    #[pymethods]
    impl Dom0 {
        /// Its guest ``name``.
        ///
        /// Raises ``KeyError`` when it has no guest of that name; the message lists some of
        /// those it has, or names the dom0 that has it.
        fn guest<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, Guest>> {
            let guests = self.guests.bind(py);
            for g in guests.iter() {
                let g = g.cast_into::<Guest>()?;
                if g.get().name == name {
                    return Ok(g);
                }
            }
            let fabric = self.shared.fabric()?;
            let elsewhere = fabric
                .dom0s
                .iter()
                .find(|d| d.guests.iter().any(|g| g.name.as_str() == name));
            let message = match elsewhere {
                Some(d) => format!(
                    "`{}` is a guest of `{}`, not of `{}`",
                    shown(name),
                    d.name,
                    self.name
                ),
                None if guests.is_empty() => {
                    format!("no guest `{}`: `{}` has no guests", shown(name), self.name)
                }
                None => {
                    let names: Vec<&str> = self
                        .shared
                        .dom0(self.index)?
                        .guests
                        .iter()
                        .map(|g| g.name.as_str())
                        .collect();
                    format!(
                        "no guest `{}` on `{}`; its guests: {}",
                        shown(name),
                        self.name,
                        some_names(names.into_iter())
                    )
                }
            };
            Err(PyKeyError::new_err(message))
        }

        /// Its memory, CPUs and volume groups, and what its guests take of them: what
        /// ``xenfab report`` shows. Computed once.
        #[getter]
        fn capacity(&self, py: Python<'_>) -> PyResult<Py<Capacity>> {
            let capacity = self.capacity.get_or_try_init(py, || {
                let fabric = self.shared.fabric()?;
                let c = inventory::dom0_capacity(fabric, self.shared.dom0(self.index)?)
                    .map_err(|e| RenderError::new_err(chain(&e)))?;
                Py::new(py, Capacity::new(py, &c)?)
            })?;
            Ok(capacity.clone_ref(py))
        }

        /// Each volume group of its partition scheme: ``capacity.volume_groups``.
        #[getter]
        fn volume_groups(&self, py: Python<'_>) -> PyResult<Py<PyTuple>> {
            Ok(self.capacity(py)?.get().volume_groups.clone_ref(py))
        }

        /// What ``inventory/hosts/<fqdn>.json`` holds of it: a plain, JSON-able dict with
        /// every default applied and its capacity, sizes in MiB, its guests by name.
        fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            to_python(py, &self.shared.host_value(self.index, None)?)
        }

        fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
            let py = other.py();
            match other.cast::<Dom0>() {
                Ok(other) => Ok((self.key(py)? == other.get().key(py)?)
                    .into_pyobject(py)?
                    .to_owned()
                    .into_any()
                    .unbind()),
                Err(_) => Ok(py.NotImplemented()),
            }
        }

        fn __hash__(&self, py: Python<'_>) -> PyResult<u64> {
            Ok(hash_of(&self.key(py)?))
        }

        /// Pickled as ``Fabric.dom0(fabric, name)``: the fabric pickles its source.
        fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<ByName<'py>> {
            Ok((
                py.get_type::<Fabric>().getattr("dom0")?,
                (
                    fabric_object(py, &self.fabric, &self.shared)?,
                    self.name.clone(),
                ),
            ))
        }

        fn __repr__(&self, py: Python<'_>) -> String {
            format!(
                "<Dom0 {} ip={} guests={}>",
                self.fqdn,
                self.ip,
                self.guests.bind(py).len()
            )
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
    struct Fabric {
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

    fn other_as_diagnostics(e: &Error) -> Diagnostics {
        let mut d = Diagnostics::new();
        d.error("internal", xenfab_core::FieldPath::root(), chain(e));
        d
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
        fn show<'py>(
            &self,
            py: Python<'py>,
            host: &str,
            files: bool,
        ) -> PyResult<Bound<'py, PyDict>> {
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
            let untouched = [(no_dhcp, Untouched::Dhcp), (no_tftp, Untouched::Tftp)]
                .into_iter()
                .filter_map(|(left, dir)| left.then_some(dir))
                .collect();
            let options = PlanOptions {
                site: Some(site),
                force,
                untouched,
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
        /// is made and nothing is written. The directory's lock is held while it is switched.
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
}

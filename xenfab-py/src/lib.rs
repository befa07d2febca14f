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
    use std::net::Ipv4Addr;
    use std::path::PathBuf;

    use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
    use pyo3::prelude::*;
    use pyo3::types::{PyDict, PyType};
    use xenfab_core::FabricFile;
    use xenfab_core::input::text::ReadError;
    use xenfab_core::output::{Entry, LockKind, PlanOptions, SiteStamp, TreeLock};
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

    /// What :meth:`Fabric.write` did (or, with ``dry_run``, would do) to the output directory.
    #[pyclass(frozen, get_all, module = "xenfab._xenfab")]
    struct WriteResult {
        /// Paths written that were not there.
        created: Vec<String>,
        /// Paths whose contents (or mode, or target) changed.
        changed: Vec<String>,
        /// Paths that were already right and were not touched.
        unchanged: Vec<String>,
        /// Paths xenfab wrote earlier that the fabric no longer has.
        removed: Vec<String>,
        /// The changes as a unified diff (``""`` when there are none), or ``None`` when it was
        /// not asked for: :meth:`Fabric.write` makes it for a dry run, or with ``diff=True``.
        diff: Option<String>,
    }

    #[pymethods]
    impl WriteResult {
        /// True when anything was (or would be) created, changed or removed.
        #[getter]
        fn changed_anything(&self) -> bool {
            !(self.created.is_empty() && self.changed.is_empty() && self.removed.is_empty())
        }

        fn __repr__(&self) -> String {
            format!(
                "<WriteResult {} created, {} changed, {} unchanged, {} removed>",
                self.created.len(),
                self.changed.len(),
                self.unchanged.len(),
                self.removed.len()
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

    /// A guest (domU) of a dom0.
    #[pyclass(frozen, eq, hash, get_all, module = "xenfab._xenfab")]
    #[derive(Clone, PartialEq, Eq, Hash)]
    struct Guest {
        /// Its host name.
        name: String,
        /// Its fully qualified name.
        fqdn: String,
        /// Its IPv4 address.
        ip: String,
        /// Its MAC address (given, or derived from ``ip``).
        mac: String,
        /// How it is virtualised and booted: ``pv-pypxeboot``, ``pv-pygrub``, ``hvm``, ``pvh``, ``pv-kernel``, ``pvh-kernel``.
        mode: String,
        /// Its memory in MiB.
        memory_mib: u64,
        /// Its virtual CPUs.
        vcpus: u32,
        /// Its logical volumes.
        disks: Vec<Disk>,
    }

    #[pymethods]
    impl Guest {
        fn __repr__(&self) -> String {
            format!(
                "<Guest {} ip={} mac={} mode={}>",
                self.fqdn, self.ip, self.mac, self.mode
            )
        }
    }

    /// A Xen host and its guests.
    #[pyclass(frozen, eq, hash, get_all, module = "xenfab._xenfab")]
    #[derive(Clone, PartialEq, Eq, Hash)]
    struct Dom0 {
        /// Its host name.
        name: String,
        /// Its fully qualified name.
        fqdn: String,
        /// Its IPv4 address.
        ip: String,
        /// Its MAC address.
        mac: String,
        /// dom0's own memory in MiB.
        memory_mib: u64,
        /// dom0's virtual CPUs.
        vcpus: u32,
        /// Its Xen toolstack: ``xm`` or ``xl``.
        toolstack: String,
        /// Its guests.
        guests: Vec<Guest>,
    }

    #[pymethods]
    impl Dom0 {
        fn __repr__(&self) -> String {
            format!(
                "<Dom0 {} ip={} guests={}>",
                self.fqdn,
                self.ip,
                self.guests.len()
            )
        }
    }

    fn dom0_of(fabric: &xenfab_core::Fabric, d: &xenfab_core::model::Dom0) -> Dom0 {
        Dom0 {
            name: d.name.to_string(),
            fqdn: fabric.fqdn(&d.name),
            ip: d.ip.to_string(),
            mac: d.mac.to_string(),
            memory_mib: d.memory.mib(),
            vcpus: d.vcpus,
            toolstack: d.toolstack.as_str().to_owned(),
            guests: d
                .guests
                .iter()
                .map(|g| Guest {
                    name: g.name.to_string(),
                    fqdn: fabric.fqdn(&g.name),
                    ip: g.ip.to_string(),
                    mac: g.mac.to_string(),
                    mode: g.mode.as_str().to_owned(),
                    memory_mib: g.memory.mib(),
                    vcpus: g.vcpus,
                    disks: g
                        .disks
                        .iter()
                        .map(|k| Disk {
                            vg: k.vg.to_string(),
                            lv: k.lv.to_string(),
                            vdev: k.vdev.to_string(),
                            size_mib: k.size.mib(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// A fabric description, read and checked; nothing is rendered until asked.
    ///
    /// Make one with :meth:`from_toml`, :meth:`from_json`, :meth:`from_file`,
    /// :meth:`from_dict` or :meth:`from_quattor`. A fabric with errors is still a
    /// ``Fabric``: :meth:`validate` lists them, and everything that needs a valid fabric
    /// raises ``ValidationError``.
    #[pyclass(frozen, module = "xenfab._xenfab")]
    struct Fabric {
        checked: Result<Loaded, Diagnostics>,
        /// Where it came from, recorded in an output tree's manifest by :meth:`write`.
        origin: String,
    }

    impl Fabric {
        fn of_source(source: &Source) -> Fabric {
            Fabric::of_check(xenfab_core::check(source), source.origin())
        }

        fn of_check(result: xenfab_core::Result<Loaded>, origin: &str) -> Fabric {
            Fabric {
                origin: origin.to_owned(),
                checked: match result {
                    Ok(loaded) => Ok(loaded),
                    Err(Error::Invalid(d)) => Err(d),
                    // `check` reports nothing else; keep whatever it says as a diagnostic-free
                    // failure rather than dropping it.
                    Err(e) => Err(other_as_diagnostics(&e)),
                },
            }
        }

        fn parse(text: &str, format: Format, origin: &str) -> PyResult<Fabric> {
            let source = Source::parse(text, format, origin).map_err(|e| {
                let location = match &e {
                    Error::Parse(p) => Some(&p.location),
                    _ => None,
                };
                parse_error(chain(&e), location)
            })?;
            Ok(Fabric::of_source(&source))
        }

        fn loaded(&self, py: Python<'_>) -> PyResult<&Loaded> {
            self.checked.as_ref().map_err(|d| validation_error(py, d))
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
                let text = format!("{origin}: {place}{}", error.replace('\n', " "));
                let message = xenfab_core::escape_controls(&text).into_owned();
                ParseError::new_err((message, None::<u32>, None::<u32>, path))
            })?;
            Ok(Fabric::of_source(&Source::from_file(file, origin)))
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
                Ok(file) => Ok(Fabric::of_source(&Source::from_file(
                    file,
                    &directory.display().to_string(),
                ))),
                Err(Error::Invalid(d)) => Ok(Fabric {
                    checked: Err(d),
                    origin: directory.display().to_string(),
                }),
                Err(Error::Parse(e)) => Err(parse_error(chain(&e), Some(&e.location))),
                Err(e) => Err(py_err(cls.py(), e)),
            }
        }

        /// Every diagnostic, errors and warnings, in file order; an empty list for a clean
        /// fabric. Never raises for an invalid fabric.
        fn validate(&self, py: Python<'_>) -> PyResult<Vec<Py<Diagnostic>>> {
            match &self.checked {
                Ok(loaded) => diagnostics(py, &loaded.warnings),
                Err(d) => diagnostics(py, d),
            }
        }

        /// Every artefact: a dict of relative path to file contents, or to a :class:`Link`
        /// for a symbolic link, in path order.
        ///
        /// The rendering runs without the GIL: other Python threads go on meanwhile.
        ///
        /// Raises ``ValidationError`` when the fabric has errors, ``RenderError`` when an
        /// artefact cannot be made.
        fn render<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
            let loaded = self.loaded(py)?;
            let tree = py
                .detach(|| xenfab_core::render(&loaded.fabric))
                .map_err(|e| py_err(py, Error::from(e)))?;
            let dict = PyDict::new(py);
            for (path, entry) in &tree {
                match entry {
                    Entry::File { contents, .. } => dict.set_item(path.as_str(), contents)?,
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
        #[pyo3(signature = (directory, dry_run = false, force = false, diff = None))]
        #[allow(
            clippy::needless_pass_by_value,
            reason = "pyo3 extracts a path argument as an owned `PathBuf`"
        )]
        fn write(
            &self,
            py: Python<'_>,
            directory: PathBuf,
            dry_run: bool,
            force: bool,
            diff: Option<bool>,
        ) -> PyResult<WriteResult> {
            let want_diff = diff.unwrap_or(dry_run);
            let mut fabric = self.loaded(py)?.fabric.clone();
            let site = SiteStamp::of(&fabric, &self.origin);
            let kind = if dry_run {
                LockKind::Shared
            } else {
                LockKind::Exclusive
            };
            // Waiting for another run releases the GIL, so that other threads go on.
            let lock = py
                .detach(|| TreeLock::acquire(&directory, kind, |_| true))
                .map_err(|e| output_error(&e))?;
            let tftp_root = directory.join(xenfab_core::render::netboot::TFTP_DIR);
            let states =
                xenfab_core::output::boot::read_states(&tftp_root).map_err(|e| output_error(&e))?;
            for refused in states.apply(&mut fabric) {
                // A recorded state the host cannot be in: the fabric's state is kept.
                let message =
                    std::ffi::CString::new(refused.replace('\0', " ")).unwrap_or_default();
                PyErr::warn(
                    py,
                    &py.get_type::<pyo3::exceptions::PyUserWarning>(),
                    &message,
                    1,
                )?;
            }
            let options = PlanOptions {
                site: Some(site),
                force,
            };
            // Planning and writing release the GIL too.
            let done = py.detach(|| {
                let plan = xenfab_core::output::plan_fabric(&directory, &fabric, &options)?;
                let diff = want_diff.then(|| plan.diff());
                let summary = if dry_run {
                    plan.summary()
                } else {
                    plan.apply()?
                };
                Ok::<_, Error>((summary, diff))
            });
            drop(lock);
            let (summary, diff) = done.map_err(|e| match e {
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
            })
        }

        /// The dom0s and their guests, with every default filled in and every MAC derived.
        ///
        /// Raises ``ValidationError`` when the fabric has errors.
        #[getter]
        fn dom0s(&self, py: Python<'_>) -> PyResult<Vec<Dom0>> {
            let fabric = &self.loaded(py)?.fabric;
            Ok(fabric.dom0s.iter().map(|d| dom0_of(fabric, d)).collect())
        }

        /// The site's DNS domain.
        ///
        /// Raises ``ValidationError`` when the fabric has errors.
        #[getter]
        fn domain(&self, py: Python<'_>) -> PyResult<String> {
            Ok(self.loaded(py)?.fabric.site.domain.to_string())
        }

        fn __repr__(&self) -> String {
            match &self.checked {
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

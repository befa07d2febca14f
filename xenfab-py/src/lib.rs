//! The native part of the `xenfab` Python package, `xenfab._xenfab`: thin, mechanical
//! wrappers around `xenfab-core`, re-exported by `python/xenfab/__init__.py`.
//!
//! The doc comments of the `#[pyfunction]`s are their Python docstrings, so they are written
//! for Python readers; `python/xenfab/_xenfab.pyi` gives their types.

use pyo3::prelude::*;

/// Native helpers of xenfab, which renders Xen provisioning configs from one fabric description.
#[pymodule]
mod _xenfab {
    use std::net::Ipv4Addr;

    use pyo3::exceptions::PyValueError;
    use pyo3::prelude::*;
    use pyo3::types::PyDict;
    use xenfab_core::{Diagnostic, Error, MacAddr, MacScheme};

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

    fn parse_ip(ip: &str) -> PyResult<Ipv4Addr> {
        ip.parse().map_err(|_| {
            PyValueError::new_err(format!(
                "invalid IPv4 address `{}`: expected four decimal octets such as 192.168.1.2",
                shown(ip)
            ))
        })
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

    /// The diagnostics of the fabric file ``text``: the warnings of a valid fabric (an empty
    /// list when it is clean), or every diagnostic of an invalid one.
    ///
    /// Each is a dict with the keys ``severity`` (``"error"`` or ``"warning"``), ``code``,
    /// ``path``, ``message``, ``file``, ``line`` and ``column`` (``None`` where unknown).
    /// ``origin`` names the file in them, and its extension chooses the syntax (``.json`` for
    /// JSON, else TOML).
    ///
    /// Raises ``ValueError`` for text that is not a well-formed fabric file.
    #[pyfunction]
    #[pyo3(signature = (text, origin = "<string>"))]
    fn validate<'py>(
        py: Python<'py>,
        text: &str,
        origin: &str,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let diagnostics = match xenfab_core::load(text, origin) {
            Ok(loaded) => loaded.warnings,
            Err(Error::Invalid(diagnostics)) => diagnostics,
            Err(e) => return Err(PyValueError::new_err(e.to_string())),
        };
        diagnostics.iter().map(|d| diagnostic_dict(py, d)).collect()
    }

    fn diagnostic_dict<'py>(py: Python<'py>, d: &Diagnostic) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("severity", d.severity.to_string())?;
        dict.set_item("code", d.code)?;
        dict.set_item("path", d.path.to_string())?;
        dict.set_item("message", &d.message)?;
        let location = d.location.as_ref();
        dict.set_item("file", location.map(|l| &*l.file))?;
        dict.set_item("line", location.and_then(|l| l.line))?;
        dict.set_item("column", location.and_then(|l| l.column))?;
        Ok(dict)
    }
}

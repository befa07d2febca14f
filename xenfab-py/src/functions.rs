//! The module's functions: `derive_mac`, `hex_ip`, `pxelinux_name`, `example`,
//! `ks_reinstall`.

use std::net::Ipv4Addr;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use xenfab_core::render::kickstart::reinstall;
use xenfab_core::{MacAddr, MacScheme};

use crate::errors::ParseError;
use crate::util::shown;

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
pub(crate) fn derive_mac(ip: &str, scheme: &str) -> PyResult<String> {
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
pub(crate) fn hex_ip(ip: &str) -> PyResult<String> {
    Ok(xenfab_core::hex_ip(parse_ip(ip)?))
}

/// The file name pxelinux looks the MAC address ``mac`` up by
/// (``00:16:3e:a8:01:02`` -> ``01-00-16-3e-a8-01-02``).
///
/// ``mac`` is six hex octets separated by ``:`` or ``-``, in either case. Raises
/// ``ValueError`` for anything else.
#[pyfunction]
pub(crate) fn pxelinux_name(mac: &str) -> PyResult<String> {
    let mac = mac
        .parse::<MacAddr>()
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(mac.pxelinux_name())
}

/// The built-in example fabric, as TOML text: a complete, valid site to start from.
#[pyfunction]
pub(crate) fn example() -> &'static str {
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
pub(crate) fn ks_reinstall(text: &str, keep_vgs: Option<Vec<String>>) -> PyResult<String> {
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

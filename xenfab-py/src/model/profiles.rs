//! The profiles hosts name, as Python values: `Os`, `Hardware` and `Network`, made once for
//! a fabric (`Profiles`) and shared by its hosts.

use std::collections::HashMap;

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::errors::RenderError;
use crate::util::{serde_name, shown};

/// A hardware profile: what one model of server has.
#[pyclass(frozen, eq, hash, module = "xenfab._xenfab")]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct Hardware {
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
pub(crate) struct Os {
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
pub(crate) struct Network {
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
pub(crate) struct Profiles {
    pub(super) os: HashMap<String, Py<Os>>,
    pub(super) hardware: HashMap<String, Py<Hardware>>,
    pub(super) networks: HashMap<String, Py<Network>>,
}

impl Profiles {
    pub(crate) fn new(py: Python<'_>, fabric: &xenfab_core::Fabric) -> PyResult<Profiles> {
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
    pub(super) fn get<T>(
        py: Python<'_>,
        table: &HashMap<String, Py<T>>,
        name: &str,
    ) -> PyResult<Py<T>> {
        table
            .get(name)
            .map(|o| o.clone_ref(py))
            .ok_or_else(|| RenderError::new_err(format!("internal: no `{}`", shown(name))))
    }
}

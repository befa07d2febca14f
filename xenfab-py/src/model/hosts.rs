//! The hosts of a fabric as Python values: `Dom0`, `Guest` and a guest's `Disk`, and
//! `HostState`, what network boot gives a host next.

use std::sync::Arc;

use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyTuple, PyWeakrefReference};
use xenfab_core::error_chain as chain;
use xenfab_core::model::MacSource;
use xenfab_core::render::inventory;

use super::capacity::Capacity;
use super::profiles::{Hardware, Network, Os, Profiles};
use crate::errors::RenderError;
use crate::fabric::{ByName, Fabric, Shared, fabric_object};
use crate::util::{hash_of, py_repr, shown, some_names, to_python};

/// What network boot gives a host next, and where that comes from: a row of
/// ``xenfab status``.
#[pyclass(frozen, eq, hash, get_all, module = "xenfab._xenfab")]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct HostState {
    /// The host's FQDN.
    pub(crate) host: String,
    /// The FQDN of a guest's dom0; ``None`` for a dom0.
    pub(crate) dom0: Option<String>,
    /// ``localboot``, ``install``, ``reinstall`` or ``rescue``.
    pub(crate) state: &'static str,
    /// True when ``xenfab boot`` recorded it in the output tree; false when it is the
    /// fabric's.
    pub(crate) recorded: bool,
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
pub(crate) struct Disk {
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

/// A guest (domU) of a dom0, every default applied; get one with :meth:`Fabric.guest`,
/// :meth:`Dom0.guest` or :attr:`Dom0.guests`.
///
/// Frozen. Two guests are equal when their :meth:`to_dict` is. Pickled as its name and
/// its fabric.
#[pyclass(frozen, module = "xenfab._xenfab")]
pub(crate) struct Guest {
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

/// A Xen host and its guests, every default applied; get one with :meth:`Fabric.dom0` or
/// :attr:`Fabric.dom0s`.
///
/// Frozen. Two dom0s are equal when their :meth:`to_dict` and their guests are. Pickled
/// as its name and its fabric.
#[pyclass(frozen, module = "xenfab._xenfab")]
pub(crate) struct Dom0 {
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
    pub(crate) guests: Py<PyTuple>,
    capacity: PyOnceLock<Py<Capacity>>,
}

impl Dom0 {
    pub(crate) fn new(
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

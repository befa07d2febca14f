//! What a dom0 has and what its guests take: `Capacity` and its `VolumeGroup`s.

use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// A volume group of a dom0's partition scheme and what takes its space.
#[pyclass(frozen, eq, hash, get_all, module = "xenfab._xenfab")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct VolumeGroup {
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
pub(crate) struct Capacity {
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
    pub(super) volume_groups: Py<PyTuple>,
    /// The mount point of the file system that holds the save area
    /// (``/var/lib/xen/save``), or ``None`` when none does.
    save_area_mount: Option<String>,
    /// The size of that file system in MiB, or ``None`` when it grows or there is none.
    save_area_mib: Option<u64>,
}

impl Capacity {
    pub(super) fn new(py: Python<'_>, c: &xenfab_core::model::Capacity) -> PyResult<Capacity> {
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

//! What a dom0 has and what its guests take: memory, volume-group space, the save area, CPUs.
//!
//! One computation serves validation (does it fit?), the inventory and the capacity report.

use std::collections::BTreeMap;

use serde::Serialize;

use super::fabric::{Dom0, Hardware};
use super::names::LvmName;
use super::partition::{PartitionScheme, mount_covers};
use super::size::Size;

/// Where dom0 writes its guests' memory when it saves them, on shutdown or reboot.
pub const SAVE_DIR: &str = "/var/lib/xen/save";

/// Space kept at the start of a disk for the partition table and alignment.
const DISK_RESERVED: Size = Size::from_mib(1);
/// Space an LVM physical volume keeps for its label and metadata.
const PV_METADATA: Size = Size::from_mib(1);

/// The capacity of one dom0.
#[derive(Debug, Clone, Serialize)]
pub struct Capacity {
    /// Installed memory.
    pub ram: Size,
    /// Memory kept by the hypervisor.
    pub hypervisor_memory: Size,
    /// Memory given to dom0.
    pub dom0_memory: Size,
    /// Memory of all guests together.
    pub guest_memory: Size,
    /// Physical CPUs.
    pub cpus: u32,
    /// dom0's vCPUs.
    pub dom0_vcpus: u32,
    /// vCPUs of all guests together.
    pub guest_vcpus: u32,
    /// Each volume group of the partition scheme.
    pub volume_groups: Vec<VgCapacity>,
    /// The file system that holds the save area, and its size where the scheme fixes it.
    pub save_area: Option<SaveArea>,
    /// Disks whose fixed partitions do not fit, with what they need and what they have.
    pub overfull_disks: Vec<(String, Size, Size)>,
}

impl Capacity {
    /// Memory the hypervisor, dom0 and the guests take together.
    pub fn memory_used(&self) -> Size {
        self.hypervisor_memory
            .saturating_add(self.dom0_memory)
            .saturating_add(self.guest_memory)
    }
}

/// The space of one volume group.
#[derive(Debug, Clone, Serialize)]
pub struct VgCapacity {
    /// The volume group.
    pub name: LvmName,
    /// Its usable size: its physical volumes rounded down to whole extents.
    pub size: Size,
    /// What dom0's own logical volumes take (all of it when one of them grows).
    pub system: Size,
    /// What the guests' disks take.
    pub guests: Size,
}

impl VgCapacity {
    /// Space left for guests: the size less dom0's own volumes.
    pub fn available(&self) -> Size {
        self.size.saturating_sub(self.system)
    }

    /// Space still free after the guests' disks.
    pub fn free(&self) -> Size {
        self.available().saturating_sub(self.guests)
    }
}

/// The file system holding `/var/lib/xen/save`.
#[derive(Debug, Clone, Serialize)]
pub struct SaveArea {
    /// Its mount point (`/var/lib/xen/save` when it has its own, as in the seed).
    pub mount: String,
    /// Its size, unless it grows.
    pub size: Option<Size>,
}

/// Computes the capacity of `dom0` on `hardware` laid out by `scheme`.
///
/// Names the scheme refers to but does not define are skipped here: validation reports them.
pub fn capacity(
    dom0: &Dom0,
    hardware: &Hardware,
    scheme: &PartitionScheme,
    hypervisor_memory: Size,
) -> Capacity {
    let mut device_size: BTreeMap<&str, Option<Size>> = BTreeMap::new();
    let mut mounts: Vec<(&str, Option<Size>)> = Vec::new();
    let mut overfull_disks = Vec::new();

    for (disk, disk_size) in hardware.visible_disks() {
        let on_disk: Vec<_> = scheme
            .partitions
            .iter()
            .filter(|p| p.disk.as_str() == disk)
            .collect();
        let fixed: Size = on_disk.iter().map(|p| p.size).sum();
        let usable = disk_size.saturating_sub(DISK_RESERVED);
        if fixed > usable {
            overfull_disks.push((disk.to_owned(), fixed, usable));
        }
        let rest = usable.saturating_sub(fixed);
        for p in on_disk {
            let size = if p.grow {
                p.size.saturating_add(rest)
            } else {
                p.size
            };
            if let Some(id) = &p.id {
                device_size.insert(id.as_str(), Some(size));
            }
            if let Some(m) = p.role.mount() {
                mounts.push((m.as_str(), Some(size)));
            }
        }
    }
    for raid in &scheme.raids {
        let sizes: Vec<Size> = raid
            .members
            .iter()
            .filter_map(|m| device_size.get(m.as_str()).copied().flatten())
            .collect();
        let size = sizes
            .iter()
            .min()
            .map(|s| raid.level.capacity(raid.members.len(), *s));
        if let Some(id) = &raid.id {
            device_size.insert(id.as_str(), size);
        }
        if let Some(m) = raid.role.mount() {
            mounts.push((m.as_str(), size));
        }
    }

    let volume_groups = scheme
        .volume_groups
        .iter()
        .map(|vg| {
            let pe = vg.pe_size.mib().max(1);
            let size: Size = vg
                .pvs
                .iter()
                .filter_map(|pv| device_size.get(pv.as_str()).copied().flatten())
                .map(|s| Size::from_mib(s.saturating_sub(PV_METADATA).mib() / pe * pe))
                .sum();
            let lvs: Vec<_> = scheme
                .logical_volumes
                .iter()
                .filter(|lv| lv.vg == vg.name)
                .collect();
            let system = if lvs.iter().any(|lv| lv.grow) {
                size
            } else {
                lvs.iter().map(|lv| lv.size).sum()
            };
            for lv in &lvs {
                if let Some(m) = lv.role.mount() {
                    mounts.push((m.as_str(), if lv.grow { None } else { Some(lv.size) }));
                }
            }
            let guests = dom0
                .guests
                .iter()
                .flat_map(|g| &g.disks)
                .filter(|d| d.vg == vg.name)
                .map(|d| d.size)
                .sum();
            VgCapacity {
                name: vg.name.clone(),
                size,
                system,
                guests,
            }
        })
        .collect();

    let save_area = mounts
        .iter()
        .filter(|(m, _)| m.starts_with('/') && mount_covers(m, SAVE_DIR))
        .max_by_key(|(m, _)| m.len())
        .map(|(m, size)| SaveArea {
            mount: (*m).to_owned(),
            size: *size,
        });

    Capacity {
        ram: hardware.ram,
        hypervisor_memory,
        dom0_memory: dom0.memory,
        guest_memory: dom0.guests.iter().map(|g| g.memory).sum(),
        cpus: hardware.cpus,
        dom0_vcpus: dom0.vcpus,
        guest_vcpus: dom0
            .guests
            .iter()
            .map(|g| g.vcpus)
            .fold(0, u32::saturating_add),
        volume_groups,
        save_area,
        overfull_disks,
    }
}

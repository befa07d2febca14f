//! Each dom0 must hold what it runs: its layout fits its disks, its guests' disks fit their
//! volume group, dom0 and guest memory fit its RAM, the save area holds the guests' memory.

use std::collections::HashSet;

use rustc_hash::FxHashMap as HashMap;

use crate::diagnostic::{Diagnostics, FieldPath};
use crate::model::{Dom0, Fabric, Ident, SAVE_DIR, Size, Toolstack, VirtMode, capacity};

/// The least memory a domain is given: the smallest `memory` of Xen's own example configs
/// (`memory = 64` in xen-3.x's tools/examples/xmexample1 and xmexample2). Below it no kernel
/// of these releases, let alone its installer, starts.
const MIN_MEMORY: Size = Size::from_mib(64);

/// The most vCPUs one guest can have under `xm`: Xen 3's `MAX_VIRT_CPUS` (32 on x86,
/// xen/include/public/arch-x86/xen.h of Xen 3.x).
const XM_MAX_VCPUS: u32 = 32;

/// The most vCPUs an HVM or PVH guest can have under `xl`: `HVM_MAX_VCPUS` (128,
/// xen/include/public/hvm/hvm_info_table.h of Xen 4.x).
const HVM_MAX_VCPUS: u32 = 128;

pub(super) fn check(fabric: &Fabric, sound_schemes: &HashSet<Ident>, diags: &mut Diagnostics) {
    for dom0 in &fabric.dom0s {
        check_guest_modes(dom0, diags);
        check_guest_values(dom0, fabric.hardware.get(&dom0.hardware), diags);
        // Lowering only keeps dom0s whose hardware and scheme exist.
        let (Some(hw), Some(scheme)) = (
            fabric.hardware.get(&dom0.hardware),
            fabric.partition_schemes.get(&dom0.partitioning),
        ) else {
            continue;
        };
        let at = &dom0.at;
        if dom0.vcpus > hw.cpus {
            diags.error(
                "vcpu-overcommit",
                at.key("vcpus"),
                format!(
                    "dom0 has {} vCPUs but hardware `{}` has {} CPUs",
                    dom0.vcpus, dom0.hardware, hw.cpus
                ),
            );
        }

        // The scheme must put its partitions on disks the hardware shows.
        let visible = hw.visible_disks();
        let mut missing: Vec<&str> = scheme
            .partitions
            .iter()
            .map(|p| p.disk.as_str())
            .filter(|d| !visible.iter().any(|(v, _)| v == d))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let shown: Vec<&str> = visible.iter().map(|(d, _)| *d).collect();
            diags.error(
                "unknown-disk",
                at.key("partitioning"),
                format!(
                    "partition scheme `{}` uses disk(s) `{}` but hardware `{}` shows only `{}`",
                    dom0.partitioning,
                    missing.join("`, `"),
                    dom0.hardware,
                    shown.join("`, `")
                ),
            );
            continue;
        }
        if !sound_schemes.contains(&dom0.partitioning) {
            continue; // its own errors are reported; sizes would mislead
        }

        // what the installer makes: the ESP or BIOS boot partitions the firmware needs count
        let layout = fabric
            .layout(dom0)
            .unwrap_or(std::borrow::Cow::Borrowed(scheme));
        let cap = capacity(dom0, hw, &layout, fabric.site.hypervisor_memory);
        for (disk, need, have) in &cap.overfull_disks {
            diags.error(
                "layout-too-big",
                at.key("partitioning"),
                format!(
                    "partition scheme `{}` needs {need} on disk `{disk}` but it has {have}",
                    dom0.partitioning
                ),
            );
        }
        check_guest_volumes(dom0, scheme, &cap, diags);
        check_memory(dom0, &cap, &dom0.hardware, diags);

        if let Some(save) = &cap.save_area {
            if let Some(size) = save.size {
                if cap.guest_memory > size {
                    diags.warning(
                        "save-area-small",
                        at.key("partitioning"),
                        format!(
                            "the guests have {} of memory but {} has {size}: saving them when dom0 shuts down will fail",
                            cap.guest_memory,
                            if save.mount == SAVE_DIR { format!("`{SAVE_DIR}`") } else { format!("`{}`, which holds {SAVE_DIR},", save.mount) }
                        ),
                    );
                }
            }
        }
        let vcpus = cap.guest_vcpus.saturating_add(cap.dom0_vcpus);
        if vcpus > cap.cpus {
            diags.warning(
                "vcpu-overcommit",
                at.key("guests"),
                format!(
                    "dom0 and its guests have {vcpus} vCPUs on {} CPUs",
                    cap.cpus
                ),
            );
        }
    }
}

/// What one guest asks must be what its dom0 can give on its own: memory at least
/// [`MIN_MEMORY`], vCPUs no more than the host's CPUs and the hypervisor's limit, one disk a
/// virtual device. dom0's own memory has the same floor.
fn check_guest_values(dom0: &Dom0, hw: Option<&crate::model::Hardware>, diags: &mut Diagnostics) {
    if dom0.memory < MIN_MEMORY {
        diags.error(
            "memory-too-small",
            dom0.at.key("memory"),
            format!(
                "dom0 has {} of memory: it needs at least {MIN_MEMORY}",
                dom0.memory
            ),
        );
    }
    let cpus = hw.map_or(u32::MAX, |h| h.cpus);
    for g in &dom0.guests {
        if g.memory < MIN_MEMORY {
            diags.error(
                "memory-too-small",
                g.at.key("memory"),
                format!(
                    "guest `{}` has {} of memory: a domain needs at least {MIN_MEMORY}",
                    g.name, g.memory
                ),
            );
        }
        let limit = match (dom0.toolstack, g.mode) {
            (Toolstack::Xm, _) => Some(("xm (Xen 3's MAX_VIRT_CPUS)", XM_MAX_VCPUS)),
            (Toolstack::Xl, VirtMode::Hvm | VirtMode::Pvh | VirtMode::PvhKernel) => {
                Some(("an HVM or PVH guest (Xen's HVM_MAX_VCPUS)", HVM_MAX_VCPUS))
            }
            (Toolstack::Xl, _) => None,
        };
        if g.vcpus > cpus {
            diags.error(
                "vcpu-overcommit",
                g.at.key("vcpus"),
                format!(
                    "guest `{}` has {} vCPUs but hardware `{}` of dom0 `{}` has {cpus} CPUs",
                    g.name, g.vcpus, dom0.hardware, dom0.name
                ),
            );
        } else if let Some((what, max)) = limit.filter(|(_, max)| g.vcpus > *max) {
            diags.error(
                "too-many-vcpus",
                g.at.key("vcpus"),
                format!(
                    "guest `{}` has {} vCPUs: {what} allows at most {max}",
                    g.name, g.vcpus
                ),
            );
        }
        // At most 26 disks: a quadratic look is cheaper than a set.
        for (i, d) in g.disks.iter().enumerate() {
            if let Some(j) = g.disks[..i].iter().position(|e| e.vdev == d.vdev) {
                diags.error_related(
                    "duplicate-vdev",
                    g.at.key("disks").elem(i, None).key("vdev"),
                    &g.at.key("disks").elem(j, None).key("vdev"),
                    format!(
                        "disk {i} of guest `{}` is also seen as `{}`, like disk {j}: each disk needs its own device",
                        g.name, d.vdev
                    ),
                );
            }
        }
    }
}

/// PVH needs libxl; `xm` cannot start such a guest.
fn check_guest_modes(dom0: &Dom0, diags: &mut Diagnostics) {
    for g in &dom0.guests {
        match (dom0.toolstack, g.mode) {
            (Toolstack::Xm, VirtMode::Pvh | VirtMode::PvhKernel) => diags.error(
                "mode-needs-xl",
                g.at.key("mode"),
                format!("a PVH guest needs the `xl` toolstack but dom0 `{}` uses `xm`", dom0.name),
            ),
            // libxl starts every bootloader with `--output-format=simple0` and
            // `--output-directory=…` (libxl_bootloader.c, `make_bootloader_args`, Xen 4.2 on),
            // options pypxeboot 0.0.3's getopt does not know: it prints its usage and exits 1.
            (Toolstack::Xl, VirtMode::PvPypxeboot) => diags.error(
                "mode-needs-xm",
                g.at.key("mode"),
                format!(
                    "pypxeboot needs xm (xl starts bootloaders with options pypxeboot refuses, `--output-format=simple0`) but dom0 `{}` uses `xl`: \
                     give the guest mode = \"hvm\" (installed over the network by its emulated NIC) or \
                     mode = \"pv-pygrub\" (booting its own kernel), or run it on an xm dom0",
                    dom0.name
                ),
            ),
            _ => {}
        }
    }
}

/// Guest disks: in a volume group of the scheme, one volume each, within the free space.
fn check_guest_volumes(
    dom0: &Dom0,
    scheme: &crate::model::PartitionScheme,
    cap: &crate::model::Capacity,
    diags: &mut Diagnostics,
) {
    // Who already holds each volume: dom0's own, or a guest (by its path). Strings are only
    // made when there is something to report.
    let mut taken: HashMap<(&str, &str), Option<&FieldPath>> = scheme
        .logical_volumes
        .iter()
        .map(|lv| ((lv.vg.as_str(), lv.name.as_str()), None))
        .collect();
    let mut used: HashMap<&str, Size> = HashMap::default();
    for g in &dom0.guests {
        for (i, d) in g.disks.iter().enumerate() {
            let dp = || g.at.key("disks").elem(i, None);
            let Some(vg) = cap.volume_groups.iter().find(|v| v.name == d.vg) else {
                let known: Vec<&str> = scheme
                    .volume_groups
                    .iter()
                    .map(|v| v.name.as_str())
                    .collect();
                diags.error(
                    "unknown-reference",
                    dp().key("vg"),
                    format!(
                        "volume group `{}` is not in partition scheme `{}` of dom0 `{}` (it has `{}`)",
                        d.vg,
                        dom0.partitioning,
                        dom0.name,
                        known.join("`, `")
                    ),
                );
                continue;
            };
            if let Some(first) = taken.insert((d.vg.as_str(), d.lv.as_str()), Some(&g.at)) {
                let holder = first.map_or_else(
                    || format!("dom0's own `{}`", d.lv),
                    |p| format!("used by {p}"),
                );
                diags.error(
                    "duplicate-volume",
                    dp().key("lv"),
                    format!("logical volume `{}/{}` is also {holder}", d.vg, d.lv),
                );
            }
            if vg.system == vg.size {
                diags.error(
                    "vg-full",
                    dp().key("vg"),
                    format!("volume group `{}` on `{}` has no room for guests: one of dom0's own volumes grows into all of it", d.vg, dom0.name),
                );
                continue;
            }
            let total = used.entry(d.vg.as_str()).or_default();
            *total = total.saturating_add(d.size);
            if *total > vg.available() && total.saturating_sub(d.size) <= vg.available() {
                diags.error(
                    "vg-full",
                    dp().key("size"),
                    format!(
                        "disk `{}/{}` ({}) does not fit: volume group `{}` on `{}` has {} for guests and its guests need {} in all",
                        d.vg,
                        d.lv,
                        d.size,
                        d.vg,
                        dom0.name,
                        vg.available(),
                        vg.guests
                    ),
                );
            }
        }
    }
}

/// Memory: hypervisor + dom0 + guests within the RAM; names the first guest that overflows.
fn check_memory(
    dom0: &Dom0,
    cap: &crate::model::Capacity,
    hardware: &Ident,
    diags: &mut Diagnostics,
) {
    if cap.memory_used() <= cap.ram {
        return;
    }
    let summary = format!(
        "hypervisor {} + dom0 {} + guests {} = {} exceeds the {} of hardware `{hardware}`",
        cap.hypervisor_memory,
        cap.dom0_memory,
        cap.guest_memory,
        cap.memory_used(),
        cap.ram
    );
    let mut used = cap.hypervisor_memory.saturating_add(cap.dom0_memory);
    if used > cap.ram {
        diags.error("memory-exceeded", dom0.at.key("memory"), summary);
        return;
    }
    for g in &dom0.guests {
        used = used.saturating_add(g.memory);
        if used > cap.ram {
            diags.error(
                "memory-exceeded",
                g.at.key("memory"),
                format!("guest `{}` does not fit: {summary}", g.name),
            );
            return;
        }
    }
}

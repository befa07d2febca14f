//! What a dom0's firmware asks of its OS and its partition scheme: the legacy installers
//! (EL3 to EL5) install BIOS machines on msdos labels only, and an EFI System Partition a
//! scheme lists itself must be one the firmware and the installer can use.

use crate::diagnostic::{Diagnostics, FieldPath};
use crate::model::{
    ESP_MIN, ESP_MOUNT, Fabric, Firmware, FsType, GptReason, Ident, OsFamily, PartitionScheme,
    Role, boot_disks, gpt_reason,
};

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
    for dom0 in &fabric.dom0s {
        let (Some(os), Some(scheme), Some(hw)) = (
            fabric.os.get(&dom0.os),
            fabric.partition_schemes.get(&dom0.partitioning),
            fabric.hardware.get(&dom0.hardware),
        ) else {
            continue;
        };
        let firmware = fabric.firmware(dom0);
        // An ESP on a BIOS machine: anaconda cannot make one there (blivet's `EFIFS.supported`
        // is `arch.is_efi()`, formats/fs.py), and the Debian installer stops to ask whether
        // to go on in BIOS mode (partman-efi's `non_efi_system` question, at high priority).
        if firmware == Firmware::Bios && scheme.holder(ESP_MOUNT).is_some() {
            diags.error(
                "esp-unusable",
                dom0.at.key("partitioning"),
                format!(
                    "partition scheme `{}` has an EFI System Partition (/boot/efi) but `{}` starts by BIOS, where the installer cannot make one: leave /boot/efi out (xenfab adds one on uefi machines) or set `firmware = \"uefi\"`",
                    dom0.partitioning,
                    fabric.fqdn(&dom0.name)
                ),
            );
        }
        // The legacy installers: anaconda 11.1 (RHEL 5) and before install GRUB legacy on
        // x86 BIOS machines only. RHEL 5 has no UEFI install on x86-64 (its 2.6.18 kernel
        // lacks the x86-64 EFI boot path, which came with Linux 2.6.25 (arch/x86/kernel/
        // efi_64.c); UEFI installs on x86-64 came with RHEL 6, whose installer boots from
        // an ESP's EFI/BOOT/BOOTX64.EFI, which RHEL 5's media have none of: the RHEL 6
        // Installation Guide's UEFI sections, no such section in RHEL 5's; section numbers
        // not checked here), and anaconda 11.1 labels x86 disks msdos
        // (`partedUtils.py`, `getDefaultDiskType`: `gpt` on ia64 only), which GRUB 0.97
        // boots from (its stage2 reads PC partition tables).
        let legacy = matches!(os.family, OsFamily::El3 | OsFamily::El4 | OsFamily::El5);
        if !legacy {
            // EL9 on a BIOS machine with GPT: a BIOS boot partition on each disk of /boot
            // (model/boot_partitions.rs), and a kickstart names two at most (`part biosboot`,
            // `part None --fstype=biosboot`: pykickstart warns about a repeated mount point)
            if os.family == OsFamily::El9
                && firmware == Firmware::Bios
                && gpt_reason(scheme, hw, firmware).is_some()
            {
                let disks = boot_disks(scheme);
                if disks.len() > 2 {
                    diags.error(
                        "disk-label-unsupported",
                        dom0.at.key("partitioning"),
                        format!(
                            "partition scheme `{}` puts /boot on {} disks of a GPT label, each of which needs a BIOS boot partition for GRUB2, and a kickstart file can name only two (pykickstart refuses a third `part biosboot`): keep /boot on at most two disks",
                            dom0.partitioning,
                            disks.len()
                        ),
                    );
                }
            }
            continue;
        }
        let why = match gpt_reason(scheme, hw, firmware) {
            None => continue,
            Some(GptReason::Uefi) => {
                let path = if dom0.firmware.is_some() {
                    dom0.at.key("firmware")
                } else {
                    FieldPath::root()
                        .key("hardware")
                        .entry(dom0.hardware.as_str())
                        .key("firmware")
                };
                diags.error(
                    "firmware-unsupported",
                    path,
                    format!(
                        "`{}` is a uefi machine but os `{}` (release {}) installs on BIOS machines only (UEFI installs came with RHEL 6): set the dom0's `firmware = \"bios\"` and start the machine in its legacy mode (CSM), or give it an EL9 or Debian release",
                        fabric.fqdn(&dom0.name),
                        dom0.os,
                        os.release
                    ),
                );
                continue;
            }
            Some(GptReason::Scheme) => format!(
                "partition scheme `{}` asks for a gpt label",
                dom0.partitioning
            ),
            Some(GptReason::LargeDisk { disk, size }) => format!(
                "disk `{disk}` ({size}) of hardware `{}` is larger than the 2 TiB an msdos label addresses, so it needs a gpt label",
                dom0.hardware
            ),
        };
        diags.error(
            "disk-label-unsupported",
            dom0.at.key("partitioning"),
            format!(
                "{why}, and the installer of os `{}` (release {}) labels disks msdos and installs GRUB legacy, which cannot boot from gpt: use an msdos scheme on disks up to 2 TiB, or an EL9 or Debian release",
                dom0.os, os.release
            ),
        );
    }
}

/// An EFI System Partition a scheme lists itself: on a partition (not an array or a logical
/// volume: the firmware reads it as a plain FAT partition, and xenfab does not write md's
/// metadata 1.0 that would let it), formatted `efi`, at least [`ESP_MIN`]; and `efi` on
/// nothing but `/boot/efi`.
pub(super) fn check_scheme_esp(s: &PartitionScheme, path: &FieldPath, diags: &mut Diagnostics) {
    let is_efi = |role: &Role| {
        matches!(
            role,
            Role::Mount {
                fstype: FsType::Efi,
                ..
            }
        )
    };
    let is_esp = |role: &Role| role.mount().is_some_and(|m| m.as_str() == ESP_MOUNT);
    for (i, p) in s.partitions.iter().enumerate() {
        let pp = || {
            path.key("partitions")
                .elem(i, p.id.as_ref().map(Ident::as_str))
        };
        if is_esp(&p.role) && !is_efi(&p.role) {
            diags.error(
                "esp-unusable",
                pp().key("fstype"),
                "the EFI System Partition /boot/efi must be formatted `efi` (FAT): set `fstype = \"efi\"`",
            );
        } else if is_efi(&p.role) && !is_esp(&p.role) {
            diags.error(
                "esp-unusable",
                pp().key("mount"),
                "file system `efi` is the EFI System Partition's: mount it at /boot/efi",
            );
        } else if is_esp(&p.role) && p.size < ESP_MIN && !p.grow {
            diags.error(
                "esp-unusable",
                pp().key("size"),
                format!(
                    "the EFI System Partition has {}, below the {ESP_MIN} anaconda formats (blivet's EFIFS): make it bigger (xenfab's own is 600M on EL9)",
                    p.size
                ),
            );
        }
    }
    for (i, r) in s.raids.iter().enumerate() {
        if is_esp(&r.role) || is_efi(&r.role) {
            diags.error(
                "esp-unusable",
                path.key("raids").elem(i, Some(r.device.as_str())),
                "the EFI System Partition must be a partition: the firmware reads it without md (leave /boot/efi out of the scheme and xenfab puts one on the first boot disk)",
            );
        }
    }
    for (i, l) in s.logical_volumes.iter().enumerate() {
        if is_esp(&l.role) || is_efi(&l.role) {
            diags.error(
                "esp-unusable",
                path.key("logical_volumes").elem(i, Some(l.name.as_str())),
                "the EFI System Partition must be a partition: the firmware cannot read a logical volume",
            );
        }
    }
}

//! The partitions a dom0's firmware needs besides its partition scheme's, and the partition
//! table they go on: one place that every consumer (the kickstart and preseed renderers,
//! capacity, validation, GRUB) asks, [`Fabric::layout`].
//!
//! - **UEFI**: a GPT label and an EFI System Partition (`/boot/efi`, FAT: kickstart's
//!   `--fstype=efi`, partman's `method{ efi }`) first on the boot disk, sized per installer
//!   ([`esp_size`]). UEFI boots from a GPT disk's ESP (anaconda's `platform.py`, class `EFI`:
//!   `_disklabel_types = ["gpt"]`, `_boot_stage1_mountpoints = ["/boot/efi"]`).
//! - **BIOS on GPT** (a scheme's `disk_label = "gpt"`, or a disk over 2 TiB, which an msdos
//!   label cannot address: 2^32 sectors of 512 bytes): a 1 MiB BIOS boot partition first on
//!   each boot disk, where GRUB2 puts its core image (anaconda's `platform.py`, class `X86`,
//!   `set_platform_bootloader_reqs`: `PartSpec(fstype="biosboot", size=Size("1MiB"))`; GRUB2
//!   installs on every disk of a RAID-1 `/boot`, so each gets one).
//! - **BIOS on msdos** (the seed): the scheme as it is.
//!
//! A scheme that lists `/boot/efi` itself keeps its own ESP; validation checks it
//! (`esp-unusable`).
//!
//! **Software RAID-1 on UEFI**: the ESP is on the first boot disk only. anaconda could put
//! `/boot/efi` on a RAID-1 array with metadata 1.0 (`platform.py`, class `EFI`:
//! `_boot_stage1_device_types = ["partition", "mdarray"]`, `_boot_stage1_raid_metadata =
//! ["1.0"]`), whose members the firmware reads as plain FAT partitions; but whatever writes
//! to the ESP outside Linux (the firmware itself, its boot manager) writes to one member
//! behind md's back, leaving the mirror out of step, and the Debian installer's
//! partman-auto-raid recipes have no way to say metadata 1.0. With one ESP, a dead first
//! disk needs the ESP made again on the second (`grub2-install`/`efibootmgr` from rescue mode)
//! before the machine boots from it; the system's arrays themselves survive.

use std::borrow::Cow;

use super::fabric::{Dom0, Fabric, Hardware, OsFamily};
use super::firmware::Firmware;
use super::names::Ident;
use super::partition::{DiskLabel, FsType, Holder, Partition, PartitionScheme, Role};
use super::size::Size;

/// The largest disk an msdos label addresses: 2^32 sectors of 512 bytes (2 TiB), in MiB.
pub const MSDOS_MAX_MIB: u64 = 2 * 1024 * 1024;

/// The mount point of the EFI System Partition.
pub const ESP_MOUNT: &str = "/boot/efi";

/// The size of the BIOS boot partition: anaconda's `platform.py`, class `X86`,
/// `set_platform_bootloader_reqs` (`Size("1MiB")`).
pub const BIOSBOOT_MIB: u64 = 1;

/// The size of the EFI System Partition xenfab adds, by installer family.
///
/// - EL9: 600 MiB, what anaconda's own automatic partitioning makes on any disk that has
///   room (`modules/storage/platform.py`, class `EFI`, `set_platform_bootloader_reqs`:
///   `PartSpec(mountpoint="/boot/efi", fstype="efi", size=Size("200MiB"),
///   max_size=Size("600MiB"), grow=True)`).
/// - Debian: 513 MiB, which a recipe writes as 538 decimal MB, the smallest size of
///   partman-auto 162's own ESP (`recipes-amd64-efi/30atomic`: `538 538 1075 free
///   $iflabel{ gpt } $reusemethod{ } method{ efi } format{ } .`).
/// - EL3 to EL5 have no UEFI install (validation: `firmware-unsupported`); anaconda's size
///   is given so that nothing panics.
pub const fn esp_size(family: OsFamily) -> Size {
    match family {
        OsFamily::Debian => Size::from_mib(513),
        OsFamily::El3 | OsFamily::El4 | OsFamily::El5 | OsFamily::El9 => Size::from_mib(600),
    }
}

/// The smallest EFI System Partition anaconda formats: blivet's `formats/fs.py`, class
/// `EFIFS`, `_min_size = Size("50 MiB")`. Also what validation asks of a scheme's own ESP on
/// Debian (partman-efi sets no minimum; GRUB's and shim's EFI files take a few MiB).
pub const ESP_MIN: Size = Size::from_mib(50);

impl Fabric {
    /// The layout a dom0's installer makes: its partition scheme with the partitions its
    /// firmware needs added in front on the boot disk(s), and the label of its disks (see
    /// the module's documentation). `None` when the dom0 names an unknown scheme or
    /// hardware profile (validation reports it).
    pub fn layout(&self, dom0: &Dom0) -> Option<Cow<'_, PartitionScheme>> {
        let scheme = self.partition_schemes.get(&dom0.partitioning)?;
        let hw = self.hardware.get(&dom0.hardware)?;
        let family = self.os.get(&dom0.os).map_or(OsFamily::El9, |o| o.family);
        Some(boot_layout(scheme, hw, self.firmware(dom0), family))
    }
}

/// Why a scheme is laid out on GPT, or `None` for msdos.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GptReason {
    /// The firmware is UEFI.
    Uefi,
    /// The scheme says `disk_label = "gpt"`.
    Scheme,
    /// This disk of the scheme is larger than 2 TiB.
    LargeDisk {
        /// The disk's name as the installer sees it.
        disk: String,
        /// Its size.
        size: Size,
    },
}

/// Why `scheme` on `hw` with `firmware` needs a GPT label, if it does.
pub fn gpt_reason(
    scheme: &PartitionScheme,
    hw: &Hardware,
    firmware: Firmware,
) -> Option<GptReason> {
    if firmware == Firmware::Uefi {
        return Some(GptReason::Uefi);
    }
    if scheme.label == DiskLabel::Gpt {
        return Some(GptReason::Scheme);
    }
    hw.visible_disks()
        .into_iter()
        .find(|(name, size)| {
            size.mib() > MSDOS_MAX_MIB && scheme.partitions.iter().any(|p| p.disk.as_str() == *name)
        })
        .map(|(disk, size)| GptReason::LargeDisk {
            disk: disk.to_owned(),
            size,
        })
}

/// The layout of `scheme` on `hw` for `firmware` and an installer of `family`: the scheme
/// itself on BIOS with msdos (borrowed, so that the seed renders as before), otherwise a copy
/// on GPT with an ESP (UEFI) or BIOS boot partitions (BIOS) in front.
pub fn boot_layout<'a>(
    scheme: &'a PartitionScheme,
    hw: &Hardware,
    firmware: Firmware,
    family: OsFamily,
) -> Cow<'a, PartitionScheme> {
    if gpt_reason(scheme, hw, firmware).is_none() {
        return Cow::Borrowed(scheme);
    }
    let mut out = scheme.clone();
    out.label = DiskLabel::Gpt;
    let disks = boot_disks(scheme);
    match firmware {
        Firmware::Uefi => {
            if scheme.holder(ESP_MOUNT).is_none() {
                if let Some(disk) = disks.first() {
                    out.partitions.insert(
                        0,
                        Partition {
                            id: None,
                            disk: disk.clone(),
                            size: esp_size(family),
                            grow: false,
                            primary: true,
                            role: Role::Mount {
                                mount: super::partition::esp_mount(),
                                fstype: FsType::Efi,
                            },
                        },
                    );
                }
            }
        }
        Firmware::Bios => {
            let has = |d: &Ident| {
                scheme
                    .partitions
                    .iter()
                    .any(|p| p.role == Role::BiosBoot && p.disk == *d)
            };
            for disk in disks.iter().rev().filter(|d| !has(d)) {
                // in front of the disk's first partition, so that it is partition 1 there
                let at = out
                    .partitions
                    .iter()
                    .position(|p| p.disk == *disk)
                    .unwrap_or(0);
                out.partitions.insert(
                    at,
                    Partition {
                        id: None,
                        disk: disk.clone(),
                        size: Size::from_mib(BIOSBOOT_MIB),
                        grow: false,
                        primary: true,
                        role: Role::BiosBoot,
                    },
                );
            }
        }
    }
    Cow::Owned(out)
}

/// The disks the boot loader is installed on: those of the partitions holding `/boot` (or
/// `/` without it), each member's of a RAID array, in the scheme's order; the scheme's first
/// disk when `/boot` is on a logical volume or missing.
pub fn boot_disks(scheme: &PartitionScheme) -> Vec<Ident> {
    let holder = scheme.holder("/boot").or_else(|| scheme.holder("/"));
    let mut disks: Vec<Ident> = Vec::new();
    let mut add = |d: &Ident| {
        if !disks.contains(d) {
            disks.push(d.clone());
        }
    };
    match holder {
        Some(Holder::Partition(i)) => add(&scheme.partitions[i].disk),
        Some(Holder::Raid(r)) => {
            for m in &r.members {
                if let Some((_, p)) = scheme.partition_by_id(m) {
                    add(&p.disk);
                }
            }
        }
        Some(Holder::LogicalVolume(_)) | None => {}
    }
    if disks.is_empty() {
        if let Some(p) = scheme.partitions.first() {
            disks.push(p.disk.clone());
        }
    }
    disks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{builtin_scheme as builtin, hardware};

    #[test]
    fn bios_on_msdos_is_the_scheme_itself() {
        let s = builtin("seed-softraid1");
        let hw = hardware(&[("sda", 73_000), ("sdb", 73_000)]);
        let l = boot_layout(&s, &hw, Firmware::Bios, OsFamily::El5);
        assert!(matches!(l, Cow::Borrowed(_)));
        assert_eq!(l.label, DiskLabel::Msdos);
    }

    #[test]
    fn uefi_puts_an_esp_first_on_the_first_boot_disk() {
        let s = builtin("seed-softraid1");
        let hw = hardware(&[("sda", 73_000), ("sdb", 73_000)]);
        let l = boot_layout(&s, &hw, Firmware::Uefi, OsFamily::El9);
        assert_eq!(l.label, DiskLabel::Gpt);
        assert_eq!(l.partitions.len(), s.partitions.len() + 1);
        let esp = &l.partitions[0];
        assert_eq!(esp.disk.as_str(), "sda");
        assert_eq!(esp.size.mib(), 600);
        assert!(matches!(l.holder("/boot/efi"), Some(Holder::Partition(0))));
        // GPT numbers every partition in order, past four
        assert_eq!(l.partition_number(0), Some(1));
        assert_eq!(l.partition_number(1), Some(2)); // raid.01: /boot's member on sda
        assert_eq!(l.partition_number(4), Some(5)); // raid.04, logical on msdos
        assert_eq!(l.partition_number(5), Some(1)); // raid.11, first on sdb
        let d = boot_layout(&s, &hw, Firmware::Uefi, OsFamily::Debian);
        assert_eq!(d.partitions[0].size.mib(), 513);
    }

    #[test]
    fn bios_on_gpt_gets_a_biosboot_partition_on_each_boot_disk() {
        let s = builtin("seed-softraid1");
        let big = hardware(&[("sda", 3 * 1024 * 1024), ("sdb", 3 * 1024 * 1024)]);
        assert_eq!(
            gpt_reason(&s, &big, Firmware::Bios),
            Some(GptReason::LargeDisk {
                disk: "sda".to_owned(),
                size: Size::from_mib(3 * 1024 * 1024)
            })
        );
        let l = boot_layout(&s, &big, Firmware::Bios, OsFamily::El9);
        assert_eq!(l.label, DiskLabel::Gpt);
        let bb: Vec<_> = l
            .partitions
            .iter()
            .enumerate()
            .filter(|(_, p)| p.role == Role::BiosBoot)
            .map(|(i, p)| (p.disk.as_str(), l.partition_number(i)))
            .collect();
        assert_eq!(bb, [("sda", Some(1)), ("sdb", Some(1))]);
        let mut hw10 = builtin("seed-hwraid10");
        hw10.label = DiskLabel::Gpt;
        let one = hardware(&[("sda", 300_000)]);
        let l = boot_layout(&hw10, &one, Firmware::Bios, OsFamily::El9);
        assert_eq!(l.partitions[0].role, Role::BiosBoot);
        assert_eq!(l.partition_number(1), Some(2)); // /boot
    }

    #[test]
    fn a_schemes_own_esp_is_kept() {
        let mut s = builtin("seed-hwraid10");
        s.partitions.insert(
            0,
            Partition {
                id: None,
                disk: "sda".parse().unwrap(),
                size: Size::from_mib(300),
                grow: false,
                primary: true,
                role: Role::Mount {
                    mount: "/boot/efi".parse().unwrap(),
                    fstype: FsType::Efi,
                },
            },
        );
        let hw = hardware(&[("sda", 300_000)]);
        let l = boot_layout(&s, &hw, Firmware::Uefi, OsFamily::El9);
        assert_eq!(l.partitions.len(), s.partitions.len());
        assert_eq!(l.partitions[0].size.mib(), 300);
    }
}

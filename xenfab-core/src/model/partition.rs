//! Partition schemes: partitions, software RAID, volume groups and logical volumes, and the
//! seed's two layouts as built-ins.

use serde::{Deserialize, Serialize};

use super::names::{Ident, LvmName};
use super::size::Size;

/// How a dom0's disks are laid out, in the terms a kickstart file uses.
#[derive(Debug, Clone, Serialize)]
pub struct PartitionScheme {
    /// Disk partitions.
    pub partitions: Vec<Partition>,
    /// Software RAID arrays over partitions.
    pub raids: Vec<RaidArray>,
    /// LVM volume groups over partitions or arrays.
    pub volume_groups: Vec<VolumeGroup>,
    /// dom0's own logical volumes (guest volumes are not part of the scheme).
    pub logical_volumes: Vec<LogicalVolume>,
    /// The partition table of its disks: msdos unless the scheme says `disk_label = "gpt"`;
    /// [`crate::model::Fabric::layout`] makes it GPT where the firmware or a disk needs it.
    #[serde(skip_serializing_if = "DiskLabel::is_msdos")]
    pub label: DiskLabel,
}

/// A disk's partition table.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum DiskLabel {
    /// The PC's MBR table (the seed's): four primary partitions, the fifth and later ones
    /// logical, disks up to 2 TiB.
    #[default]
    Msdos,
    /// The GUID partition table (UEFI's, and BIOS machines' with a `biosboot` partition for
    /// GRUB2): 128 partitions, no primary/logical distinction.
    Gpt,
}

impl DiskLabel {
    /// Its name in the fabric file and in kickstart's `clearpart --disklabel`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DiskLabel::Msdos => "msdos",
            DiskLabel::Gpt => "gpt",
        }
    }

    /// True for [`DiskLabel::Msdos`], the default the inventory leaves out.
    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
    pub fn is_msdos(&self) -> bool {
        *self == DiskLabel::Msdos
    }
}

impl PartitionScheme {
    /// The number the installer gives partition `index` on its disk, where xenfab can be
    /// sure of it. On an msdos label: the partition and every one listed before it on the
    /// same disk are primary (`--asprimary`), which anaconda numbers 1 to 4 in the order they
    /// are listed. This is what the seed relies on for `/boot` (`root (hd0,0)`). On a GPT
    /// label every partition is numbered in the order listed, with no limit of four (GPT has
    /// no extended partition: blivet's `PartitionDevice` on a `gpt` disklabel is always a
    /// normal one); the ESP or `biosboot` partition [`crate::model::Fabric::layout`] adds is
    /// listed first, as anaconda places it (blivet's `partitioning.py` sorts requests by
    /// `weight`, and anaconda's `platform.py` gives `/boot/efi` and `biosboot` 5000, more than
    /// `/boot`'s 2000).
    pub fn partition_number(&self, index: usize) -> Option<u32> {
        let part = self.partitions.get(index)?;
        let mut n = 0;
        for p in self.partitions[..=index]
            .iter()
            .filter(|p| p.disk == part.disk)
        {
            if !p.primary && self.label == DiskLabel::Msdos {
                return None;
            }
            n += 1;
        }
        Some(n).filter(|&n| n <= 4 || self.label == DiskLabel::Gpt)
    }

    /// Where a file system is mounted: the partition, array or logical volume holding `mount`.
    pub fn holder(&self, mount: &str) -> Option<Holder<'_>> {
        let is = |r: &Role| r.mount().is_some_and(|m| m.as_str() == mount);
        if let Some(i) = self.partitions.iter().position(|p| is(&p.role)) {
            return Some(Holder::Partition(i));
        }
        if let Some(r) = self.raids.iter().find(|r| is(&r.role)) {
            return Some(Holder::Raid(r));
        }
        self.logical_volumes
            .iter()
            .find(|l| is(&l.role))
            .map(Holder::LogicalVolume)
    }

    /// The partition with id `id`, and its index.
    pub fn partition_by_id(&self, id: &Ident) -> Option<(usize, &Partition)> {
        self.partitions
            .iter()
            .enumerate()
            .find(|(_, p)| p.id.as_ref() == Some(id))
    }
}

/// What holds a file system.
#[derive(Debug, Clone, Copy)]
pub enum Holder<'a> {
    /// The partition at this index of [`PartitionScheme::partitions`].
    Partition(usize),
    /// A software RAID array.
    Raid(&'a RaidArray),
    /// A logical volume.
    LogicalVolume(&'a LogicalVolume),
}

/// A disk partition.
#[derive(Debug, Clone, Serialize)]
pub struct Partition {
    /// The name RAID arrays and volume groups refer to it by (`raid.01`, `pv.02`).
    pub id: Option<Ident>,
    /// The disk it is on.
    pub disk: Ident,
    /// Its size, or its smallest size when it grows.
    pub size: Size,
    /// Whether it takes the rest of the disk.
    pub grow: bool,
    /// Whether it must be a primary partition.
    pub primary: bool,
    /// What it holds.
    pub role: Role,
}

/// A software RAID array.
#[derive(Debug, Clone, Serialize)]
pub struct RaidArray {
    /// The name volume groups refer to it by, when it is a physical volume (`pv.01`).
    pub id: Option<Ident>,
    /// Its md device (`md0`).
    pub device: Ident,
    /// Its RAID level.
    pub level: RaidLevel,
    /// The ids of its member partitions.
    pub members: Vec<Ident>,
    /// What it holds.
    pub role: Role,
}

/// A software RAID level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum RaidLevel {
    /// Striping, no redundancy.
    #[serde(rename = "raid0")]
    Raid0,
    /// Mirroring.
    #[serde(rename = "raid1")]
    Raid1,
    /// Striping with one parity block.
    #[serde(rename = "raid5")]
    Raid5,
    /// Striping with two parity blocks.
    #[serde(rename = "raid6")]
    Raid6,
    /// Mirrored pairs, striped.
    #[serde(rename = "raid10")]
    Raid10,
}

impl RaidLevel {
    /// The fewest members an array of this level can have.
    pub const fn min_members(self) -> usize {
        match self {
            RaidLevel::Raid0 | RaidLevel::Raid1 | RaidLevel::Raid10 => 2,
            RaidLevel::Raid5 => 3,
            RaidLevel::Raid6 => 4,
        }
    }

    /// The usable capacity of an array of `members` members whose smallest is `smallest`.
    pub fn capacity(self, members: usize, smallest: Size) -> Size {
        let n = members as u64;
        let s = smallest.mib();
        Size::from_mib(match self {
            RaidLevel::Raid0 => n * s,
            RaidLevel::Raid1 => s,
            RaidLevel::Raid5 => n.saturating_sub(1) * s,
            RaidLevel::Raid6 => n.saturating_sub(2) * s,
            RaidLevel::Raid10 => n / 2 * s,
        })
    }

    /// The number in `RAID1`, `raid10` and so on.
    pub const fn number(self) -> u8 {
        match self {
            RaidLevel::Raid0 => 0,
            RaidLevel::Raid1 => 1,
            RaidLevel::Raid5 => 5,
            RaidLevel::Raid6 => 6,
            RaidLevel::Raid10 => 10,
        }
    }
}

/// A volume group.
#[derive(Debug, Clone, Serialize)]
pub struct VolumeGroup {
    /// Its name.
    pub name: LvmName,
    /// The ids of its physical volumes (partitions or RAID arrays).
    pub pvs: Vec<Ident>,
    /// Its physical extent size (4M unless given).
    pub pe_size: Size,
}

/// A logical volume of dom0's own system.
#[derive(Debug, Clone, Serialize)]
pub struct LogicalVolume {
    /// Its name (`sysroot`).
    pub name: LvmName,
    /// Its volume group.
    pub vg: LvmName,
    /// Its size, or its smallest size when it grows.
    pub size: Size,
    /// Whether it takes the rest of the volume group.
    pub grow: bool,
    /// What it holds: a file system or swap.
    pub role: Role,
}

/// What a partition, array or logical volume holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Role {
    /// A file system mounted at `mount`.
    Mount {
        /// The mount point.
        mount: MountPoint,
        /// The file system type.
        fstype: FsType,
    },
    /// Swap space.
    Swap,
    /// A member of a software RAID array.
    RaidMember,
    /// An LVM physical volume.
    PhysicalVolume,
    /// The BIOS boot partition GRUB2 puts its core image in on a GPT disk of a BIOS machine
    /// (kickstart's `part biosboot --fstype=biosboot`, partman's `method{ biosgrub }`).
    BiosBoot,
}

impl Role {
    /// The mount point, for file systems.
    pub fn mount(&self) -> Option<&MountPoint> {
        match self {
            Role::Mount { mount, .. } => Some(mount),
            _ => None,
        }
    }
}

/// An absolute mount point such as `/var/lib/xen/save`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct MountPoint(String);

impl MountPoint {
    /// The mount point.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when a file at `path` lives on this mount point's file system or below it.
    pub fn covers(&self, path: &str) -> bool {
        mount_covers(&self.0, path)
    }
}

/// True when a file at `path` lives on the file system mounted at `mount` or below it.
pub fn mount_covers(mount: &str, path: &str) -> bool {
    mount == "/"
        || path == mount
        || path
            .strip_prefix(mount)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl std::str::FromStr for MountPoint {
    type Err = String;

    fn from_str(s: &str) -> Result<MountPoint, String> {
        // At most 1024 bytes, and each component at most 255 (`NAME_MAX`) and not beginning
        // with `-`, which the kickstart's `part`/`logvol` line would read as an option.
        let ok = s == "/"
            || (s.starts_with('/')
                && s.len() <= 1024
                && s[1..].split('/').all(|c| {
                    !c.is_empty()
                        && c.len() <= 255
                        && c != "."
                        && c != ".."
                        && !c.starts_with('-')
                        && c.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
                }));
        if ok {
            Ok(MountPoint(s.to_owned()))
        } else {
            Err(format!(
                "invalid mount point `{}`: expected an absolute path of `A-Za-z0-9._-` components, none beginning with `-`, at most 1024 characters",
                s.chars().take(40).collect::<String>().escape_debug()
            ))
        }
    }
}

impl std::fmt::Display for MountPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A file system type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FsType {
    /// ext2 (the seed's `/boot`).
    Ext2,
    /// ext3 (the seed's other file systems).
    Ext3,
    /// ext4.
    Ext4,
    /// XFS (the default of current anaconda).
    Xfs,
    /// The FAT file system of an EFI System Partition (`/boot/efi`): anaconda's `efi` format
    /// (kickstart `--fstype=efi`: anaconda's `platform.py`, class `EFI`,
    /// `_boot_stage1_format_types = ["efi"]`), partman's `method{ efi }`.
    Efi,
}

impl FsType {
    /// The name kickstart files use.
    pub const fn as_str(self) -> &'static str {
        match self {
            FsType::Ext2 => "ext2",
            FsType::Ext3 => "ext3",
            FsType::Ext4 => "ext4",
            FsType::Xfs => "xfs",
            FsType::Efi => "efi",
        }
    }
}

/// The names of the built-in partition schemes.
pub const BUILTIN_SCHEMES: [&str; 2] = ["seed-softraid1", "seed-hwraid10"];

/// The seed's built-in partition schemes, by name.
///
/// - `seed-softraid1`: software RAID-1 over `sda` and `sdb` (the seed's PE-1950): `/boot` on
///   md0 (ext2, 512M), `/` on md1 (ext3, 8G), md2 (24G) as the physical volume of `systemvg`
///   with swap, `/tmp`, `/var` and `/var/lib/xen/save`, md3 growing as `xenvg` for the guests.
/// - `seed-hwraid10`: one disk `sda` as a hardware RAID-10 controller shows it (the seed's
///   PE-2950): `/boot` (ext2, 256M), `pv.01` (72G) as `systemvg` with `/`, `/var/lib/xen/save`,
///   `/var`, `/tmp` and swap, `pv.02` growing as `xenvg`.
pub fn builtin_schemes() -> Vec<(Ident, PartitionScheme)> {
    vec![
        (ident("seed-softraid1"), seed_softraid1()),
        (ident("seed-hwraid10"), seed_hwraid10()),
    ]
}

fn ident(s: &str) -> Ident {
    s.parse()
        .unwrap_or_else(|e| unreachable!("built-in name {s}: {e}"))
}

fn lvm(s: &str) -> LvmName {
    s.parse()
        .unwrap_or_else(|e| unreachable!("built-in LVM name {s}: {e}"))
}

/// `/boot/efi`, the EFI System Partition's mount point.
pub(crate) fn esp_mount() -> MountPoint {
    MountPoint(super::boot_partitions::ESP_MOUNT.to_owned())
}

fn mount(path: &str, fstype: FsType) -> Role {
    Role::Mount {
        mount: MountPoint(path.to_owned()),
        fstype,
    }
}

fn part(
    id: Option<&str>,
    disk: &str,
    mib: u64,
    grow: bool,
    primary: bool,
    role: Role,
) -> Partition {
    Partition {
        id: id.map(ident),
        disk: ident(disk),
        size: Size::from_mib(mib),
        grow,
        primary,
        role,
    }
}

fn lv(name: &str, vg: &str, mib: u64, role: Role) -> LogicalVolume {
    LogicalVolume {
        name: lvm(name),
        vg: lvm(vg),
        size: Size::from_mib(mib),
        grow: false,
        role,
    }
}

fn vg(name: &str, pv: &str) -> VolumeGroup {
    VolumeGroup {
        name: lvm(name),
        pvs: vec![ident(pv)],
        pe_size: Size::from_mib(4),
    }
}

fn seed_softraid1() -> PartitionScheme {
    let mut partitions = Vec::new();
    for (disk, base) in [("sda", 0), ("sdb", 10)] {
        let id = |n: u32| format!("raid.{:02}", base + n);
        partitions.push(part(Some(&id(1)), disk, 512, false, true, Role::RaidMember));
        partitions.push(part(
            Some(&id(2)),
            disk,
            8192,
            false,
            true,
            Role::RaidMember,
        ));
        partitions.push(part(
            Some(&id(3)),
            disk,
            24576,
            false,
            false,
            Role::RaidMember,
        ));
        partitions.push(part(Some(&id(4)), disk, 1, true, false, Role::RaidMember));
    }
    let raid = |id: Option<&str>, device: &str, members: [&str; 2], role: Role| RaidArray {
        id: id.map(ident),
        device: ident(device),
        level: RaidLevel::Raid1,
        members: members.into_iter().map(ident).collect(),
        role,
    };
    PartitionScheme {
        partitions,
        raids: vec![
            raid(
                None,
                "md0",
                ["raid.01", "raid.11"],
                mount("/boot", FsType::Ext2),
            ),
            raid(
                None,
                "md1",
                ["raid.02", "raid.12"],
                mount("/", FsType::Ext3),
            ),
            raid(
                Some("pv.01"),
                "md2",
                ["raid.03", "raid.13"],
                Role::PhysicalVolume,
            ),
            raid(
                Some("pv.02"),
                "md3",
                ["raid.04", "raid.14"],
                Role::PhysicalVolume,
            ),
        ],
        volume_groups: vec![vg("systemvg", "pv.01"), vg("xenvg", "pv.02")],
        label: DiskLabel::Msdos,
        logical_volumes: vec![
            lv("sysswap", "systemvg", 2048, Role::Swap),
            lv("systmp", "systemvg", 4096, mount("/tmp", FsType::Ext3)),
            lv("sysvar", "systemvg", 4096, mount("/var", FsType::Ext3)),
            lv(
                "sysxensave",
                "systemvg",
                10240,
                mount("/var/lib/xen/save", FsType::Ext3),
            ),
        ],
    }
}

fn seed_hwraid10() -> PartitionScheme {
    PartitionScheme {
        partitions: vec![
            part(None, "sda", 256, false, true, mount("/boot", FsType::Ext2)),
            part(
                Some("pv.01"),
                "sda",
                73728,
                false,
                true,
                Role::PhysicalVolume,
            ),
            part(Some("pv.02"), "sda", 1, true, false, Role::PhysicalVolume),
        ],
        raids: Vec::new(),
        volume_groups: vec![vg("systemvg", "pv.01"), vg("xenvg", "pv.02")],
        label: DiskLabel::Msdos,
        logical_volumes: vec![
            lv("sysroot", "systemvg", 8192, mount("/", FsType::Ext3)),
            lv(
                "sysxensave",
                "systemvg",
                16384,
                mount("/var/lib/xen/save", FsType::Ext3),
            ),
            lv("sysvar", "systemvg", 4096, mount("/var", FsType::Ext3)),
            lv("systmp", "systemvg", 2048, mount("/tmp", FsType::Ext3)),
            lv("sysswap", "systemvg", 4096, Role::Swap),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points() {
        let var: MountPoint = "/var".parse().unwrap();
        assert!(var.covers("/var/lib/xen/save"));
        assert!(!var.covers("/variable"));
        assert!("/".parse::<MountPoint>().unwrap().covers("/anything"));
        let long = format!("/{}", "a".repeat(256));
        let longer = "/a".repeat(513);
        for bad in [
            "var", "/var/", "/a//b", "/a/../b", "/a b", "/a;b", "/-x", "/a/--y", &long, &longer,
        ] {
            assert!(bad.parse::<MountPoint>().is_err(), "{bad}");
        }
    }

    #[test]
    fn partition_numbers_are_known_only_after_primaries() {
        let hw = seed_hwraid10();
        assert_eq!(hw.partition_number(0), Some(1)); // /boot
        assert_eq!(hw.partition_number(1), Some(2)); // pv.01
        assert_eq!(hw.partition_number(2), None); // pv.02 is not primary
        let soft = seed_softraid1();
        assert_eq!(soft.partition_number(0), Some(1)); // raid.01 on sda
        assert_eq!(soft.partition_number(4), Some(1)); // raid.11 on sdb
        assert_eq!(soft.partition_number(3), None); // raid.04 follows the logical raid.03
        assert!(matches!(soft.holder("/"), Some(Holder::Raid(r)) if r.device.as_str() == "md1"));
        assert!(
            matches!(hw.holder("/"), Some(Holder::LogicalVolume(l)) if l.name.as_str() == "sysroot")
        );
        assert!(matches!(hw.holder("/boot"), Some(Holder::Partition(0))));
    }

    #[test]
    fn raid_capacity() {
        let s = Size::from_mib(100);
        assert_eq!(RaidLevel::Raid1.capacity(2, s).mib(), 100);
        assert_eq!(RaidLevel::Raid5.capacity(4, s).mib(), 300);
        assert_eq!(RaidLevel::Raid6.capacity(4, s).mib(), 200);
        assert_eq!(RaidLevel::Raid10.capacity(4, s).mib(), 200);
        assert_eq!(RaidLevel::Raid0.capacity(3, s).mib(), 300);
    }
}

//! What the Debian installer's partitioner can build of a partition scheme: the partman-auto
//! recipes of a Debian dom0's preseed file, or why there are none.
//!
//! partman-auto (bookworm: partman-auto 162, partman-auto-lvm 91, partman-auto-raid 51) builds
//! a layout from a *recipe* (`partman-auto/expert_recipe`, doc/recipes.txt of partman-auto;
//! the Debian installation guide, appendix B, "example-preseed.txt"), with one of its methods:
//!
//! - **`lvm`** (partman-auto-lvm's `auto_lvm_prepare`/`auto_lvm_perform`, read in its 91 udeb):
//!   the partitions of the first disk of `partman-auto/disk`, the physical volumes
//!   (`method{ lvm }`) of any of its disks (`device{ /dev/sdb5 }`: the partition, so that two
//!   groups on one disk each get their own), each in the volume group of
//!   its `vg_name{ }`, and dom0's logical volumes (`$lvmok{ }`, `lv_name{ }`) in the group of
//!   their `in_vg{ }`. It refuses a recipe without a `$lvmok{ }` line. The seed's hardware
//!   RAID-10 layout and LVM on one disk are this.
//! - **`raid`** (partman-auto-raid; example-preseed.txt "Partitioning using RAID" and the
//!   README of partman-auto-raid, "LVM over RAID"): one recipe applied to every disk of
//!   `partman-auto/disk` alike (`method{ raid }` partitions), the arrays of
//!   `partman-auto-raid/recipe` (`<level> <devices> <spares> <fs> <mount> <dev>#<dev>`), and
//!   with `lvm -` an array becomes a physical volume of the one volume group partman-auto-raid
//!   makes, named by `partman-auto-lvm/new_vg_name`, which holds dom0's logical volumes. The
//!   seed's software RAID-1 layout is this; its second group (`xenvg`, the guests', on its own
//!   array) is split off that group by the preseed's late command ([`SplitVg`]), as
//!   partman-auto-raid makes only one.
//!
//! - **`regular`** (partman-auto's own `autopartition`, from display.d/10initial_auto): plain
//!   partitions on the first disk of `partman-auto/disk`, no volume group. A scheme of file
//!   systems and swap on one disk is this; so is what a reinstall makes of the end-to-end
//!   test's layout (`/` on one disk, the guests' group on another: [`partman_reinstall`]).
//!
//! Partitions are numbered as partman-auto creates them on an msdos label (its
//! `create_primary_partitions`, then `create_partitions`, in auto-shared.sh): the `$primary{ }`
//! ones first, 1 to 4, in recipe order, then the others as logical partitions from 5.
//!
//! Sizes in recipes are decimal megabytes (partman-base's `human2longint`); xenfab's are MiB,
//! rounded up.

use super::boot_partitions::MSDOS_MAX_MIB;
use super::fabric::Hardware;
use super::partition::{DiskLabel, FsType, Holder, PartitionScheme, Role};
use super::size::Size;

/// A recipe's "no upper bound" (partman-auto-lvm's perform_recipe_by_lvm: "-1" or
/// "1000000000"; the installation guide's examples write the latter).
const UNBOUNDED: &str = "1000000000";

/// The partman answers of a layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partman {
    /// `partman-auto/method`: `lvm` or `raid`.
    pub method: &'static str,
    /// `partman-auto/disk`: the disks, as `/dev/<name>`.
    pub disks: Vec<String>,
    /// `partman-auto/expert_recipe`, one partition or logical volume a line (each ends with
    /// ` .`), after the recipe's name line.
    pub recipe: Vec<String>,
    /// `partman-auto-raid/recipe`, one array a line (each ends with ` .`).
    pub raid_recipe: Vec<String>,
    /// `partman-auto-lvm/new_vg_name`: the group of partman-auto-raid's arrays.
    pub new_vg_name: Option<String>,
    /// `partman-auto-lvm/guided_size`: how much of each group the logical volumes may take.
    pub guided_size: String,
    /// Groups to split off partman-auto-raid's one group after the install.
    pub split: Vec<SplitVg>,
    /// `grub-installer/bootdev`: every disk of a RAID layout, the first one otherwise.
    pub bootdevs: Vec<String>,
    /// The label partman gives the disks (`partman-partitioning/default_label`).
    pub label: DiskLabel,
}

/// A volume group on arrays that partman-auto-raid put in its one group: moved out of it into
/// a group of its own after the install (`pvmove`, `vgreduce`, `vgcreate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitVg {
    /// The group to make (`xenvg`).
    pub vg: String,
    /// The group partman made (`systemvg`).
    pub from: String,
    /// A member partition of each of its arrays (`sda6`): the array is the one that holds it
    /// (`/sys/class/block/<member>/holders/`), whatever number the installer gave it.
    pub members: Vec<String>,
}

/// The partition device of partition `number` of disk `disk` (`sda5`, `nvme0n1p5`): Linux
/// adds a `p` after a disk name that ends with a digit.
fn part_dev(disk: &str, number: u32) -> String {
    if disk.ends_with(|c: char| c.is_ascii_digit()) {
        format!("{disk}p{number}")
    } else {
        format!("{disk}{number}")
    }
}

/// A size in decimal megabytes, rounded up.
fn mb(size: Size) -> u64 {
    (size.mib() * 1_048_576).div_ceil(1_000_000)
}

/// `<min> <priority> <max>` of a recipe line: all three the size for a fixed one, no upper
/// bound and a priority above it for one that grows (partman-auto's expand_scheme gives the
/// space left to lines by `priority - min`).
fn sizes(size: Size, grow: bool) -> String {
    let m = mb(size).max(1);
    if grow {
        format!("{m} {} {UNBOUNDED}", m + 1_000_000)
    } else {
        format!("{m} {m} {m}")
    }
}

/// The words that make a line a file system or swap (recipes.txt: `method{ format }
/// format{ } use_filesystem{ } filesystem{ ext4 } mountpoint{ /boot }`, `method{ swap }
/// format{ }`), and the recipe's file system field.
fn use_words(role: &Role) -> Option<(&'static str, String)> {
    match role {
        // An EFI System Partition and a BIOS boot partition, as partman-auto 162's own
        // recipes write them (recipes-amd64-efi/30atomic: `538 538 1075 free $iflabel{ gpt }
        // $reusemethod{ } method{ efi } format{ } .`; partman-auto's recipes.txt and
        // grub-installer's BIOS-on-GPT `method{ biosgrub }`, partman-partitioning's
        // `biosgrub` method). partman-efi mounts the ESP at /boot/efi itself.
        Role::Mount {
            fstype: FsType::Efi,
            ..
        } => Some(("free", "method{ efi } format{ }".to_owned())),
        Role::BiosBoot => Some(("free", "method{ biosgrub }".to_owned())),
        Role::Mount { mount, fstype } => {
            let fs = fstype.as_str();
            Some((
                fs,
                format!(
                    "method{{ format }} format{{ }} use_filesystem{{ }} filesystem{{ {fs} }} mountpoint{{ {mount} }}"
                ),
            ))
        }
        Role::Swap => Some(("linux-swap", "method{ swap } format{ }".to_owned())),
        Role::RaidMember | Role::PhysicalVolume => None,
    }
}

/// The partition numbers partman-auto gives the partitions of `scheme` on their disks, in
/// the scheme's order (see the module's documentation); None past four primaries.
fn numbers(scheme: &PartitionScheme) -> Option<Vec<u32>> {
    let mut out = Vec::with_capacity(scheme.partitions.len());
    if scheme.label == DiskLabel::Gpt {
        // A GPT label has no primary/logical distinction: partman-auto's auto-shared.sh
        // (`create_partitions`) creates the recipe's partitions in order, numbered 1, 2, …
        // on each disk, as PartitionScheme::partition_number counts them on GPT
        return (0..scheme.partitions.len())
            .map(|i| scheme.partition_number(i))
            .collect();
    }
    for p in &scheme.partitions {
        let same = scheme.partitions.iter().filter(|q| q.disk == p.disk);
        let before = same.take_while(|q| !std::ptr::eq(*q, p));
        let (mut primaries, mut logicals) = (0, 0);
        for q in before {
            if q.primary {
                primaries += 1;
            } else {
                logicals += 1;
            }
        }
        if p.primary {
            let total_primary = scheme
                .partitions
                .iter()
                .filter(|q| q.disk == p.disk && q.primary)
                .count();
            let has_logical = scheme
                .partitions
                .iter()
                .any(|q| q.disk == p.disk && !q.primary);
            // An extended partition takes one of the four primary slots.
            if total_primary + usize::from(has_logical) > 4 {
                return None;
            }
            out.push(primaries + 1);
        } else {
            out.push(logicals + 5);
        }
    }
    Some(out)
}

/// The recipes of `scheme` on `hardware`, or why partman-auto cannot build it (a lowercase
/// reason for the `preseed-layout-unsupported` message).
pub fn partman(scheme: &PartitionScheme, hardware: &Hardware) -> Result<Partman, String> {
    // The disks in the order the scheme first names them.
    let mut disks: Vec<&str> = Vec::new();
    for p in &scheme.partitions {
        if !disks.contains(&p.disk.as_str()) {
            disks.push(p.disk.as_str());
        }
    }
    if disks.is_empty() {
        return Err("it has no partitions".to_owned());
    }
    for (name, size) in hardware.visible_disks() {
        if scheme.label == DiskLabel::Msdos && disks.contains(&name) && size.mib() > MSDOS_MAX_MIB {
            return Err(format!(
                "disk `{name}` is larger than 2 TiB, which the msdos label partman-auto numbers partitions on cannot address"
            ));
        }
    }
    let numbers = numbers(scheme).ok_or_else(|| {
        "a disk has more than four primary partitions (with the extended one)".to_owned()
    })?;
    if !scheme.raids.is_empty() {
        raid(scheme, &disks, &numbers)
    } else if scheme.volume_groups.is_empty() && disks.len() == 1 {
        Ok(regular(scheme, disks[0]))
    } else {
        lvm(scheme, hardware, &disks, &numbers)
    }
}

/// partman-auto's `regular` method: display.d/10initial_auto runs `autopartition` on the
/// first disk of `partman-auto/disk` that partman knows, which gives it a new label and the
/// recipe's partitions (`decode_recipe` with the `default` type: no line is `$lvmok{ }`).
fn regular(scheme: &PartitionScheme, disk: &str) -> Partman {
    let recipe = scheme
        .partitions
        .iter()
        .filter_map(|p| {
            let (fs, words) = use_words(&p.role)?;
            let primary = if p.primary { "$primary{ } " } else { "" };
            let bootable = if scheme_boot_is(scheme, p) {
                "$bootable{ } "
            } else {
                ""
            };
            Some(format!(
                "{} {fs} {primary}{bootable}{words} .",
                sizes(p.size, p.grow)
            ))
        })
        .collect();
    Partman {
        method: "regular",
        disks: vec![format!("/dev/{disk}")],
        recipe,
        raid_recipe: Vec::new(),
        new_vg_name: None,
        guided_size: "max".to_owned(),
        split: Vec::new(),
        bootdevs: vec![format!("/dev/{disk}")],
        label: scheme.label,
    }
}

/// The recipes of the keep-the-guests reinstall of a dom0 whose guests' volume groups are
/// `kept` (`model::kept_volume_groups`): `scheme` without those groups and
/// the disks they are on, which partman is never given. Or why partman cannot do it.
///
/// partman-auto makes every disk of `partman-auto/disk` anew (a new label: `auto_init_disks`
/// in partman-auto 162's `autopartition` and partman-auto-lvm 91's `auto_lvm_prepare`), and
/// before that partman-lvm's `device_remove_lvm` (lib/lvm-remove.sh of partman-lvm 146)
/// removes every volume group with a physical volume on such a disk, all of the group's
/// physical volumes with it; partman-md's `device_remove_md` does the same to arrays. A disk
/// it is not given, it leaves alone. So a group survives a reinstall exactly when none of its
/// physical volumes (nor a member of an array that is one) is on a disk that also holds dom0's
/// own partitions, and it holds none of dom0's logical volumes (partman cannot make a volume in
/// a group it keeps). The installed system finds the kept groups as it boots (lvm2's
/// autoactivation; mdadm's postinst writes every array it sees into mdadm.conf).
pub fn partman_reinstall(
    scheme: &PartitionScheme,
    hardware: &Hardware,
    kept: &[&str],
) -> Result<Partman, String> {
    let kept_vgs: Vec<&super::partition::VolumeGroup> = scheme
        .volume_groups
        .iter()
        .filter(|vg| kept.contains(&vg.name.as_str()))
        .collect();
    if let Some(lv) = scheme
        .logical_volumes
        .iter()
        .find(|lv| kept.contains(&lv.vg.as_str()))
    {
        return Err(format!(
            "volume group `{}` holds the guests' volumes and dom0's `{}`, and partman cannot make a volume in a group it keeps",
            lv.vg, lv.name
        ));
    }
    // The partitions of the kept groups: their physical volumes, and the members of arrays
    // that are physical volumes of theirs; each with its group.
    let mut kept_parts: Vec<(usize, &str)> = Vec::new();
    let mut kept_arrays: Vec<usize> = Vec::new();
    for vg in &kept_vgs {
        for id in &vg.pvs {
            if let Some((i, _)) = scheme.partition_by_id(id) {
                kept_parts.push((i, vg.name.as_str()));
            } else if let Some(a) = scheme.raids.iter().position(|r| r.id.as_ref() == Some(id)) {
                kept_arrays.push(a);
                for m in &scheme.raids[a].members {
                    if let Some((i, _)) = scheme.partition_by_id(m) {
                        kept_parts.push((i, vg.name.as_str()));
                    }
                }
            }
        }
    }
    let kept_disk = |disk: &str| {
        kept_parts
            .iter()
            .find(|(i, _)| scheme.partitions[*i].disk.as_str() == disk)
            .map(|(_, vg)| *vg)
    };
    for (i, p) in scheme.partitions.iter().enumerate() {
        if let Some(vg) = kept_disk(p.disk.as_str()) {
            if !kept_parts.iter().any(|(k, _)| *k == i) {
                return Err(format!(
                    "disk `{}` holds both the guests' group `{vg}` and dom0's {}, and partman makes every disk it partitions anew, removing every volume group with a physical volume on it (partman-lvm's device_remove_lvm): the guests' groups must be on disks of their own",
                    p.disk,
                    p.role_name()
                ));
            }
        }
    }
    let system = PartitionScheme {
        partitions: scheme
            .partitions
            .iter()
            .filter(|p| kept_disk(p.disk.as_str()).is_none())
            .cloned()
            .collect(),
        raids: scheme
            .raids
            .iter()
            .enumerate()
            .filter(|(a, _)| !kept_arrays.contains(a))
            .map(|(_, r)| r.clone())
            .collect(),
        volume_groups: scheme
            .volume_groups
            .iter()
            .filter(|vg| !kept.contains(&vg.name.as_str()))
            .cloned()
            .collect(),
        logical_volumes: scheme.logical_volumes.clone(),
        label: scheme.label,
    };
    if system.partitions.is_empty() {
        return Err(
            "no disk is left for dom0's own system once the guests' disks are set apart".to_owned(),
        );
    }
    partman(&system, hardware)
}

/// The volume groups that hold dom0's own logical volumes, in the scheme's order.
fn lv_groups(scheme: &PartitionScheme) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for lv in &scheme.logical_volumes {
        if !out.contains(&lv.vg.as_str()) {
            out.push(lv.vg.as_str());
        }
    }
    out
}

/// The logical volumes' lines, the ones that grow last in each group (perform_recipe_by_lvm
/// gives the last line of a group the group's free extents when the guided size is `max`),
/// and the guided size.
fn lv_lines(scheme: &PartitionScheme, raid_tags: bool) -> Result<(Vec<String>, String), String> {
    let groups = lv_groups(scheme);
    let mut lines = Vec::new();
    let mut any_grow = false;
    let mut largest = 0;
    for vg in &groups {
        let lvs: Vec<_> = scheme
            .logical_volumes
            .iter()
            .filter(|lv| lv.vg.as_str() == *vg)
            .collect();
        let growing = lvs.iter().filter(|lv| lv.grow).count();
        if growing > 1 {
            return Err(format!(
                "more than one logical volume of `{vg}` grows, and partman-auto-lvm grows only the last one of a group"
            ));
        }
        any_grow |= growing == 1;
        largest = largest.max(lvs.iter().map(|lv| mb(lv.size).max(1)).sum::<u64>());
        let (fixed, grow): (Vec<_>, Vec<_>) = lvs.into_iter().partition(|lv| !lv.grow);
        for lv in fixed.into_iter().chain(grow) {
            let Some((fs, words)) = use_words(&lv.role) else {
                return Err(format!(
                    "logical volume `{}/{}` holds neither a file system nor swap",
                    lv.vg, lv.name
                ));
            };
            let ignore = if raid_tags { "$defaultignore{ } " } else { "" };
            lines.push(format!(
                "{} {fs} {ignore}$lvmok{{ }} in_vg{{ {vg} }} lv_name{{ {} }} {words} .",
                sizes(lv.size, lv.grow),
                lv.name
            ));
        }
    }
    // perform_recipe_by_lvm asks one guided size for every group: `max` gives each group's
    // last line the group's free space, which only a group with a growing volume wants; the
    // sum of the largest group's volumes keeps every fixed volume at its size.
    let guided = if any_grow {
        let fixed_only = groups.iter().find(|vg| {
            !scheme
                .logical_volumes
                .iter()
                .any(|lv| lv.vg.as_str() == **vg && lv.grow)
        });
        if let Some(vg) = fixed_only {
            return Err(format!(
                "a logical volume grows in one group and none in `{vg}`, and partman-auto-lvm's one guided size would grow the last volume of `{vg}` too"
            ));
        }
        "max".to_owned()
    } else {
        format!("{largest}MB")
    };
    Ok((lines, guided))
}

/// A partition's size: its own, or for one that grows what the other partitions of its disk
/// leave of it.
fn partition_size(
    scheme: &PartitionScheme,
    hardware: &Hardware,
    p: &super::partition::Partition,
) -> Size {
    if !p.grow {
        return p.size;
    }
    let disk = hardware
        .visible_disks()
        .into_iter()
        .find(|(n, _)| *n == p.disk.as_str())
        .map_or(Size::default(), |(_, s)| s);
    let others: Size = scheme
        .partitions
        .iter()
        .filter(|q| q.disk == p.disk && !std::ptr::eq(*q, p))
        .map(|q| q.size)
        .sum();
    disk.saturating_sub(others).max(p.size)
}

fn lvm(
    scheme: &PartitionScheme,
    hardware: &Hardware,
    disks: &[&str],
    numbers: &[u32],
) -> Result<Partman, String> {
    if scheme.logical_volumes.is_empty() {
        return Err(
            "it has no logical volume of dom0, and partman-auto's lvm method needs one ($lvmok) while its regular method partitions one disk and makes no volume group".to_owned(),
        );
    }
    let main = disks[0];
    let mut recipe = Vec::new();
    for (i, p) in scheme.partitions.iter().enumerate() {
        let primary = if p.primary { "$primary{ } " } else { "" };
        match &p.role {
            Role::PhysicalVolume => {
                let vg = scheme
                    .volume_groups
                    .iter()
                    .find(|vg| p.id.as_ref().is_some_and(|id| vg.pvs.contains(id)))
                    .ok_or_else(|| {
                        format!(
                            "physical volume `{}` is in no volume group",
                            p.id.as_ref().map_or("", |i| i.as_str())
                        )
                    })?;
                // auto_lvm_create_vg_map gives a physical volume line the first partition
                // whose name matches `<device>[[:digit:]]*`: with `device{ /dev/sda }` two
                // groups on one disk would both get its first physical volume (and
                // vg_create fail), so each line names its own partition. A disk whose name
                // ends in a digit numbers its partitions `p<n>`, which that pattern misses.
                if p.disk.as_str().ends_with(|c: char| c.is_ascii_digit()) {
                    return Err(format!(
                        "disk `{}` names its partitions `{}`, which partman-auto-lvm's match of a physical volume's device (`<device>[[:digit:]]*`) does not find",
                        p.disk,
                        part_dev(p.disk.as_str(), numbers[i])
                    ));
                }
                recipe.push(format!(
                    "{} ext4 {primary}method{{ lvm }} vg_name{{ {} }} device{{ /dev/{} }} .",
                    sizes(p.size, p.grow),
                    vg.name,
                    part_dev(p.disk.as_str(), numbers[i])
                ));
            }
            Role::RaidMember => unreachable!("a scheme without arrays has no members"),
            role => {
                if p.disk.as_str() != main {
                    return Err(format!(
                        "a partition of `{}` that is not a physical volume is on disk `{}`, and partman-auto-lvm puts such partitions on its first disk (`{main}`) only",
                        p.role_name(),
                        p.disk
                    ));
                }
                let Some((fs, words)) = use_words(role) else {
                    unreachable!("mount and swap have words")
                };
                let bootable = if scheme_boot_is(scheme, p) {
                    "$bootable{ } "
                } else {
                    ""
                };
                recipe.push(format!(
                    "{} {fs} {primary}{bootable}{words} .",
                    sizes(p.size, p.grow)
                ));
            }
        }
    }
    // partman-auto-lvm wants `/` or `/boot` outside LVM, or asks (partman-auto-lvm/no_boot).
    if !scheme.partitions.iter().any(|p| {
        matches!(
            p.role.mount().map(super::partition::MountPoint::as_str),
            Some("/" | "/boot")
        )
    }) {
        return Err(
            "neither `/` nor `/boot` is on a partition, and partman-auto-lvm then asks whether to go on (no_boot)".to_owned(),
        );
    }
    let (lines, guided_size) = lv_lines(scheme, false)?;
    recipe.extend(lines);
    // perform_recipe_by_lvm asks the guided size again, at high priority, for a group it
    // does not fit in: with priority=critical nobody answers and the installer loops. Every
    // group must hold it.
    if let Some(guided) = guided_size
        .strip_suffix("MB")
        .and_then(|n| n.parse::<u64>().ok())
    {
        for vg in &scheme.volume_groups {
            let size: u64 = scheme
                .partitions
                .iter()
                .filter(|p| p.id.as_ref().is_some_and(|id| vg.pvs.contains(id)))
                .map(|p| mb(partition_size(scheme, hardware, p)))
                .sum();
            if size < guided {
                return Err(format!(
                    "volume group `{}` ({size} MB) is smaller than the {guided} MB partman-auto-lvm's one guided size asks of every group (the largest group's volumes)",
                    vg.name
                ));
            }
        }
    }
    Ok(Partman {
        method: "lvm",
        disks: disks.iter().map(|d| format!("/dev/{d}")).collect(),
        recipe,
        raid_recipe: Vec::new(),
        new_vg_name: None,
        guided_size,
        split: Vec::new(),
        bootdevs: vec![format!("/dev/{main}")],
        label: scheme.label,
    })
}

/// Whether `p` is the partition a recipe marks `$bootable{ }`: `/boot`'s (or `/`'s) on an msdos
/// label, none on GPT, where libparted's boot flag makes a partition an EFI System Partition
/// (libparted's gpt.c, `gpt_partition_set_system`: `boot` → `PARTITION_SYSTEM_GUID`), and
/// neither the firmware nor GRUB needs one (partman-auto's recipes-amd64-efi mark none).
fn scheme_boot_is(scheme: &PartitionScheme, p: &super::partition::Partition) -> bool {
    if scheme.label == DiskLabel::Gpt {
        return false;
    }
    let boot = scheme.holder("/boot").or_else(|| scheme.holder("/"));
    matches!(boot, Some(Holder::Partition(i)) if std::ptr::eq(&raw const scheme.partitions[i], p))
}

impl super::partition::Partition {
    /// What the partition holds, in messages.
    fn role_name(&self) -> String {
        match &self.role {
            Role::Mount { mount, .. } => mount.to_string(),
            Role::Swap => "swap".to_owned(),
            Role::RaidMember => "RAID member".to_owned(),
            Role::PhysicalVolume => "physical volume".to_owned(),
            Role::BiosBoot => "BIOS boot partition".to_owned(),
        }
    }
}

fn raid(scheme: &PartitionScheme, disks: &[&str], numbers: &[u32]) -> Result<Partman, String> {
    // One recipe for every disk: the same partitions, in the same order, on each.
    let on = |disk: &str| -> Vec<(usize, &super::partition::Partition)> {
        scheme
            .partitions
            .iter()
            .enumerate()
            .filter(|(_, p)| p.disk.as_str() == disk)
            .collect()
    };
    let first = on(disks[0]);
    for d in &disks[1..] {
        let other = on(d);
        let same = other.len() == first.len()
            && other.iter().zip(&first).all(|((_, a), (_, b))| {
                a.size == b.size && a.grow == b.grow && a.primary == b.primary
            });
        if !same {
            return Err(format!(
                "disks `{}` and `{d}` are not partitioned alike, and partman-auto-raid gives every disk the same partitions",
                disks[0]
            ));
        }
    }
    if let Some(p) = scheme
        .partitions
        .iter()
        .find(|p| p.role != Role::RaidMember)
    {
        return Err(format!(
            "partition `{}` on `{}` is not a RAID member, and partman-auto-raid's recipe makes every partition one",
            p.role_name(),
            p.disk
        ));
    }
    let groups = lv_groups(scheme);
    let main_vg = match groups.as_slice() {
        [] => None,
        [one] => Some(*one),
        _ => {
            return Err(format!(
                "dom0's logical volumes are in {} volume groups, and partman-auto-raid makes one",
                groups.len()
            ));
        }
    };
    let mut raid_recipe = Vec::new();
    let mut split: Vec<SplitVg> = Vec::new();
    for array in &scheme.raids {
        // Its members: the partition at one position of every disk.
        let mut members = Vec::new();
        for id in &array.members {
            let (i, p) = scheme
                .partition_by_id(id)
                .ok_or_else(|| format!("member `{id}` of `{}` is no partition", array.device))?;
            members.push((i, p));
        }
        let index_on_disk = |i: usize| {
            let disk = &scheme.partitions[i].disk;
            scheme.partitions[..i]
                .iter()
                .filter(|q| &q.disk == disk)
                .count()
        };
        let k = index_on_disk(members[0].0);
        let mut member_disks: Vec<&str> = members.iter().map(|(_, p)| p.disk.as_str()).collect();
        member_disks.sort_unstable();
        member_disks.dedup();
        let mut all: Vec<&str> = disks.to_vec();
        all.sort_unstable();
        if members.iter().any(|(i, _)| index_on_disk(*i) != k)
            || member_disks.len() != members.len()
            || member_disks != all
        {
            return Err(format!(
                "array `{}` is not made of the same partition of every disk, which is all partman-auto-raid's recipe can say",
                array.device
            ));
        }
        let devices: Vec<String> = members
            .iter()
            .map(|(i, p)| format!("/dev/{}", part_dev(p.disk.as_str(), numbers[*i])))
            .collect();
        let (fs, mount) = match &array.role {
            Role::Mount { mount, fstype } => (fstype.as_str(), mount.to_string()),
            Role::Swap => ("swap", "-".to_owned()),
            Role::BiosBoot => return Err("a BIOS boot partition cannot be an array".to_owned()),
            Role::PhysicalVolume => {
                let vg = scheme
                    .volume_groups
                    .iter()
                    .find(|vg| array.id.as_ref().is_some_and(|id| vg.pvs.contains(id)))
                    .ok_or_else(|| format!("array `{}` is in no volume group", array.device))?;
                let vg_name = vg.name.as_str();
                match main_vg {
                    Some(main) if main != vg_name => {
                        let member = part_dev(members[0].1.disk.as_str(), numbers[members[0].0]);
                        if let Some(s) = split.iter_mut().find(|s| s.vg == vg_name) {
                            s.members.push(member);
                        } else {
                            split.push(SplitVg {
                                vg: vg_name.to_owned(),
                                from: main.to_owned(),
                                members: vec![member],
                            });
                        }
                    }
                    Some(_) => {}
                    None => {
                        return Err(format!(
                            "array `{}` is a physical volume of `{vg_name}` and dom0 has no logical volume, so partman-auto-raid would make no group to hold it",
                            array.device
                        ));
                    }
                }
                ("lvm", "-".to_owned())
            }
            Role::RaidMember => {
                return Err(format!(
                    "array `{}` is a member of another array",
                    array.device
                ));
            }
        };
        raid_recipe.push(format!(
            "{} {} 0 {fs} {mount} {} .",
            array.level.number(),
            members.len(),
            devices.join("#")
        ));
    }
    let mut recipe: Vec<String> = first
        .iter()
        .map(|(_, p)| {
            let primary = if p.primary { "$primary{ } " } else { "" };
            format!(
                "{} raid {primary}$lvmignore{{ }} method{{ raid }} .",
                sizes(p.size, p.grow)
            )
        })
        .collect();
    let guided_size = if main_vg.is_some() {
        let (lines, guided) = lv_lines(scheme, true)?;
        recipe.extend(lines);
        guided
    } else {
        "max".to_owned()
    };
    Ok(Partman {
        method: "raid",
        disks: disks.iter().map(|d| format!("/dev/{d}")).collect(),
        recipe,
        raid_recipe,
        new_vg_name: main_vg.map(str::to_owned),
        guided_size,
        split,
        bootdevs: disks.iter().map(|d| format!("/dev/{d}")).collect(),
        label: scheme.label,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{builtin_scheme as builtin, hardware};

    #[test]
    fn the_seeds_software_raid_is_raid_with_xenvg_split_off() {
        let p = partman(
            &builtin("seed-softraid1"),
            &hardware(&[("sda", 476_837), ("sdb", 476_837)]),
        )
        .unwrap();
        assert_eq!(p.method, "raid");
        assert_eq!(p.disks, ["/dev/sda", "/dev/sdb"]);
        assert_eq!(
            p.raid_recipe,
            [
                "1 2 0 ext2 /boot /dev/sda1#/dev/sdb1 .",
                "1 2 0 ext3 / /dev/sda2#/dev/sdb2 .",
                "1 2 0 lvm - /dev/sda5#/dev/sdb5 .",
                "1 2 0 lvm - /dev/sda6#/dev/sdb6 .",
            ]
        );
        assert_eq!(
            p.recipe[0],
            "537 537 537 raid $primary{ } $lvmignore{ } method{ raid } ."
        );
        assert_eq!(
            p.recipe[3],
            "2 1000002 1000000000 raid $lvmignore{ } method{ raid } ."
        );
        assert_eq!(
            p.recipe[4],
            "2148 2148 2148 linux-swap $defaultignore{ } $lvmok{ } in_vg{ systemvg } lv_name{ sysswap } method{ swap } format{ } ."
        );
        assert_eq!(p.new_vg_name.as_deref(), Some("systemvg"));
        // 2048 + 4096 + 4096 + 10240 MiB in decimal MB, each rounded up
        assert_eq!(p.guided_size, "21476MB");
        assert_eq!(
            p.split,
            [SplitVg {
                vg: "xenvg".into(),
                from: "systemvg".into(),
                members: vec!["sda6".into()]
            }]
        );
        assert_eq!(p.bootdevs, ["/dev/sda", "/dev/sdb"]);
    }

    #[test]
    fn the_seeds_hardware_raid_is_lvm_with_two_groups() {
        let mut hw = hardware(&[("sda", 286_102); 4]);
        hw.raid = crate::model::HardwareRaid::Raid10;
        let p = partman(&builtin("seed-hwraid10"), &hw).unwrap();
        assert_eq!(p.method, "lvm");
        assert_eq!(p.disks, ["/dev/sda"]);
        assert_eq!(
            p.recipe[0],
            "269 269 269 ext2 $primary{ } $bootable{ } method{ format } format{ } use_filesystem{ } filesystem{ ext2 } mountpoint{ /boot } ."
        );
        assert_eq!(
            p.recipe[1],
            "77310 77310 77310 ext4 $primary{ } method{ lvm } vg_name{ systemvg } device{ /dev/sda2 } ."
        );
        assert_eq!(
            p.recipe[2],
            "2 1000002 1000000000 ext4 method{ lvm } vg_name{ xenvg } device{ /dev/sda5 } ."
        );
        assert!(p.recipe[3].contains("in_vg{ systemvg } lv_name{ sysroot }"));
        assert!(p.split.is_empty());
        assert!(p.new_vg_name.is_none());
    }

    #[test]
    fn uefi_and_bios_on_gpt_number_in_recipe_order_with_their_boot_partition_first() {
        use crate::model::{Firmware, OsFamily, boot_layout};
        let s = builtin("seed-hwraid10");
        let hw = hardware(&[("sda", 300_000)]);
        let uefi = boot_layout(&s, &hw, Firmware::Uefi, OsFamily::Debian);
        let p = partman(&uefi, &hw).unwrap();
        assert_eq!(p.label, DiskLabel::Gpt);
        assert_eq!(
            p.recipe[0],
            "538 538 538 free $primary{ } method{ efi } format{ } ."
        );
        // no $bootable{ } on GPT: libparted's boot flag would make /boot an ESP
        assert_eq!(
            p.recipe[1],
            "269 269 269 ext2 $primary{ } method{ format } format{ } use_filesystem{ } filesystem{ ext2 } mountpoint{ /boot } ."
        );
        // GPT: the logical pv.02 of msdos is the fourth partition
        assert!(p.recipe[2].ends_with("device{ /dev/sda3 } ."));
        assert!(p.recipe[3].ends_with("device{ /dev/sda4 } ."));
        // over 2 TiB on a BIOS machine: GPT with a BIOS boot partition, no longer refused
        let big = hardware(&[("sda", 8 * 1024 * 1024)]);
        assert!(partman(&s, &big).unwrap_err().contains("larger than 2 TiB"));
        let gpt = boot_layout(&s, &big, Firmware::Bios, OsFamily::Debian);
        let p = partman(&gpt, &big).unwrap();
        assert_eq!(p.recipe[0], "2 2 2 free $primary{ } method{ biosgrub } .");
        assert_eq!(p.label, DiskLabel::Gpt);
    }

    #[test]
    fn what_partman_cannot_build_is_refused_with_a_reason() {
        // A guests' group smaller than dom0's volumes: the guided size would not fit it.
        let mut s = builtin("seed-hwraid10");
        s.partitions[2].grow = false;
        s.partitions[2].size = Size::from_mib(1024);
        let hw = hardware(&[("sda", 200_000)]);
        assert!(partman(&s, &hw).unwrap_err().contains("smaller than"));
        // The end-to-end test's layout: `/` and a guests' group, no volume of dom0.
        let mut s = builtin("seed-hwraid10");
        s.logical_volumes.clear();
        let hw = hardware(&[("sda", 100_000)]);
        assert!(partman(&s, &hw).unwrap_err().contains("no logical volume"));
        // Two disks partitioned differently under software RAID.
        let mut s = builtin("seed-softraid1");
        s.partitions[5].size = Size::from_mib(1);
        let hw = hardware(&[("sda", 476_837), ("sdb", 476_837)]);
        assert!(
            partman(&s, &hw)
                .unwrap_err()
                .contains("not partitioned alike")
        );
        // A disk too large for msdos.
        let s = builtin("seed-softraid1");
        let hw = hardware(&[("sda", 3_000_000), ("sdb", 3_000_000)]);
        assert!(partman(&s, &hw).unwrap_err().contains("2 TiB"));
    }

    #[test]
    fn a_reinstall_gives_partman_only_the_disks_without_the_guests_groups() {
        // The seed's hardware RAID-10 with the guests' group on a disk of its own.
        let mut s = builtin("seed-hwraid10");
        s.partitions[2].disk = "sdb".parse().unwrap();
        s.partitions[2].primary = true;
        let hw = hardware(&[("sda", 200_000), ("sdb", 400_000)]);
        let p = partman_reinstall(&s, &hw, &["xenvg"]).unwrap();
        assert_eq!(p.method, "lvm");
        assert_eq!(p.disks, ["/dev/sda"]);
        assert_eq!(p.bootdevs, ["/dev/sda"]);
        assert!(
            p.recipe
                .iter()
                .all(|l| !l.contains("xenvg") && !l.contains("sdb"))
        );
        assert!(p.recipe.iter().any(|l| l.contains("vg_name{ systemvg }")));
        // The end-to-end test's layout: `/` on one disk, the guests' group on another. The
        // install is refused (no volume of dom0 for the lvm method); the reinstall is the
        // regular method on the first disk.
        let mut s = builtin("seed-hwraid10");
        s.logical_volumes.clear();
        s.partitions.remove(1);
        s.volume_groups.remove(0);
        s.partitions[0].grow = true;
        s.partitions[0].role = Role::Mount {
            mount: "/".parse().unwrap(),
            fstype: crate::model::partition::FsType::Ext4,
        };
        s.partitions[1].disk = "vdb".parse().unwrap();
        s.partitions[0].disk = "vda".parse().unwrap();
        let hw = hardware(&[("vda", 2048), ("vdb", 1024)]);
        assert!(partman(&s, &hw).unwrap_err().contains("no logical volume"));
        let p = partman_reinstall(&s, &hw, &["xenvg"]).unwrap();
        assert_eq!(p.method, "regular");
        assert_eq!(p.disks, ["/dev/vda"]);
        assert_eq!(p.recipe.len(), 1);
        assert!(p.recipe[0].contains("mountpoint{ / }"), "{:?}", p.recipe);
    }

    #[test]
    fn a_reinstall_that_would_lose_the_guests_group_is_refused() {
        // The guests' group on the disk of dom0's own partitions: partman would relabel it.
        let s = builtin("seed-hwraid10");
        let hw = hardware(&[("sda", 200_000)]);
        let why = partman_reinstall(&s, &hw, &["xenvg"]).unwrap_err();
        assert!(
            why.contains("disks of their own") && why.contains("`sda`"),
            "{why}"
        );
        // The seed's software RAID-1: xenvg's array is on the disks of dom0's arrays.
        let s = builtin("seed-softraid1");
        let hw = hardware(&[("sda", 476_837), ("sdb", 476_837)]);
        let why = partman_reinstall(&s, &hw, &["xenvg"]).unwrap_err();
        assert!(why.contains("disks of their own"), "{why}");
        // A kept group that holds a volume of dom0.
        let mut s = builtin("seed-hwraid10");
        s.partitions[2].disk = "sdb".parse().unwrap();
        s.logical_volumes[0].vg = "xenvg".parse().unwrap();
        let hw = hardware(&[("sda", 200_000), ("sdb", 400_000)]);
        let why = partman_reinstall(&s, &hw, &["xenvg"]).unwrap_err();
        assert!(
            why.contains("cannot make a volume in a group it keeps"),
            "{why}"
        );
    }

    #[test]
    fn partition_devices() {
        assert_eq!(part_dev("sda", 5), "sda5");
        assert_eq!(part_dev("nvme0n1", 1), "nvme0n1p1");
        assert_eq!(mb(Size::from_mib(512)), 537);
        assert_eq!(sizes(Size::from_mib(1), true), "2 1000002 1000000000");
    }
}

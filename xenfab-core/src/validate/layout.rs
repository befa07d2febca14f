//! Partition schemes must make sense on their own: RAID members on distinct disks, one growing
//! partition a disk, unique mount points, `/boot` where GRUB can read it, references that exist.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::diagnostic::{Diagnostics, FieldPath};
use crate::model::{Fabric, Ident, PartitionScheme, Role};

/// Checks every partition scheme; returns the names of the schemes without errors, whose
/// capacity can be computed.
pub(super) fn check_schemes(fabric: &Fabric, diags: &mut Diagnostics) -> HashSet<Ident> {
    let mut sound = HashSet::new();
    for (name, scheme) in &fabric.partition_schemes {
        let path = FieldPath::root()
            .key("partition_schemes")
            .entry(name.as_str());
        let before = diags.error_count();
        check_scheme(scheme, &path, diags);
        super::firmware::check_scheme_esp(scheme, &path, diags);
        if diags.error_count() == before {
            sound.insert(name.clone());
        }
    }
    sound
}

/// A device a scheme defines: a partition or an array, by id.
struct Device<'a> {
    role: &'a Role,
    path: FieldPath,
}

fn check_scheme(s: &PartitionScheme, path: &FieldPath, diags: &mut Diagnostics) {
    let mut devices: HashMap<&str, Device<'_>> = HashMap::new();
    let mut mounts: HashMap<&str, FieldPath> = HashMap::new();

    // Partitions: ids unique, one growing partition a disk, at most four primaries a disk.
    let mut growing: BTreeMap<&str, usize> = BTreeMap::new();
    let mut primaries: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, p) in s.partitions.iter().enumerate() {
        let pp = path
            .key("partitions")
            .elem(i, p.id.as_ref().map(Ident::as_str));
        if matches!(p.role, Role::RaidMember | Role::PhysicalVolume) && p.id.is_none() {
            diags.error(
                "missing-value",
                pp.key("id"),
                "a RAID member or physical volume needs an `id` to be referred to by",
            );
        }
        if let Some(id) = &p.id {
            if devices
                .insert(
                    id.as_str(),
                    Device {
                        role: &p.role,
                        path: pp.clone(),
                    },
                )
                .is_some()
            {
                diags.error(
                    "duplicate-name",
                    pp.key("id"),
                    format!("id `{id}` is defined twice"),
                );
            }
        }
        if p.grow {
            *growing.entry(p.disk.as_str()).or_default() += 1;
            if growing[p.disk.as_str()] == 2 {
                diags.error(
                    "multiple-grow",
                    pp.key("grow"),
                    format!("disk `{}` has more than one growing partition", p.disk),
                );
            }
        }
        // GPT has no primary/logical distinction and 128 partitions
        if p.primary && s.label == crate::model::DiskLabel::Msdos {
            *primaries.entry(p.disk.as_str()).or_default() += 1;
            if primaries[p.disk.as_str()] == 5 {
                diags.error(
                    "too-many-primary",
                    pp.key("primary"),
                    format!("disk `{}` has more than four primary partitions", p.disk),
                );
            }
        }
        add_mount(&mut mounts, &p.role, &pp, diags);
    }

    // Arrays: members exist, are RAID members, belong to one array, sit on distinct disks,
    // and are enough for the level.
    let mut member_of: HashMap<&str, &str> = HashMap::new();
    let mut devices_md = HashSet::new();
    for (i, r) in s.raids.iter().enumerate() {
        let rp = path.key("raids").elem(i, Some(r.device.as_str()));
        if !devices_md.insert(r.device.as_str()) {
            diags.error(
                "duplicate-name",
                rp.key("device"),
                format!("device `{}` is defined twice", r.device),
            );
        }
        if r.role == Role::PhysicalVolume && r.id.is_none() {
            diags.error(
                "missing-value",
                rp.key("id"),
                "an array used as a physical volume needs an `id`",
            );
        }
        if let Some(id) = &r.id {
            if devices
                .insert(
                    id.as_str(),
                    Device {
                        role: &r.role,
                        path: rp.clone(),
                    },
                )
                .is_some()
            {
                diags.error(
                    "duplicate-name",
                    rp.key("id"),
                    format!("id `{id}` is defined twice"),
                );
            }
        }
        if r.members.len() < r.level.min_members() {
            diags.error(
                "raid-too-few-members",
                rp.key("members"),
                format!(
                    "RAID{} needs at least {} members, `{}` has {}",
                    r.level.number(),
                    r.level.min_members(),
                    r.device,
                    r.members.len()
                ),
            );
        }
        let mut disks = HashMap::new();
        for (j, m) in r.members.iter().enumerate() {
            let mp = rp.key("members").elem(j, None);
            let Some(part) = s.partitions.iter().find(|p| p.id.as_ref() == Some(m)) else {
                diags.error(
                    "unknown-reference",
                    mp,
                    format!("member `{m}` is not a partition of this scheme"),
                );
                continue;
            };
            if part.role != Role::RaidMember {
                diags.error(
                    "invalid-member",
                    mp.clone(),
                    format!("member `{m}` is not a RAID member partition (`use = \"raid\"`)"),
                );
            }
            if let Some(other) = member_of.insert(m.as_str(), r.device.as_str()) {
                diags.error(
                    "invalid-member",
                    mp.clone(),
                    format!("partition `{m}` is already a member of `{other}`"),
                );
            }
            if let Some(first) = disks.insert(part.disk.as_str(), m) {
                diags.error(
                    "raid-same-disk",
                    mp,
                    format!("members `{first}` and `{m}` of `{}` are both on disk `{}`: a mirror on one disk is no mirror", r.device, part.disk),
                );
            }
        }
        add_mount(&mut mounts, &r.role, &rp, diags);
    }
    for (i, p) in s.partitions.iter().enumerate() {
        if let (Role::RaidMember, Some(id)) = (&p.role, &p.id) {
            if !member_of.contains_key(id.as_str()) {
                diags.warning(
                    "unused-partition",
                    path.key("partitions").elem(i, Some(id.as_str())),
                    format!("RAID member `{id}` is in no array"),
                );
            }
        }
    }

    // Volume groups: physical volumes exist, are physical volumes, belong to one group.
    let mut vgs = HashSet::new();
    let mut pv_of: HashMap<&str, &str> = HashMap::new();
    for (i, vg) in s.volume_groups.iter().enumerate() {
        let vp = path.key("volume_groups").elem(i, Some(vg.name.as_str()));
        if !vgs.insert(vg.name.as_str()) {
            diags.error(
                "duplicate-name",
                vp.key("name"),
                format!("volume group `{}` is defined twice", vg.name),
            );
        }
        if vg.pvs.is_empty() {
            diags.error(
                "missing-value",
                vp.key("pvs"),
                "a volume group needs at least one physical volume",
            );
        }
        if !vg.pe_size.mib().is_power_of_two() {
            diags.error(
                "invalid-value",
                vp.key("pe_size"),
                format!("extent size {} is not a power of two", vg.pe_size),
            );
        }
        for (j, pv) in vg.pvs.iter().enumerate() {
            let pp = vp.key("pvs").elem(j, None);
            match devices.get(pv.as_str()) {
                None => diags.error(
                    "unknown-reference",
                    pp,
                    format!("physical volume `{pv}` is not defined in this scheme"),
                ),
                Some(d) if *d.role != Role::PhysicalVolume => {
                    diags.error(
                        "invalid-member",
                        pp,
                        format!(
                            "`{pv}` ({}) is not a physical volume (`use = \"pv\"`)",
                            d.path
                        ),
                    );
                }
                Some(_) => {
                    if let Some(other) = pv_of.insert(pv.as_str(), vg.name.as_str()) {
                        diags.error(
                            "invalid-member",
                            pp,
                            format!("physical volume `{pv}` is already in volume group `{other}`"),
                        );
                    }
                }
            }
        }
    }

    // Logical volumes: in a defined group, unique, at most one growing a group.
    let mut lvs = HashSet::new();
    let mut growing_lv = HashSet::new();
    for (i, lv) in s.logical_volumes.iter().enumerate() {
        let lp = path.key("logical_volumes").elem(i, Some(lv.name.as_str()));
        if !vgs.contains(lv.vg.as_str()) {
            diags.error(
                "unknown-reference",
                lp.key("vg"),
                format!("volume group `{}` is not defined in this scheme", lv.vg),
            );
        }
        if !lvs.insert((lv.vg.as_str(), lv.name.as_str())) {
            diags.error(
                "duplicate-name",
                lp.key("name"),
                format!("logical volume `{}/{}` is defined twice", lv.vg, lv.name),
            );
        }
        if lv.grow && !growing_lv.insert(lv.vg.as_str()) {
            diags.error(
                "multiple-grow",
                lp.key("grow"),
                format!(
                    "volume group `{}` has more than one growing logical volume",
                    lv.vg
                ),
            );
        }
        add_mount(&mut mounts, &lv.role, &lp, diags);
    }

    // `/` must exist; `/boot` (or `/` without it) must be readable by the boot loader: a
    // primary partition, or a RAID-1 of primary partitions, never a logical volume.
    if !mounts.contains_key("/") {
        diags.error("no-root", path.clone(), "the scheme has no `/` file system");
    }
    let boot = if mounts.contains_key("/boot") {
        "/boot"
    } else {
        "/"
    };
    check_boot(s, boot, path, diags);
}

/// Records a mount point; a second use of it is an error.
fn add_mount<'a>(
    mounts: &mut HashMap<&'a str, FieldPath>,
    role: &'a Role,
    path: &FieldPath,
    diags: &mut Diagnostics,
) {
    if let Some(mp) = role.mount() {
        if let Some(first) = mounts.insert(mp.as_str(), path.clone()) {
            diags.error(
                "duplicate-mount",
                path.key("mount"),
                format!("mount point `{mp}` is also used by {first}"),
            );
        }
    }
}

fn check_boot(s: &PartitionScheme, boot: &str, path: &FieldPath, diags: &mut Diagnostics) {
    let is_boot = |r: &Role| r.mount().is_some_and(|m| m.as_str() == boot);
    if let Some(i) = s.logical_volumes.iter().position(|lv| is_boot(&lv.role)) {
        diags.error(
            "boot-not-primary",
            path.key("logical_volumes").elem(i, Some(s.logical_volumes[i].name.as_str())),
            format!("`{boot}` is on a logical volume, which the boot loader cannot read: give it a primary partition"),
        );
    }
    if let Some((i, p)) = s
        .partitions
        .iter()
        .enumerate()
        .find(|(_, p)| is_boot(&p.role))
    {
        if !p.primary {
            diags.error(
                "boot-not-primary",
                path.key("partitions")
                    .elem(i, p.id.as_ref().map(Ident::as_str))
                    .key("primary"),
                format!("`{boot}` must be on a primary partition (`primary = true`)"),
            );
        } else if s.partition_number(i).is_none() {
            diags.error(
                "boot-not-primary",
                path.key("partitions").elem(i, p.id.as_ref().map(Ident::as_str)),
                format!("`{boot}` must come before every non-primary partition of its disk, so that its number (GRUB's `root (hdX,Y)`) is certain"),
            );
        }
    }
    if let Some((i, r)) = s.raids.iter().enumerate().find(|(_, r)| is_boot(&r.role)) {
        let rp = path.key("raids").elem(i, Some(r.device.as_str()));
        if r.level != crate::model::RaidLevel::Raid1 {
            diags.error("boot-not-primary", rp.key("level"), format!("`{boot}` on software RAID must be RAID-1, which the boot loader reads as a plain partition"));
        }
        let logical: Vec<&str> = r
            .members
            .iter()
            .filter(|m| {
                s.partitions
                    .iter()
                    .any(|p| p.id.as_ref() == Some(*m) && !p.primary)
            })
            .map(Ident::as_str)
            .collect();
        if !logical.is_empty() {
            diags.error(
                "boot-not-primary",
                rp.key("members"),
                format!(
                    "`{boot}` must be on primary partitions, and `{}` {} not",
                    logical.join("`, `"),
                    if logical.len() == 1 { "is" } else { "are" }
                ),
            );
        }
    }
}

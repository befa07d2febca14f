//! What installing a host needs: a kernel version for the hypervisor's boot entry, a toolstack
//! the OS still has, a root password hash its glibc can read, kickstart options that mean
//! something to its installer, a guest disk that holds `/` and swap.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::{Diagnostics, FieldPath};
use crate::model::release;
use crate::model::{Fabric, Holder, Ident, OsFamily, PartitionScheme, Size, Toolstack};

/// The smallest first disk a guest's kickstart layout (`/` and swap) fits on.
const GUEST_DISK_MIN: Size = Size::from_mib(2048);

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
    let mut without_kernel = BTreeSet::new();
    for dom0 in &fabric.dom0s {
        let Some(os) = fabric.os.get(&dom0.os) else {
            continue;
        };
        if os.kernel_version.is_none() && without_kernel.insert(&dom0.os) {
            diags.error(
                "missing-value",
                FieldPath::root()
                    .key("os")
                    .entry(dom0.os.as_str())
                    .key("kernel_version"),
                format!(
                    "the hypervisor's boot entry of dom0 `{}` needs the version of its Xen kernel",
                    dom0.name
                ),
            );
        }
        if os.family == OsFamily::El9 && dom0.toolstack == Toolstack::Xm {
            diags.error(
                "toolstack-unavailable",
                dom0.at.key("toolstack"),
                "xm and xend were removed in Xen 4.5: an EL9 dom0 needs toolstack = \"xl\"",
            );
        }
        for g in &dom0.guests {
            if let Some(disk) = g.disks.first() {
                if disk.size < GUEST_DISK_MIN {
                    diags.error(
                        "guest-disk-small",
                        g.at.key("disks").elem(0, None).key("size"),
                        format!("the first disk holds the guest's / and swap: it needs at least {GUEST_DISK_MIN}, not {}", disk.size),
                    );
                }
            }
        }
    }
    check_boot(fabric, diags);
    release_kickstart(fabric, diags);
    check_xen_repo(fabric, diags);
}

/// An EL9 dom0's OS names the repository that provides Xen, once for each OS. No EL9 tree
/// has Xen: RHEL 9 ships KVM only (RHEL 9 "Configuring and managing virtualization": Xen is
/// not a supported hypervisor, and RHEL has had no dom0 since RHEL 6), EPEL 9 has no `xen`
/// package (Fedora's `xen.spec` is built for Fedora branches only), and the CentOS Virt SIG's
/// `centos-release-xen` (Xen4CentOS) was built for CentOS 6 and 7 only. Without a repository
/// the installer cannot find `xen`, and the kickstart no longer ignores a missing package.
fn check_xen_repo(fabric: &Fabric, diags: &mut Diagnostics) {
    let mut seen = BTreeSet::new();
    for dom0 in &fabric.dom0s {
        let Some(os) = fabric.os.get(&dom0.os) else {
            continue;
        };
        if os.family == OsFamily::El9 && os.xen_repo.is_none() && seen.insert(&dom0.os) {
            diags.error(
                "xen-repo-missing",
                FieldPath::root()
                    .key("os")
                    .entry(dom0.os.as_str())
                    .key("xen_repo"),
                format!(
                    "dom0 `{}` runs EL9, whose installation tree has no Xen (nor has EPEL 9): name the repository that provides the `xen` package in xen_repo",
                    dom0.name
                ),
            );
        }
    }
}

/// The size of `/boot` in a scheme (its smallest member for an array, the size a growing
/// partition starts from), when the scheme has one.
fn boot_size(scheme: &PartitionScheme) -> Option<Size> {
    match scheme.holder("/boot")? {
        Holder::Partition(i) => Some(scheme.partitions[i].size),
        Holder::Raid(r) => r
            .members
            .iter()
            .filter_map(|m| scheme.partitions.iter().find(|p| p.id.as_ref() == Some(m)))
            .map(|p| p.size)
            .min(),
        Holder::LogicalVolume(lv) => Some(lv.size),
    }
}

/// A dom0's `/boot` at least what its release's installer accepts (anaconda 34, EL9: 512M;
/// the seed's 256M is for EL5), once for each scheme and OS.
fn check_boot(fabric: &Fabric, diags: &mut Diagnostics) {
    let mut seen = BTreeSet::new();
    for dom0 in &fabric.dom0s {
        let (Some(os), Some(scheme)) = (
            fabric.os.get(&dom0.os),
            fabric.partition_schemes.get(&dom0.partitioning),
        ) else {
            continue;
        };
        let Some(min) = os.installer.boot_min else {
            continue;
        };
        let Some(size) = boot_size(scheme) else {
            continue;
        };
        if size < min && seen.insert((&dom0.partitioning, &dom0.os)) {
            diags.error(
                "boot-too-small",
                dom0.at.key("partitioning"),
                format!(
                    "partition scheme `{}` gives /boot {size}, below the {min} that the installer of os `{}` (release {}) accepts (it makes {} itself): use a scheme with a bigger /boot",
                    dom0.partitioning, dom0.os, os.release, os.installer.boot_default
                ),
            );
        }
    }
}

/// The first host using each OS, with how many do: the places messages about an OS point to.
fn hosts_by_os(fabric: &Fabric) -> BTreeMap<&Ident, (&FieldPath, usize)> {
    let mut by_os: BTreeMap<&Ident, (&FieldPath, usize)> = BTreeMap::new();
    for dom0 in &fabric.dom0s {
        for (os, at) in
            std::iter::once((&dom0.os, &dom0.at)).chain(dom0.guests.iter().map(|g| (&g.os, &g.at)))
        {
            by_os.entry(os).or_insert((at, 0)).1 += 1;
        }
    }
    by_os
}

/// What the kickstart settings ask of each release the hosts are installed with: a root
/// password hash its glibc reads, `repo` only where anaconda knows it, `--resolvedeps` only
/// where it means something.
fn release_kickstart(fabric: &Fabric, diags: &mut Diagnostics) {
    let ks = &fabric.kickstart;
    let hash = ks.root_password.as_str();
    // Every release reads MD5: most fabrics need none of the checks below, and then the hosts
    // are not walked again (validation of 110,000 hosts is benchmarked).
    if !ks.resolvedeps && hash.starts_with("$1$") && ks.repos.is_empty() {
        return;
    }
    let mut resolvedeps_ignored = false;
    for (name, (at, count)) in hosts_by_os(fabric) {
        let Some(os) = fabric.os.get(name) else {
            continue;
        };
        let info = os.installer;
        let hosts = || {
            if count == 1 {
                format!("used by {at}")
            } else {
                format!("used by {at} and {} more", count - 1)
            }
        };
        if !info.hashes.iter().any(|p| hash.starts_with(p)) {
            diags.error(
                "password-hash-unsupported",
                FieldPath::root().key("kickstart").key("root_password"),
                format!(
                    "hosts of os `{name}` (release {}, {}) cannot read this kind of hash: use {}{}",
                    os.release,
                    hosts(),
                    release::hash_names(info.hashes),
                    if info.hashes == ["$1$"] {
                        " (MD5, `openssl passwd -1`)"
                    } else {
                        ""
                    }
                ),
            );
        }
        // `repo` came with anaconda 11 (pykickstart's handlers/control.py maps it from RHEL5
        // on, `FC6_Repo`; the RHEL3 and RHEL4 handlers have no `repo`): EL3 and EL4 installers
        // stop at it as an unknown command.
        if !info.repo && !ks.repos.is_empty() {
            diags.error(
                "repo-unsupported",
                FieldPath::root().key("kickstart").key("repos"),
                format!(
                    "the installer of os `{name}` (release {}, {}) does not know the kickstart command `repo` (it came with EL5): remove kickstart.repos, or install those hosts with an EL5 or EL9 release",
                    os.release,
                    hosts()
                ),
            );
        }
        resolvedeps_ignored |= ks.resolvedeps && !info.resolvedeps;
    }
    if resolvedeps_ignored {
        diags.warning(
            "resolvedeps-ignored",
            FieldPath::root().key("kickstart").key("resolvedeps"),
            "`%packages --resolvedeps` has been a deprecated no-op since Fedora Core 4: it is left out of EL5 and EL9 kickstart files (EL3 and EL4 always have it)",
        );
    }
}

//! What installing a host needs: a kernel version for the hypervisor's boot entry, a toolstack
//! the OS still has, a root password hash its glibc can read, kickstart options that mean
//! something to its installer, a guest disk that holds `/` and swap.

use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostics, FieldPath};
use crate::model::{Fabric, OsFamily, Size, Toolstack};

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
    // Which installer families the hosts use matters only for the two checks below; most
    // fabrics need neither, and then the hosts are not walked again.
    let ks = &fabric.kickstart;
    let hash = ks.root_password.as_str();
    if !ks.resolvedeps && hash.starts_with("$1$") && ks.repos.is_empty() {
        return;
    }
    let families: BTreeSet<u8> = fabric
        .dom0s
        .iter()
        .flat_map(|d| std::iter::once(&d.os).chain(d.guests.iter().map(|g| &g.os)))
        .filter_map(|name| fabric.os.get(name).map(|o| o.family as u8))
        .collect();
    let uses = |f: OsFamily| families.contains(&(f as u8));
    if ks.resolvedeps && (uses(OsFamily::El5) || uses(OsFamily::El9)) {
        diags.warning(
            "resolvedeps-ignored",
            FieldPath::root().key("kickstart").key("resolvedeps"),
            "`%packages --resolvedeps` has been a deprecated no-op since Fedora Core 4: it is left out of EL5 and EL9 kickstart files (EL3 and EL4 keep it)",
        );
    }
    // `repo` came with anaconda 11 (pykickstart's handlers/control.py maps it from RHEL5 on,
    // `FC6_Repo`; the RHEL3 and RHEL4 handlers have no `repo`): EL3 and EL4 installers stop
    // at it as an unknown command.
    if let Some(f) = [OsFamily::El3, OsFamily::El4]
        .into_iter()
        .find(|&f| !ks.repos.is_empty() && uses(f))
    {
        diags.error(
            "repo-unsupported",
            FieldPath::root().key("kickstart").key("repos"),
            format!(
                "{} installers do not know the kickstart command `repo` (it came with EL5): remove kickstart.repos, or install those hosts with an EL5 or EL9 release",
                if f == OsFamily::El3 { "EL3" } else { "EL4" }
            ),
        );
    }
    let too_new = |f: OsFamily| match f {
        OsFamily::El3 | OsFamily::El4 => !hash.starts_with("$1$"),
        OsFamily::El5 => {
            !(hash.starts_with("$1$") || hash.starts_with("$5$") || hash.starts_with("$6$"))
        }
        OsFamily::El9 => false,
    };
    if let Some(f) = [OsFamily::El3, OsFamily::El4, OsFamily::El5]
        .into_iter()
        .find(|&f| uses(f) && too_new(f))
    {
        diags.error(
            "password-hash-unsupported",
            FieldPath::root().key("kickstart").key("root_password"),
            format!(
                "{} hosts cannot read this kind of hash: use $1$ (MD5, `openssl passwd -1`){}",
                match f {
                    OsFamily::El3 => "EL3",
                    OsFamily::El4 => "EL4",
                    _ => "EL5",
                },
                if f == OsFamily::El5 {
                    ", $5$ or $6$"
                } else {
                    ""
                }
            ),
        );
    }
}

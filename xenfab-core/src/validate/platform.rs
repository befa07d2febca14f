//! What a dom0's platform can carry: the bridges its guests attach to, the toolstack its Xen
//! release has, the OS releases that can be dom0 at all, and the guests its hypervisor runs.
//!
//! # Bridges
//!
//! A dom0 bridges each network it carries (model/interfaces.rs: its own, on `eth0`, unless
//! its `bridges` say more). The bridge is made by the dom0's
//! network setup (EL5: xend's `network-bridge bridge=<bridge> netdev=eth0`; EL9: the
//! kickstart's `network --device=<bridge> --bridgeslaves=eth0`), named after its network's
//! `bridge`. A dom0 carries the networks of its `bridges` (model/interfaces.rs; by default its
//! own only). A guest NIC on another network would name a bridge that does not exist on that
//! dom0 (xend's or libxl's `vif-bridge` then fails and the guest does not start), or, when two
//! networks share a bridge name, put the guest on the wrong wire: such NICs are refused with
//! `guest-network-unbridged`.
//!
//! A host-only network (`host_only = true`) needs no NIC: a Debian dom0 makes its bridge with
//! no port in `/etc/network/interfaces` (render/debian), so guests of a Debian dom0 may be on
//! host-only networks besides their dom0's. No other dom0 has such a file (`host-only-network`),
//! and a dom0 cannot install through a network with no uplink.

use crate::diagnostic::Diagnostics;
use crate::model::{Dom0, Fabric, OsFamily, Toolstack, VirtMode};

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
    // Guests' releases matter only when some release is EL9: most fabrics skip that walk.
    let any_el9 = fabric.os.values().any(|o| o.family == OsFamily::El9);
    for dom0 in &fabric.dom0s {
        check_bridges(fabric, dom0, diags);
        let Some(os) = fabric.os.get(&dom0.os) else {
            continue;
        };
        check_dom0_release(dom0, os.family, diags);
        if any_el9 {
            check_guest_releases(fabric, dom0, os.family, diags);
        }
    }
}

/// Every guest is on a network its dom0 bridges: the dom0's own, or (Debian dom0s) a
/// host-only one.
fn check_bridges(fabric: &Fabric, dom0: &Dom0, diags: &mut Diagnostics) {
    let debian = fabric
        .os
        .get(&dom0.os)
        .is_some_and(|o| o.family == OsFamily::Debian);
    if fabric
        .networks
        .get(&dom0.network)
        .is_some_and(|n| n.host_only)
    {
        diags.error(
            "host-only-network",
            dom0.at.key("network"),
            format!(
                "dom0 `{}` is on network `{}`, which is host-only (no uplink, a bridge inside each dom0): a dom0 needs a network with a wire; put it on another network",
                dom0.name, dom0.network
            ),
        );
    }
    // The host-only bridges this dom0 makes so far, with their network.
    let mut host_only: Vec<(&crate::model::Ident, &crate::model::Ident)> = Vec::new();
    let carried = &dom0.interfaces.bridges;
    for g in &dom0.guests {
        for nic in g.nics() {
            if dom0.interfaces.bridge_of(nic.network.as_str()).is_some() {
                continue;
            }
            // Lowering keeps only hosts whose network exists; a missing one is reported as
            // `unknown-reference` already.
            let Some(theirs) = fabric.networks.get(nic.network) else {
                continue;
            };
            let at = crate::model::nic_path(&g.at, nic.index).key("network");
            let clash = carried.iter().find(|b| b.bridge == theirs.bridge);
            let clash_host_only = host_only
                .iter()
                .any(|(b, n)| **b == theirs.bridge && *n != nic.network);
            if theirs.host_only && clash.is_none() && !clash_host_only {
                if debian {
                    if !host_only.iter().any(|(_, n)| *n == nic.network) {
                        host_only.push((&theirs.bridge, nic.network));
                    }
                } else {
                    diags.error(
                        "host-only-network",
                        at,
                        format!(
                            "guest `{}` is on host-only network `{}`, whose bridge only a Debian dom0 makes (in /etc/network/interfaces) and dom0 `{}` is not one: put the guest on network `{}`",
                            g.name, nic.network, dom0.name, dom0.network
                        ),
                    );
                }
                continue;
            }
            let names: Vec<String> = carried.iter().map(|b| format!("`{}`", b.network)).collect();
            let how = match clash {
                Some(b) => format!(
                    "its bridge `{}` on dom0 `{}` is the bridge of network `{}`: the guest would be on the wrong wire",
                    theirs.bridge, dom0.name, b.network
                ),
                None => format!(
                    "dom0 `{}` has no bridge `{}` (it carries {}): vif-bridge would fail and the guest would not start",
                    dom0.name,
                    theirs.bridge,
                    names.join(", ")
                ),
            };
            diags.error(
                "guest-network-unbridged",
                at,
                format!(
                    "guest `{}` is on network `{}` but {how}; put the guest on a network its dom0 carries, or carry `{}` on the dom0 (its `bridges`, with a `vlan` on the network to share a NIC)",
                    g.name, nic.network, nic.network
                ),
            );
        }
    }
}

/// The OS release of a dom0 has a Xen hypervisor and the toolstack asked for.
fn check_dom0_release(dom0: &Dom0, family: OsFamily, diags: &mut Diagnostics) {
    match family {
        // RHEL 3 has no Xen kernel at all; RHEL 4 (from 4.5) has only `kernel-xenU`, a guest
        // kernel, and no hypervisor or toolstack: the RHEL 4.5 release notes list Xen
        // support as "Red Hat Enterprise Linux 4.5 as a paravirtualized guest on RHEL 5".
        OsFamily::El3 | OsFamily::El4 => diags.error(
            "dom0-os-unsupported",
            dom0.at.key("os"),
            format!(
                "dom0 `{}` is installed with an {} release, which has no Xen hypervisor nor toolstack (RHEL 4 has only a guest kernel, RHEL 3 none): give it an EL5 or EL9 release",
                dom0.name,
                if family == OsFamily::El3 { "EL3" } else { "EL4" }
            ),
        ),
        // RHEL 5 ships Xen 3.1 (xen-3.0.3 userspace with a 3.1 hypervisor, RHEL 5.1 release
        // notes) with xm and xend only; xl and libxl came with Xen 4.1 (Xen 4.1 release notes,
        // "xl: the new default toolstack" came in 4.2).
        // Debian's Xen packages have had no xend since Xen 4.5 (xen-utils-4.17 ships `xl`
        // only: packages.debian.org/bookworm/amd64/xen-utils-4.17/filelist).
        OsFamily::Debian if dom0.toolstack == Toolstack::Xm => diags.error(
            "toolstack-unavailable",
            dom0.at.key("toolstack"),
            "Debian's Xen has no xm nor xend (they went with Xen 4.5; bookworm's Xen 4.17 ships xl only): a Debian dom0 needs toolstack = \"xl\"",
        ),
        OsFamily::El5 if dom0.toolstack == Toolstack::Xl => diags.error(
            "toolstack-unavailable",
            dom0.at.key("toolstack"),
            "EL5's Xen 3.1 has no xl (it came with Xen 4.1): an EL5 dom0 needs toolstack = \"xm\", or install it with an EL9 release",
        ),
        _ => {}
    }
}

/// The guests' releases can run on the dom0's hypervisor.
fn check_guest_releases(fabric: &Fabric, dom0: &Dom0, family: OsFamily, diags: &mut Diagnostics) {
    // Only an EL5 dom0 (Xen 3.1) limits its guests' releases; an EL3/EL4 one is refused above.
    if family != OsFamily::El5 {
        return;
    }
    for g in &dom0.guests {
        // HVM guests boot their own boot loader from an emulated disk; PVH on an EL5 dom0 is
        // refused already (`mode-needs-xl`, or `toolstack-unavailable` for its xl).
        if !matches!(g.mode, VirtMode::PvPygrub | VirtMode::PvPypxeboot)
            || fabric.os.get(&g.os).map(|o| o.family) != Some(OsFamily::El9)
        {
            continue;
        }
        // A PV guest's kernel is found by dom0's pygrub (pypxeboot hands a local boot to it
        // too), and Xen 3.1's pygrub cannot find an EL9 kernel: its libfsimage reads ext2/3,
        // reiserfs, ufs, iso9660, fat and zfs (tools/libfsimage in Xen 3.1), not EL9's XFS or
        // ext4 (extents) /boot, and it reads only grub-legacy menus (tools/pygrub/src/GrubConf.py),
        // not the BLS entries of /boot/loader/entries that EL9's grub.cfg loads (`blscfg`;
        // pygrub learnt them in Xen 4.13).
        diags.error(
            "guest-os-unsupported",
            g.at.key("os"),
            format!(
                "a {} guest with an EL9 release cannot boot on dom0 `{}` (EL5, Xen 3.1): Xen 3.1's pygrub reads neither EL9's /boot file system nor its BLS boot entries; make it mode = \"hvm\", or put it on an EL9 dom0",
                g.mode.as_str(),
                dom0.name
            ),
        );
    }
}

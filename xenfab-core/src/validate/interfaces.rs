//! A dom0's NICs, bonds and bridges fit together, and a host has one NIC a network.
//!
//! Lowering checked the references (a bond's members, a bridge's device and network exist);
//! here: each device once, each NIC in at most one bond and then used only through it, a
//! bond of two NICs or more, one untagged network and one network a VLAN id per device, one
//! bridge name a wire, and the NIC dom0 boots from on its install network, untagged.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostics, FieldPath};
use crate::model::{Dom0, Fabric, Ident};

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
    for dom0 in &fabric.dom0s {
        check_devices(dom0, diags);
        check_bridges(fabric, dom0, diags);
        check_install_nic(dom0, diags);
        for g in &dom0.guests {
            // Two NICs of a guest on one network: both would join the same bridge, so the
            // guest has two addresses on one wire and no redundancy (vifs do not fail); the
            // kernel answers ARP for either on both (arp_ignore=0) and routes out of one.
            let mut seen: BTreeMap<&Ident, usize> = BTreeMap::new();
            for nic in g.nics() {
                if let Some(first) = seen.insert(nic.network, nic.index) {
                    diags.error(
                        "nics-share-network",
                        crate::model::nic_path(&g.at, nic.index).key("network"),
                        format!(
                            "guest `{}` has eth{first} and eth{} on network `{}`: both would join one bridge, with nothing gained; give each NIC its own network",
                            g.name, nic.index, nic.network
                        ),
                    );
                }
            }
        }
    }
}

/// Each NIC and bond name once; a NIC in at most one bond; a bond of two NICs or more.
fn check_devices(dom0: &Dom0, diags: &mut Diagnostics) {
    let ifs = &dom0.interfaces;
    let mut names: BTreeMap<&str, FieldPath> = BTreeMap::new();
    let nics = ifs
        .nics
        .iter()
        .enumerate()
        .map(|(i, n)| (&n.name, dom0.at.key("nics").elem(i, Some(n.name.as_str()))));
    let bonds = ifs
        .bonds
        .iter()
        .enumerate()
        .map(|(i, b)| (&b.name, dom0.at.key("bonds").elem(i, Some(b.name.as_str()))));
    for (name, at) in nics.chain(bonds) {
        if let Some(first) = names.get(name.as_str()) {
            diags.error_related(
                "interface-conflict",
                at.key("name"),
                &first.key("name"),
                format!("dom0 `{}` has two interfaces named `{name}`", dom0.name),
            );
        } else {
            names.insert(name.as_str(), at);
        }
    }
    let mut member_of: BTreeMap<&str, &Ident> = BTreeMap::new();
    for (i, bond) in ifs.bonds.iter().enumerate() {
        let at = dom0.at.key("bonds").elem(i, Some(bond.name.as_str()));
        if bond.members.len() < 2 {
            diags.error(
                "bond-members",
                at.key("members"),
                format!(
                    "bond `{}` has {} member(s): a bond needs two NICs or more to fail over (bonding.rst); with one NIC, use the NIC itself",
                    bond.name,
                    bond.members.len()
                ),
            );
        }
        for (j, m) in bond.members.iter().enumerate() {
            if let Some(other) = member_of.insert(m.as_str(), &bond.name) {
                diags.error(
                    "interface-conflict",
                    at.key("members").elem(j, None),
                    format!(
                        "NIC `{m}` is a member of bond `{other}` already: a NIC can be enslaved to one bond only"
                    ),
                );
            }
        }
    }
    for (i, b) in ifs.bridges.iter().enumerate() {
        if let Some(bond) = member_of.get(b.device.as_str()) {
            diags.error(
                "interface-conflict",
                dom0.at.key("bridges").elem(i, Some(b.network.as_str())).key("device"),
                format!(
                    "NIC `{}` is a member of bond `{bond}`, whose traffic it carries: carry network `{}` on `{bond}`",
                    b.device, b.network
                ),
            );
        }
    }
}

/// One bridge a network, one untagged network and one network a VLAN id per device, and one
/// bridge name a network on this dom0; a host-only network has no port.
fn check_bridges(fabric: &Fabric, dom0: &Dom0, diags: &mut Diagnostics) {
    let ifs = &dom0.interfaces;
    let mut networks: BTreeMap<&Ident, usize> = BTreeMap::new();
    let mut bridge_names: BTreeMap<&Ident, usize> = BTreeMap::new();
    let mut ports: BTreeMap<String, usize> = BTreeMap::new();
    let at = |i: usize| {
        dom0.at
            .key("bridges")
            .elem(i, Some(ifs.bridges[i].network.as_str()))
    };
    for (i, b) in ifs.bridges.iter().enumerate() {
        if let Some(first) = networks.insert(&b.network, i) {
            diags.error_related(
                "nics-share-network",
                at(i).key("network"),
                &at(first).key("network"),
                format!(
                    "dom0 `{}` carries network `{}` twice: one bridge a network, on one NIC or, for two NICs, on a bond of them",
                    dom0.name, b.network
                ),
            );
            continue;
        }
        if let Some(first) = bridge_names.insert(&b.bridge, i) {
            diags.error_related(
                "interface-conflict",
                at(i).key("network"),
                &at(first).key("network"),
                format!(
                    "networks `{}` and `{}` both have bridge `{}`: on dom0 `{}` they would be one wire; give one network another `bridge`",
                    ifs.bridges[first].network, b.network, b.bridge, dom0.name
                ),
            );
        }
        if let Some(first) = ports.insert(b.port(), i) {
            let what = match b.vlan {
                Some(id) => format!("with VLAN id {id}"),
                None => "untagged".to_owned(),
            };
            diags.error_related(
                "interface-conflict",
                at(i).key("device"),
                &at(first).key("device"),
                format!(
                    "`{}` carries networks `{}` and `{}` {what}: a port belongs to one bridge; give one of them a `vlan`, or another device",
                    b.device, ifs.bridges[first].network, b.network
                ),
            );
        }
        // A host-only install network is platform.rs's `host-only-network` of the dom0.
        if b.network != dom0.network && fabric.networks.get(&b.network).is_some_and(|n| n.host_only)
        {
            diags.error(
                "host-only-network",
                at(i).key("network"),
                format!(
                    "network `{}` is host-only: its bridge has no port; leave it out of `bridges` (a guest on it gets its bridge)",
                    b.network
                ),
            );
        }
    }
}

/// dom0's `mac` is a NIC's, and that NIC reaches the install network untagged: PXE firmware
/// sends untagged frames and boots through the NIC whose MAC DHCP knows.
fn check_install_nic(dom0: &Dom0, diags: &mut Diagnostics) {
    let ifs = &dom0.interfaces;
    let Some(nic) = dom0.boot_nic() else {
        diags.error(
            "install-nic-unusable",
            dom0.at.key("mac"),
            format!(
                "no NIC of dom0 `{}` has its mac {}, the NIC it boots from the network with: give that NIC `mac = \"{}\"` in `nics`",
                dom0.name, dom0.mac, dom0.mac
            ),
        );
        return;
    };
    let Some(bridge) = ifs.bridge_of(dom0.network.as_str()) else {
        return;
    };
    let reaches = bridge.device == nic.name
        || ifs
            .bond_of(nic.name.as_str())
            .is_some_and(|b| b.name == bridge.device);
    if !reaches {
        diags.error(
            "install-nic-unusable",
            dom0.at.key("mac"),
            format!(
                "dom0 `{}` boots from the network with NIC `{}` (mac {}), but its install network `{}` is on `{}`: the installer would find no DHCP server; carry `{}` on `{}` or its bond",
                dom0.name, nic.name, dom0.mac, dom0.network, bridge.device, dom0.network, nic.name
            ),
        );
    } else if let Some(id) = bridge.vlan {
        diags.error(
            "install-nic-unusable",
            dom0.at.key("network"),
            format!(
                "dom0 `{}` installs through network `{}`, which has VLAN id {id}: PXE firmware sends untagged frames; install through an untagged network (the switch port's native VLAN)",
                dom0.name, dom0.network
            ),
        );
    }
}

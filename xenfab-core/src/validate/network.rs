//! Addresses must belong to their networks.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::diagnostic::{Diagnostics, FieldPath};
use crate::model::{Fabric, Ident};

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
    check_overlaps(fabric, diags);
    for (name, net) in &fabric.networks {
        let path = FieldPath::root().key("networks").entry(name.as_str());
        if !net.subnet.contains(&net.gateway) {
            diags.error(
                "gateway-outside-subnet",
                path.key("gateway"),
                format!("gateway {} is outside subnet {}", net.gateway, net.subnet),
            );
        } else if reserved(net.subnet, net.gateway) {
            diags.error(
                "gateway-outside-subnet",
                path.key("gateway"),
                format!(
                    "gateway {} is the network or broadcast address of {}",
                    net.gateway, net.subnet
                ),
            );
        }
    }

    for (network, ip, at) in addresses(fabric) {
        // Lowering only keeps hosts whose network exists.
        let Some(net) = fabric.networks.get(network) else {
            continue;
        };
        let path = || at.key("ip");
        if !net.subnet.contains(&ip) {
            diags.error(
                "ip-outside-network",
                path(),
                format!("ip {ip} is outside network `{}` ({})", network, net.subnet),
            );
        } else if reserved(net.subnet, ip) {
            diags.error(
                "ip-outside-network",
                path(),
                format!(
                    "ip {ip} is the network or broadcast address of `{}` ({})",
                    network, net.subnet
                ),
            );
        } else if ip == net.gateway {
            diags.error(
                "duplicate-ip",
                path(),
                format!("ip {ip} is the gateway of network `{network}`"),
            );
        }
    }
}

/// Every address a host has, with its network and where the fabric file gives it: each
/// host's own, a dom0's on the other networks it carries, a guest's other NICs'.
fn addresses(fabric: &Fabric) -> impl Iterator<Item = (&Ident, Ipv4Addr, FieldPath)> {
    fabric.hosts().flat_map(|h| {
        let others = h
            .other_addresses()
            .into_iter()
            .map(move |a| (a.network, a.ip, a.at(h)));
        std::iter::once((h.network(), h.ip(), h.at().clone())).chain(others)
    })
}

/// Two networks with one subnet, or one inside the other: dhcpd refuses a second `subnet`
/// declaration of the same range and cannot tell overlapping ones apart (a host would belong
/// to both), Kea refuses overlapping subnets, and a host's network would be ambiguous.
fn check_overlaps(fabric: &Fabric, diags: &mut Diagnostics) {
    // By first address, widest first: a network overlaps an earlier one exactly when it
    // starts before the furthest end seen so far (IPv4 networks nest or are disjoint).
    let mut nets: Vec<(&Ident, Ipv4Net)> = fabric
        .networks
        .iter()
        .map(|(name, n)| (name, n.subnet))
        .collect();
    nets.sort_by_key(|(_, n)| (n.network(), n.prefix_len()));
    let mut widest: Option<(&Ident, Ipv4Net)> = None;
    for &(name, net) in &nets {
        match widest {
            Some((first, outer)) if outer.contains(&net.network()) => {
                let how = if outer == net {
                    format!("subnet {net} is also the subnet of network `{first}`")
                } else {
                    format!("subnet {net} overlaps subnet {outer} of network `{first}`")
                };
                diags.error_related(
                    "subnet-overlap",
                    FieldPath::root().key("networks").entry(name.as_str()).key("subnet"),
                    &FieldPath::root().key("networks").entry(first.as_str()).key("subnet"),
                    format!("{how}: dhcpd and Kea refuse overlapping subnets, and a host's network would be ambiguous"),
                );
            }
            _ => widest = Some((name, net)),
        }
    }
}

/// True for the network and broadcast addresses of subnets that have them (not /31, /32).
fn reserved(net: Ipv4Net, ip: Ipv4Addr) -> bool {
    net.prefix_len() < 31 && (ip == net.network() || ip == net.broadcast())
}

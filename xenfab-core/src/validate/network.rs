//! Addresses must belong to their networks.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::diagnostic::{Diagnostics, FieldPath};
use crate::model::Fabric;

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
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

    for host in fabric.hosts() {
        // Lowering only keeps hosts whose network exists.
        let Some(net) = fabric.networks.get(host.network()) else {
            continue;
        };
        let ip = host.ip();
        let path = || host.at().key("ip");
        if !net.subnet.contains(&ip) {
            diags.error(
                "ip-outside-network",
                path(),
                format!(
                    "ip {ip} is outside network `{}` ({})",
                    host.network(),
                    net.subnet
                ),
            );
        } else if reserved(net.subnet, ip) {
            diags.error(
                "ip-outside-network",
                path(),
                format!(
                    "ip {ip} is the network or broadcast address of `{}` ({})",
                    host.network(),
                    net.subnet
                ),
            );
        } else if ip == net.gateway {
            diags.error(
                "duplicate-ip",
                path(),
                format!("ip {ip} is the gateway of network `{}`", host.network()),
            );
        }
    }
}

/// True for the network and broadcast addresses of subnets that have them (not /31, /32).
fn reserved(net: Ipv4Net, ip: Ipv4Addr) -> bool {
    net.prefix_len() < 31 && (ip == net.network() || ip == net.broadcast())
}

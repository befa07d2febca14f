//! Host names, IPs and MACs must each be unique across the whole fabric.

use rustc_hash::FxHashMap as HashMap;
use std::collections::hash_map::Entry;
use std::net::Ipv4Addr;

use crate::diagnostic::Diagnostics;
use crate::model::{Fabric, HostRef, MacAddr, MacScheme, MacSource};

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
    let count = fabric.dom0s.iter().map(|d| 1 + d.guests.len()).sum();
    let mut names: HashMap<&str, HostRef<'_>> =
        HashMap::with_capacity_and_hasher(count, rustc_hash::FxBuildHasher);
    let mut ips: HashMap<Ipv4Addr, HostRef<'_>> =
        HashMap::with_capacity_and_hasher(count, rustc_hash::FxBuildHasher);
    let mut macs: HashMap<MacAddr, HostRef<'_>> =
        HashMap::with_capacity_and_hasher(count, rustc_hash::FxBuildHasher);

    for host in fabric.hosts() {
        let at = host.at();
        match names.entry(host.name().as_str()) {
            Entry::Occupied(first) => diags.error_related(
                "duplicate-name",
                at.key("name"),
                &first.get().at().key("name"),
                format!(
                    "host name `{}` is also used by {}",
                    host.name(),
                    first.get().at()
                ),
            ),
            Entry::Vacant(v) => {
                v.insert(host);
            }
        }
        match ips.entry(host.ip()) {
            Entry::Occupied(first) => diags.error_related(
                "duplicate-ip",
                at.key("ip"),
                &first.get().at().key("ip"),
                format!("ip {} is also used by {}", host.ip(), first.get().at()),
            ),
            Entry::Vacant(v) => {
                v.insert(host);
            }
        }
        let mac = host.mac();
        if mac.is_multicast() || mac.octets() == [0; 6] {
            diags.error(
                "invalid-mac",
                at.key("mac"),
                format!("MAC {mac} is a group or null address, which no NIC can use"),
            );
        }
        match macs.entry(mac) {
            Entry::Occupied(first) => {
                let first = *first.get();
                // Two hosts with one IP derive one MAC: the duplicate IP says it already.
                if !(derived(host) && derived(first) && host.ip() == first.ip()) {
                    diags.error_related(
                        "duplicate-mac",
                        at.key("mac"),
                        &first.at().key("mac"),
                        duplicate_mac_message(host, first),
                    );
                }
            }
            Entry::Vacant(v) => {
                v.insert(host);
            }
        }
        if let HostRef::Guest(_, guest) = host {
            if mac.in_libxl_random_range() {
                let how = match guest.mac_source {
                    MacSource::Derived(scheme) => {
                        format!("derived by `{scheme}` from {}", guest.ip)
                    }
                    MacSource::Explicit => "given".to_owned(),
                };
                diags.warning(
                    "mac-in-random-range",
                    at.key("mac"),
                    format!(
                        "MAC {mac} ({how}) is in the range libxl picks at random for a vif without a MAC \
                         (00:16:3e:00:00:00 to 00:16:3e:7f:ff:ff), so another guest may get it: \
                         use mac_scheme = \"local-ipv4\" or a MAC outside that range"
                    ),
                );
            }
        }
    }
}

/// True for a guest whose MAC was derived from its IP.
fn derived(host: HostRef<'_>) -> bool {
    matches!(host, HostRef::Guest(_, g) if matches!(g.mac_source, MacSource::Derived(_)))
}

/// Explains a duplicate MAC; for the seed's scheme, says why two addresses collided.
fn duplicate_mac_message(host: HostRef<'_>, first: HostRef<'_>) -> String {
    let mac = host.mac();
    let derived_by_last3 = |h: HostRef<'_>| matches!(h, HostRef::Guest(_, g) if g.mac_source == MacSource::Derived(MacScheme::XenLast3));
    if derived_by_last3(host) && derived_by_last3(first) && host.ip() != first.ip() {
        format!(
            "MAC {mac} derived from {} is also derived for {} from {}: the `xen-last3` scheme drops the \
             first octet of the address; give one of them an explicit `mac`, or use mac_scheme = \"local-ipv4\"",
            host.ip(),
            first.at(),
            first.ip()
        )
    } else {
        format!("MAC {mac} is also used by {}", first.at())
    }
}

//! The site's DNS zones (render/dns): every network's reverse zone can be named and holds no
//! other's, every name server has an address, and each address past a host's first has a
//! name of its own (`<host>-<network>`).
//!
//! Two hosts with one name or one address are `duplicate-name` and `duplicate-ip`
//! (identity.rs), and overlapping networks `subnet-overlap` (network.rs): with one address a
//! host, no zone can hold a name or an address twice past those.

use ipnet::Ipv4Net;

use crate::diagnostic::{Diagnostics, FieldPath};
use crate::model::Fabric;
use crate::model::dns::{self, NameServerError, ReverseZone};

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
    check_reverse_zones(fabric, diags);
    check_nic_names(fabric, diags);
    if let Err(errors) = dns::name_servers(fabric) {
        for e in errors {
            match e {
                NameServerError::Unknown { index, name } => diags.error(
                    "unknown-reference",
                    FieldPath::root().key("dns").key("ns").elem(index, None),
                    format!(
                        "name server `{name}` is in {domain} but no host of the fabric: the zone would have no address for it; name a dom0 or guest, or a server outside {domain}",
                        domain = fabric.site.domain
                    ),
                ),
                // With hosts, `missing-next-server` already says what is missing.
                NameServerError::NoDefault if fabric.hosts().next().is_some() => {}
                NameServerError::NoDefault => diags.error(
                    "missing-value",
                    FieldPath::root().key("dns").key("ns"),
                    format!(
                        "the zones need a name server: no host is named `{}` and the site has no install server address (install.next_server) to give the default one; set dns.ns",
                        dns::DEFAULT_NS
                    ),
                ),
            }
        }
    }
}

/// Each address of a host past its first has the name `<host>-<network>` in the forward zone
/// ([`dns::nic_name`]): it must be a host name, and no other host's or address's name, or the
/// zone would hold one name twice.
fn check_nic_names(fabric: &Fabric, diags: &mut Diagnostics) {
    let mut names: std::collections::HashMap<String, (FieldPath, &str)> = fabric
        .hosts()
        .map(|h| (h.name().to_string(), (h.at().clone(), h.name().as_str())))
        .collect();
    for host in fabric.hosts() {
        for address in host.other_addresses() {
            let network = address.network;
            let at = address.at(host);
            match dns::nic_name(host.name(), network) {
                Err(e) => diags.error(
                    "dns-name-unusable",
                    at.key("network"),
                    format!(
                        "the DNS name of {}'s address on network `{network}` would be `{}-{network}`, which is no host name ({e}): shorten the host's or the network's name",
                        host.name(),
                        host.name()
                    ),
                ),
                Ok(name) => {
                    if let Some((first, owner)) = names.get(name.as_str()) {
                        // Two NICs of one host on one network: `nics-share-network` says it.
                        if *owner == host.name().as_str() {
                            continue;
                        }
                        diags.error_related(
                            "duplicate-name",
                            at.key("network"),
                            first,
                            format!(
                                "the DNS name `{name}` of {}'s address on network `{network}` is also the name of {first}: rename one",
                                host.name()
                            ),
                        );
                    } else {
                        names.insert(name.to_string(), (at, host.name().as_str()));
                    }
                }
            }
        }
    }
}

/// A network shorter than /8 has no reverse zone but `in-addr.arpa` itself; a reverse zone
/// that holds another (a /20's /16 and a /24 inside it) answers for the other's addresses
/// too: a secondary of the wider zone alone says they do not exist.
fn check_reverse_zones(fabric: &Fabric, diags: &mut Diagnostics) {
    let zones: Vec<(&str, Ipv4Net, ReverseZone)> = fabric
        .networks
        .iter()
        .filter_map(|(name, net)| {
            let zone = ReverseZone::of(net.subnet);
            if zone.is_none() {
                diags.error(
                    "reverse-zone-unnamed",
                    FieldPath::root().key("networks").entry(name.as_str()).key("subnet"),
                    format!(
                        "subnet {} is wider than a /8: its reverse zone would be in-addr.arpa itself; split it into /8 or longer networks",
                        net.subnet
                    ),
                );
            }
            zone.map(|z| (name.as_str(), net.subnet, z))
        })
        .collect();
    for &(name, subnet, zone) in &zones {
        // Overlapping networks are `subnet-overlap` already.
        let wider = zones.iter().find(|&&(_, other_net, other)| {
            other != zone
                && other.contains(zone)
                && !other_net.contains(&subnet.network())
                && !subnet.contains(&other_net.network())
        });
        if let Some(&(other, _, wide)) = wider {
            diags.error_related(
                "reverse-zone-overlap",
                FieldPath::root().key("networks").entry(name).key("subnet"),
                &FieldPath::root().key("networks").entry(other).key("subnet"),
                format!(
                    "the reverse zone {} of network `{name}` is inside {}, the reverse zone of network `{other}` (reverse zones sit on octet boundaries): a server of the wider zone alone answers that `{name}`'s addresses have no name; give `{other}` a /8, /16 or /24 boundary of its own, or move `{name}` out of {}",
                    zone.name(),
                    wide.name(),
                    wide.net
                ),
            );
        }
    }
}

//! DNS: the settings of the site's zones, the records every host gets, and the zones those
//! records go into.
//!
//! [`records`] is the one source of the site's address records: the forward zone, the reverse
//! zones, the `nsupdate` script and dnsmasq's `host-record` lines are all built from it. Today
//! a host has one address (its install NIC's), so it yields one record a host; a host with more
//! NICs would yield one record a NIC, the host's own name on its install NIC.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::Serialize;

use super::fabric::{Fabric, HostRef};
use super::names::{DomainName, HostName, Ident};

/// Defaults of the SOA timers, in seconds.
///
/// RFC 1912 section 2.2: refresh "20 mins to 2 hours" when secondaries may poll often, retry
/// "some fraction of the refresh interval", expire "2-4 weeks". The SOA minimum is the TTL of
/// negative answers since RFC 2308 (section 4), whose section 5 finds "one to three hours" to
/// work well; RFC 1912's "1-5 days" predates that meaning.
pub mod soa_defaults {
    /// The TTL of every record (`$TTL`): one hour.
    pub const TTL: u32 = 3600;
    /// SOA refresh: two hours (RFC 1912 section 2.2).
    pub const REFRESH: u32 = 7200;
    /// SOA retry: 15 minutes, a fraction of refresh (RFC 1912 section 2.2).
    pub const RETRY: u32 = 900;
    /// SOA expire: two weeks (RFC 1912 section 2.2).
    pub const EXPIRE: u32 = 1_209_600;
    /// SOA minimum, the negative-caching TTL: one hour (RFC 2308 section 5).
    pub const MINIMUM: u32 = 3600;
}

/// The name of the default name server, in the site's domain: a host of that name, or else the
/// install server.
pub const DEFAULT_NS: &str = "ns";

/// The DNS settings of the site (`[dns]` of the fabric file), with every default applied.
#[derive(Debug, Clone, Serialize)]
pub struct DnsSettings {
    /// The zones' name servers (NS records), as given: a name without a dot is a host of the
    /// site's domain, a name with dots is fully qualified. Empty: the default, `ns` (a host of
    /// that name, or else the install server at its address).
    pub ns: Vec<DomainName>,
    /// The SOA's responsible mailbox (RNAME) as a domain name: `hostmaster.example.org` is
    /// `hostmaster@example.org`.
    pub hostmaster: DomainName,
    /// The TTL of every record (`$TTL`).
    pub ttl: u32,
    /// SOA refresh, in seconds.
    pub refresh: u32,
    /// SOA retry, in seconds.
    pub retry: u32,
    /// SOA expire, in seconds.
    pub expire: u32,
    /// SOA minimum (the TTL of negative answers), in seconds.
    pub minimum: u32,
}

impl DnsSettings {
    /// The settings of a site in `domain` that sets none.
    pub fn defaults(domain: &DomainName) -> DnsSettings {
        DnsSettings {
            ns: Vec::new(),
            hostmaster: hostmaster_of(domain),
            ttl: soa_defaults::TTL,
            refresh: soa_defaults::REFRESH,
            retry: soa_defaults::RETRY,
            expire: soa_defaults::EXPIRE,
            minimum: soa_defaults::MINIMUM,
        }
    }
}

/// `hostmaster.<domain>`, the default RNAME.
pub fn hostmaster_of(domain: &DomainName) -> DomainName {
    // A domain is at most 253 characters, so `hostmaster.` may not fit: keep the domain then.
    format!("hostmaster.{domain}")
        .parse()
        .unwrap_or_else(|_| domain.clone())
}

/// One address record: a name of the site's domain, its address, its network and its host.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    /// The name, a label of the site's domain (`ullr` for `ullr.example.org`; `ullr-storage`
    /// for ullr's address on network `storage`, [`nic_name`]).
    pub name: HostName,
    /// The address.
    pub ip: Ipv4Addr,
    /// The network the address is on.
    pub network: &'a Ident,
    /// The host whose address it is.
    pub host: HostRef<'a>,
}

/// The name of a host's address on another network than its first: `<host>-<network>`
/// (`ullr-storage`), so that each address has a name and the host's own name keeps its
/// first address. An error when that is no host name (longer than 63 characters, or a
/// network name with `_`): validation reports it (`dns-name-unusable`).
pub fn nic_name(host: &HostName, network: &Ident) -> Result<HostName, super::NameError> {
    format!("{host}-{network}").parse()
}

/// Every address record of the site, host by host in fabric order (a dom0, then its guests),
/// each host's first address first, then its others ([`HostRef::other_addresses`]) under their
/// [`nic_name`] (those without one are left out; validation refuses them).
pub fn records(fabric: &Fabric) -> impl Iterator<Item = Record<'_>> {
    fabric.hosts().flat_map(|host| {
        let own = Record {
            name: host.name().clone(),
            ip: host.ip(),
            network: host.network(),
            host,
        };
        let others = host.other_addresses().into_iter().filter_map(move |a| {
            Some(Record {
                name: nic_name(host.name(), a.network).ok()?,
                ip: a.ip,
                network: a.network,
                host,
            })
        });
        std::iter::once(own).chain(others)
    })
}

/// A reverse zone: the `in-addr.arpa` zone of the addresses of one or more networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReverseZone {
    /// The addresses the zone covers: a /8, /16 or /24.
    pub net: Ipv4Net,
}

impl ReverseZone {
    /// The reverse zone of `subnet`: at the octet boundary at or above its prefix, so a /24
    /// gives `96.168.192.in-addr.arpa`, a /16 `168.192.in-addr.arpa`, a /20 its /16 and a /25
    /// (or longer) its /24. None for a prefix shorter than 8: the zone would be `in-addr.arpa`
    /// itself.
    pub fn of(subnet: Ipv4Net) -> Option<ReverseZone> {
        let prefix = (subnet.prefix_len() / 8).min(3) * 8;
        if prefix == 0 {
            return None;
        }
        Ipv4Net::new(subnet.network(), prefix)
            .ok()
            .map(|net| ReverseZone { net: net.trunc() })
    }

    /// How many octets of an address the zone's name holds (1 to 3).
    fn octets(self) -> usize {
        usize::from(self.net.prefix_len() / 8)
    }

    /// The zone's name, without the final dot: `96.168.192.in-addr.arpa`.
    pub fn name(self) -> String {
        let octets = self.net.network().octets();
        let mut labels: Vec<String> = octets[..self.octets()]
            .iter()
            .rev()
            .map(ToString::to_string)
            .collect();
        labels.push("in-addr.arpa".to_owned());
        labels.join(".")
    }

    /// The owner name of `ip`'s PTR record, relative to the zone: `43` in a /24's zone,
    /// `43.96` in a /16's.
    pub fn owner(self, ip: Ipv4Addr) -> String {
        let octets = ip.octets();
        let labels: Vec<String> = octets[self.octets()..]
            .iter()
            .rev()
            .map(ToString::to_string)
            .collect();
        labels.join(".")
    }

    /// Whether the zone holds the PTR name of every address of `other`'s.
    pub fn contains(self, other: ReverseZone) -> bool {
        self.net.contains(&other.net)
    }
}

/// A name server of the zones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameServer {
    /// Its fully qualified name, without the final dot.
    pub fqdn: String,
    /// The address record the forward zone needs for it besides the hosts' own: the install
    /// server's, for the default `ns` when no host has that name.
    pub glue: Option<(HostName, Ipv4Addr)>,
}

/// Why a name server of `[dns] ns` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameServerError {
    /// A name in the site's domain that no host has: the zone would have no address for it.
    Unknown {
        /// The index in `dns.ns`.
        index: usize,
        /// The name as given.
        name: String,
    },
    /// The default name server: no host is named `ns`, and the site has no install server
    /// address to give it.
    NoDefault,
}

/// The address of the install server: `install.next_server`, else the first network's (in name
/// order) that has its own.
pub fn install_server_ip(fabric: &Fabric) -> Option<Ipv4Addr> {
    fabric
        .install
        .next_server
        .or_else(|| fabric.networks.values().find_map(|n| n.next_server))
}

/// The zones' name servers, in the order of `[dns] ns`, or the default one.
pub fn name_servers(fabric: &Fabric) -> Result<Vec<NameServer>, Vec<NameServerError>> {
    let domain = fabric.site.domain.as_str();
    let is_host = |label: &str| fabric.hosts().any(|h| h.name().as_str() == label);
    if fabric.dns.ns.is_empty() {
        let fqdn = format!("{DEFAULT_NS}.{domain}");
        if is_host(DEFAULT_NS) {
            return Ok(vec![NameServer { fqdn, glue: None }]);
        }
        let name: Option<HostName> = DEFAULT_NS.parse().ok();
        return match (name, install_server_ip(fabric)) {
            (Some(name), Some(ip)) => Ok(vec![NameServer {
                fqdn,
                glue: Some((name, ip)),
            }]),
            _ => Err(vec![NameServerError::NoDefault]),
        };
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (index, ns) in fabric.dns.ns.iter().enumerate() {
        let text = ns.as_str();
        // A name without a dot, or one label over the site's domain: a host of the site.
        let label = if text.contains('.') {
            text.strip_suffix(domain)
                .and_then(|rest| rest.strip_suffix('.'))
        } else {
            Some(text)
        };
        let in_domain =
            !text.contains('.') || text == domain || text.ends_with(&format!(".{domain}"));
        match label {
            Some(label) if is_host(label) => out.push(NameServer {
                fqdn: format!("{label}.{domain}"),
                glue: None,
            }),
            _ if in_domain => errors.push(NameServerError::Unknown {
                index,
                name: text.to_owned(),
            }),
            _ => out.push(NameServer {
                fqdn: text.to_owned(),
                glue: None,
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(subnet: &str) -> Option<ReverseZone> {
        ReverseZone::of(subnet.parse().unwrap())
    }

    #[test]
    fn reverse_zones_sit_on_octet_boundaries() {
        let name = |s: &str| zone(s).map(ReverseZone::name);
        assert_eq!(name("192.168.96.0/24").unwrap(), "96.168.192.in-addr.arpa");
        assert_eq!(name("192.168.0.0/16").unwrap(), "168.192.in-addr.arpa");
        assert_eq!(
            name("192.168.96.128/25").unwrap(),
            "96.168.192.in-addr.arpa"
        );
        assert_eq!(name("192.168.96.64/26").unwrap(), "96.168.192.in-addr.arpa");
        assert_eq!(name("192.168.96.0/20").unwrap(), "168.192.in-addr.arpa");
        assert_eq!(name("10.0.0.0/8").unwrap(), "10.in-addr.arpa");
        assert_eq!(name("10.1.2.3/32").unwrap(), "2.1.10.in-addr.arpa");
        assert_eq!(name("8.0.0.0/7"), None);
        assert_eq!(name("0.0.0.0/0"), None);
    }

    #[test]
    fn owners_are_the_octets_below_the_zone() {
        let ip: Ipv4Addr = "192.168.96.43".parse().unwrap();
        assert_eq!(zone("192.168.96.0/24").unwrap().owner(ip), "43");
        assert_eq!(zone("192.168.0.0/16").unwrap().owner(ip), "43.96");
        assert_eq!(zone("192.0.0.0/8").unwrap().owner(ip), "43.96.168");
    }

    #[test]
    fn zones_nest() {
        let wide = zone("10.1.0.0/23").unwrap();
        let narrow = zone("10.1.5.0/24").unwrap();
        assert!(wide.contains(narrow));
        assert!(!narrow.contains(wide));
        assert!(wide.contains(wide));
    }
}

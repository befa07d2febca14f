//! The site's DNS zones, from the address records of [`crate::model::dns::records`]:
//!
//! - `dns/<domain>.zone`: the forward zone (BIND master file format, RFC 1035 section 5):
//!   `$ORIGIN`, `$TTL`, SOA, NS, an A record a host (and one for the default name server when
//!   it is the install server).
//! - `dns/<zone>.in-addr.arpa.zone`: a reverse zone a network, at the octet boundary at or
//!   above its prefix (networks in one /24 share it), with a PTR record a host.
//! - `dns/named.conf.xenfab`: a `zone` statement for each, to include from named.conf.
//! - `dns/nsupdate.txt`: the same records as an nsupdate(1) script, for a master that takes
//!   dynamic updates: a `zone` line and a `send` for each zone, as the records of one update
//!   "must be in the same zone" (nsupdate(1) of BIND 9.18, DESCRIPTION); its comments are
//!   lines beginning with `;` ("Lines beginning with a semicolon (;) are comments").
//!
//! Each zone is rendered with serial 1 and inserted with [`Tree::insert_zone`]: when the tree
//! is written, a zone whose records did not change keeps the file (and serial) on disk, and
//! one whose records changed gets the serial on disk plus one.
//!
//! Names are RFC 1123 labels and domains ([`crate::model::HostName`],
//! [`crate::model::DomainName`]), addresses are typed: nothing here needs quoting.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Serialize;

use super::{lookup, templates};
use crate::error::RenderError;
use crate::model::Fabric;
use crate::model::dns::{self, NameServerError, ReverseZone};
use crate::output::Tree;
use crate::render::Part;

/// The serial of a rendered zone; the output plan replaces it (see [`Tree::insert_zone`]).
const RENDERED_SERIAL: u32 = 1;

pub(crate) fn render(
    fabric: &Fabric,
    part: Part,
    env: &minijinja::Environment<'_>,
    tree: &mut Tree,
) -> Result<(), RenderError> {
    // site-wide files only
    if part != Part::Site {
        return Ok(());
    }
    let zones = zones(fabric)?;
    for z in &zones {
        tree.insert_zone(
            &format!("dns/{}", z.file),
            templates::render(env, "dns-zone.j2", z)?,
        )?;
    }
    let site = fabric.site.name.to_string();
    tree.insert_file(
        "dns/named.conf.xenfab",
        templates::render(
            env,
            "named.conf.xenfab.j2",
            ListView {
                site: &site,
                ttl: fabric.dns.ttl,
                zones: &zones,
            },
        )?,
    )?;
    let updated: Vec<&ZoneView> = zones.iter().filter(|z| !z.records.is_empty()).collect();
    tree.insert_file(
        "dns/nsupdate.txt",
        templates::render(
            env,
            "nsupdate.txt.j2",
            ListView {
                site: &site,
                ttl: fabric.dns.ttl,
                zones: &updated,
            },
        )?,
    )?;
    Ok(())
}

/// One zone file.
#[derive(Debug, Serialize)]
struct ZoneView {
    /// What the header calls it: `Forward zone example.org`.
    description: String,
    site: String,
    /// The zone's name without the final dot (named.conf's `zone "…"`).
    name: String,
    /// The zone's name with the final dot (`$ORIGIN`, nsupdate's `zone`).
    origin: String,
    /// The file name in `dns/`.
    file: String,
    ttl: u32,
    mname: String,
    rname: String,
    serial: u32,
    refresh: u32,
    retry: u32,
    expire: u32,
    minimum: u32,
    /// The name servers, fully qualified with the final dot.
    ns: Vec<String>,
    records: Vec<RecordView>,
}

/// One A or PTR record.
#[derive(Debug, Serialize)]
struct RecordView {
    /// The owner relative to the zone's origin.
    owner: String,
    /// The owner fully qualified, with the final dot (nsupdate).
    absolute: String,
    rtype: &'static str,
    data: String,
}

#[derive(Serialize)]
struct ListView<'a, Z: Serialize> {
    site: &'a str,
    ttl: u32,
    zones: &'a [Z],
}

/// The forward zone, then the reverse zones in address order.
fn zones(fabric: &Fabric) -> Result<Vec<ZoneView>, RenderError> {
    let domain = fabric.site.domain.as_str();
    let name_servers = dns::name_servers(fabric).map_err(|errors| {
        let name = match errors.first() {
            Some(NameServerError::Unknown { name, .. }) => name.clone(),
            _ => dns::DEFAULT_NS.to_owned(),
        };
        lookup::missing("name server", &name)
    })?;
    let mname = name_servers
        .first()
        .map(|ns| format!("{}.", ns.fqdn))
        .ok_or_else(|| lookup::missing("name server", &dns::DEFAULT_NS))?;
    let s = &fabric.dns;
    let zone = |description: String, name: String, records: Vec<RecordView>| ZoneView {
        description,
        site: fabric.site.name.to_string(),
        origin: format!("{name}."),
        file: format!("{name}.zone"),
        name,
        ttl: s.ttl,
        mname: mname.clone(),
        rname: format!("{}.", s.hostmaster),
        serial: RENDERED_SERIAL,
        refresh: s.refresh,
        retry: s.retry,
        expire: s.expire,
        minimum: s.minimum,
        ns: name_servers
            .iter()
            .map(|n| format!("{}.", n.fqdn))
            .collect(),
        records,
    };
    let a = |label: &str, ip: Ipv4Addr| RecordView {
        owner: label.to_owned(),
        absolute: format!("{label}.{domain}."),
        rtype: "A",
        data: ip.to_string(),
    };

    let mut forward: Vec<RecordView> = name_servers
        .iter()
        .filter_map(|n| n.glue.as_ref())
        .map(|(label, ip)| a(label.as_str(), *ip))
        .collect();
    let mut reverse: BTreeMap<ReverseZone, Vec<(Ipv4Addr, RecordView)>> = BTreeMap::new();
    for net in fabric.networks.values() {
        if let Some(z) = ReverseZone::of(net.subnet) {
            reverse.entry(z).or_default();
        }
    }
    for r in dns::records(fabric) {
        forward.push(a(r.name.as_str(), r.ip));
        let net = lookup::network(fabric, r.network)?;
        let z = ReverseZone::of(net.subnet)
            .ok_or_else(|| lookup::missing("reverse zone of network", r.network))?;
        let owner = z.owner(r.ip);
        let ptr = RecordView {
            absolute: format!("{owner}.{}.", z.name()),
            owner,
            rtype: "PTR",
            data: format!("{}.", fabric.fqdn(&r.name)),
        };
        reverse.entry(z).or_default().push((r.ip, ptr));
    }

    let mut out = vec![zone(
        format!("Forward zone {domain}"),
        domain.to_owned(),
        forward,
    )];
    for (z, mut records) in reverse {
        records.sort_by_key(|(ip, _)| *ip);
        out.push(zone(
            format!("Reverse zone of {}", z.net),
            z.name(),
            records.into_iter().map(|(_, r)| r).collect(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Fabric {
        crate::load(crate::EXAMPLE, "example.toml").unwrap().fabric
    }

    #[test]
    fn the_example_has_a_forward_zone_and_reverse_zones() {
        let fabric = example();
        let zones = zones(&fabric).unwrap();
        assert_eq!(zones[0].name, fabric.site.domain.as_str());
        assert!(zones[1..].iter().all(|z| z.name.ends_with(".in-addr.arpa")));
        let hosts = fabric.hosts().count();
        let ptrs: usize = zones[1..].iter().map(|z| z.records.len()).sum();
        assert_eq!(ptrs, hosts);
        assert!(zones[0].records.len() >= hosts);
    }
}

//! Host names, IPs and MACs must each be unique across the whole fabric.

use rustc_hash::FxHashMap as HashMap;
use std::collections::hash_map::Entry;
use std::net::Ipv4Addr;

use crate::diagnostic::Diagnostics;
use crate::model::{Fabric, HostRef, MacAddr, MacScheme, MacSource};

/// Names a guest cannot have: its xm config is `/etc/xen/<name>` (and `<name>.cfg` for xl), and
/// these are what lives there already. From the file lists of CentOS 5's `xen` package
/// (xen-3.0.3: `/etc/xen/auto`, `/etc/xen/scripts`, `/etc/xen/qemu-ifup`,
/// `/etc/xen/xmexample1`, `/etc/xen/xmexample2`, besides `*.sxp` and `xmexample.*`, which no
/// host name can spell) and Debian's `xen-utils-common` (`/etc/xen/scripts`,
/// `/etc/xen/cpupool`, `/etc/xen/auto` for xendomains). `auto` and `scripts` are directories:
/// provision.sh would install the guest's config over one.
const ETC_XEN: [&str; 6] = [
    "auto",
    "cpupool",
    "qemu-ifup",
    "scripts",
    "xmexample1",
    "xmexample2",
];

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
    check_guest_names(fabric, diags);
    check_fqdn_length(fabric, diags);
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
        note_ip(&mut ips, host.ip(), host, at, diags);
        let mac = host.mac();
        check_mac_usable(mac, at, diags);
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
    check_other_nics(fabric, &mut ips, &mut macs, diags);
}

/// The addresses and MACs of hosts' other NICs (a dom0's bridges and NICs, a guest's
/// `extra_nics`) are unique too, across every host and NIC.
fn check_other_nics<'a>(
    fabric: &'a Fabric,
    ips: &mut HashMap<Ipv4Addr, HostRef<'a>>,
    macs: &mut HashMap<MacAddr, HostRef<'a>>,
    diags: &mut Diagnostics,
) {
    for host in fabric.hosts() {
        for address in host.other_addresses() {
            note_ip(ips, address.ip, host, &address.at(host), diags);
        }
        match host {
            HostRef::Dom0(dom0) => {
                for (i, n) in dom0.interfaces.nics.iter().enumerate() {
                    let Some(mac) = n.mac.filter(|m| *m != dom0.mac) else {
                        continue;
                    };
                    let at = dom0.at.key("nics").elem(i, Some(n.name.as_str()));
                    note_mac(mac, host, &at, macs, diags);
                }
            }
            HostRef::Guest(_, g) => {
                for nic in g.nics().skip(1) {
                    let at = crate::model::nic_path(&g.at, nic.index);
                    note_mac(nic.mac, host, &at, macs, diags);
                }
            }
        }
    }
}

/// Records that `host` has `ip` (given at `at`), or reports `duplicate-ip` if another host or
/// NIC has it already.
fn note_ip<'a>(
    ips: &mut HashMap<Ipv4Addr, HostRef<'a>>,
    ip: Ipv4Addr,
    host: HostRef<'a>,
    at: &crate::diagnostic::FieldPath,
    diags: &mut Diagnostics,
) {
    match ips.entry(ip) {
        Entry::Occupied(first) => diags.error_related(
            "duplicate-ip",
            at.key("ip"),
            &first.get().at().key("ip"),
            format!("ip {ip} is also used by {}", first.get().at()),
        ),
        Entry::Vacant(v) => {
            v.insert(host);
        }
    }
}

/// A MAC no NIC can have: a group (multicast) or the null address.
fn check_mac_usable(mac: MacAddr, at: &crate::diagnostic::FieldPath, diags: &mut Diagnostics) {
    if mac.is_multicast() || mac.octets() == [0; 6] {
        diags.error(
            "invalid-mac",
            at.key("mac"),
            format!("MAC {mac} is a group or null address, which no NIC can use"),
        );
    }
}

/// Records that `host` has `mac` on a NIC past its first (given at `at`), or reports
/// `duplicate-mac` if another host or NIC has it already. (A host's first MAC is checked in
/// `check`, which knows when two derived MACs are one duplicate IP.)
fn note_mac<'a>(
    mac: MacAddr,
    host: HostRef<'a>,
    at: &crate::diagnostic::FieldPath,
    macs: &mut HashMap<MacAddr, HostRef<'a>>,
    diags: &mut Diagnostics,
) {
    check_mac_usable(mac, at, diags);
    match macs.entry(mac) {
        Entry::Occupied(first) => diags.error_related(
            "duplicate-mac",
            at.key("mac"),
            &first.get().at().key("mac"),
            format!("MAC {mac} is also used by {}", first.get().at()),
        ),
        Entry::Vacant(v) => {
            v.insert(host);
        }
    }
}

/// Guest names that collide with `/etc/xen` on the dom0, or that xm and xl read as a domain
/// id: `xl console 7` means domain 7 (xl's `find_domain()` calls libxl's
/// `libxl_domain_qualifier_to_domid()`, tools/libxl/libxl_utils.c, which takes an argument of
/// digits only as an id and never looks it up as a name), so a guest named `7` could not be
/// named on the command line.
fn check_guest_names(fabric: &Fabric, diags: &mut Diagnostics) {
    for dom0 in &fabric.dom0s {
        for g in &dom0.guests {
            let name = g.name.as_str();
            if ETC_XEN.contains(&name) {
                diags.error(
                    "reserved-name",
                    g.at.key("name"),
                    format!(
                        "`{name}` is already in /etc/xen on the dom0 (its guest configs live there): give the guest another name"
                    ),
                );
            } else if name.bytes().all(|b| b.is_ascii_digit()) {
                diags.error(
                    "reserved-name",
                    g.at.key("name"),
                    format!(
                        "`{name}` is a number, which xm and xl read as a domain id: give the guest a name with a letter"
                    ),
                );
            }
        }
    }
}

/// A host's FQDN, `<name>.<domain>`, is at most 253 characters (RFC 1035 section 2.3.4 as
/// RFC 2181 reads it; dhcpd's `host-name` and kickstart's `--hostname` carry it whole). A
/// name is at most 63, so only a long domain needs the hosts walked.
fn check_fqdn_length(fabric: &Fabric, diags: &mut Diagnostics) {
    let domain = fabric.site.domain.as_str().len();
    if domain + 1 + 63 <= 253 {
        return;
    }
    for host in fabric.hosts() {
        let len = host.name().as_str().len() + 1 + domain;
        if len > 253 {
            diags.error(
                "fqdn-too-long",
                host.at().key("name"),
                format!(
                    "`{}.{}` is {len} characters: a host's FQDN is at most 253; shorten the name or site.domain",
                    host.name(),
                    fabric.site.domain
                ),
            );
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

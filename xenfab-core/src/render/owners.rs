//! Which host of a fabric each entry of its output tree is an artefact of: what `xenfab show
//! HOST` prints and `xenfab render --host HOST` shows.
//!
//! An entry is a host's when its path says so:
//!
//! - a file named after the host's FQDN, anywhere (`kickstart/<fqdn>.ks`,
//!   `inventory/hosts/<fqdn>.json`, `tftpboot/pxelinux.cfg/<fqdn>.rescue.cfg`, …);
//! - one of its network boot links (`tftpboot/pxelinux.cfg/01-<mac>`, `<HEXIP>`, GRUB2's and
//!   iPXE's), whatever they point to;
//! - for a dom0, everything in its directory `dom0s/<fqdn>/`: the files that go onto the dom0,
//!   its guests' configs among them (`provision.sh` installs them);
//! - for a guest, its own files in its dom0's directory: `xen/<name>`, `xen/<name>.cfg`,
//!   `libvirt/<name>.xml`, `install/<name>.sh` (they are its dom0's too).
//!
//! Every entry of a dom0's [`Part`] is its dom0's, its guests' or both; the site's files
//! (DHCP, DNS, `inventory/hosts.csv`, the shared boot menus) are no host's: they list them
//! all (`tests/parts.rs` checks both on every valid case of the golden corpus).

use std::collections::HashMap;

use crate::error::RenderError;
use crate::model::{Dom0, Fabric, HostRef};
use crate::output::{Part, Tree};
use crate::render::netboot::{TFTP_DIR, host_links};

/// The hosts of a fabric by the paths of their artefacts (see the [module docs](self)).
#[derive(Debug)]
pub struct Owners<'f> {
    fabric: &'f Fabric,
    /// Each host by its FQDN.
    by_fqdn: HashMap<String, HostRef<'f>>,
    /// Each host's network boot links, by their path in the tree.
    links: HashMap<String, HostRef<'f>>,
}

impl<'f> Owners<'f> {
    /// The owners of `fabric`'s artefacts.
    pub fn new(fabric: &'f Fabric) -> Owners<'f> {
        let mut by_fqdn = HashMap::new();
        let mut links = HashMap::new();
        for host in fabric.hosts() {
            by_fqdn.insert(fabric.fqdn(host.name()), host);
            // the links' paths do not depend on the state, only where they point
            for (link, _) in host_links(fabric, host, host.state()) {
                links.insert(format!("{TFTP_DIR}/{link}"), host);
            }
        }
        Owners {
            fabric,
            by_fqdn,
            links,
        }
    }

    /// The hosts the entry at `path` (a path of the output tree) is an artefact of: none for
    /// the site's files, a dom0 and one of its guests for a guest's config.
    pub fn of(&self, path: &str) -> Vec<HostRef<'f>> {
        let mut hosts = Vec::new();
        if let Some(rest) = path.strip_prefix("dom0s/") {
            if let Some((dir, inside)) = rest.split_once('/') {
                if let Some(&host @ HostRef::Dom0(d)) = self.by_fqdn.get(dir) {
                    hosts.push(host);
                    hosts.extend(guest_in_dom0_dir(d, inside));
                }
            }
            return hosts;
        }
        if let Some(&host) = self.links.get(path) {
            hosts.push(host);
            return hosts;
        }
        let name = path.rsplit('/').next().unwrap_or(path);
        // the longest FQDN the name is, or begins with before a `.`
        let named = name
            .match_indices('.')
            .map(|(end, _)| &name[..end])
            .chain(std::iter::once(name))
            .filter_map(|prefix| self.by_fqdn.get(prefix))
            .next_back();
        hosts.extend(named.copied());
        hosts
    }

    /// Whether the entry at `path` is an artefact of `host`.
    pub fn is_of(&self, path: &str, host: HostRef<'_>) -> bool {
        self.of(path).iter().any(|h| same(*h, host))
    }

    /// The artefacts of `host`: the entries of its dom0's part that are its, rendered as
    /// [`crate::render()`] renders them (the fabric must have passed validation).
    pub fn render(&self, host: HostRef<'_>) -> Result<Tree, RenderError> {
        let dom0 = match host {
            HostRef::Dom0(d) | HostRef::Guest(d, _) => &d.name,
        };
        let index = self
            .fabric
            .dom0s
            .iter()
            .position(|d| &d.name == dom0)
            .unwrap_or(usize::MAX);
        let part = super::render_part(self.fabric, Part::Dom0(index))?;
        let mut tree = Tree::for_part(Part::Dom0(index));
        for (path, entry, _) in part.iter_parts() {
            if self.is_of(path.as_str(), host) {
                tree.insert(path.clone(), entry.clone())?;
            }
        }
        Ok(tree)
    }
}

/// Whether `a` and `b` are one host (host names are unique in a fabric).
fn same(a: HostRef<'_>, b: HostRef<'_>) -> bool {
    a.name() == b.name() && matches!(a, HostRef::Dom0(_)) == matches!(b, HostRef::Dom0(_))
}

/// The guest of `dom0` whose config `inside` (a path in the dom0's directory) is.
fn guest_in_dom0_dir<'f>(dom0: &'f Dom0, inside: &str) -> Option<HostRef<'f>> {
    let (dir, file) = inside.split_once('/')?;
    let name = match dir {
        "xen" => file.strip_suffix(".cfg").unwrap_or(file),
        "libvirt" => file.strip_suffix(".xml")?,
        "install" => file.strip_suffix(".sh")?,
        _ => return None,
    };
    dom0.guests
        .iter()
        .find(|g| g.name.as_str() == name)
        .map(|g| HostRef::Guest(dom0, g))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guests_config_is_its_own_and_its_dom0s() {
        let fabric = crate::testing::repo_fabric("tests/cases/example/fabric.toml");
        let owners = Owners::new(&fabric);
        let names = |path: &str| -> Vec<String> {
            owners
                .of(path)
                .iter()
                .map(|h| h.name().to_string())
                .collect()
        };
        assert_eq!(names("dom0s/xen01.example.org/xen/ullr"), ["xen01", "ullr"]);
        assert_eq!(
            names("dom0s/xen03.example.org/xen/idunn.cfg"),
            ["xen03", "idunn"]
        );
        assert_eq!(names("dom0s/xen01.example.org/provision.sh"), ["xen01"]);
        assert_eq!(names("kickstart/xen01.example.org.reinstall.ks"), ["xen01"]);
        assert_eq!(
            names("tftpboot/pxelinux.cfg/01-00-16-3e-a8-60-2b"),
            ["ullr"]
        );
        assert!(names("dhcp/dhcpd.conf").is_empty());
        assert!(names("dom0s/nope.example.org/provision.sh").is_empty());
        assert!(names("kickstart/xen01.example.org/../x.ks").is_empty());
        let host = |name: &str| fabric.host(name).map(|h| h.name().to_string());
        assert_eq!(host("XEN01.example.org").as_deref(), Some("xen01"));
        assert_eq!(host("ullr").as_deref(), Some("ullr"));
        assert_eq!(host("../xen01"), None);
        assert_eq!(host("xen01.example.org.evil"), None);
    }
}

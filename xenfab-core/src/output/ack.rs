//! The install acknowledgement (docs/lifecycle.md): at the end of its install, a host's
//! kickstart calls `xenfab serve`, which switches the host to local boot, as AII's
//! `aii-installack.cgi` does and as `xenfab boot HOST localboot` does by hand. Without it, a
//! host left in `install` with `on_reboot = "restart"` installs itself again at every boot.
//!
//! Everything here is what the server decides and writes; the HTTP is the command's. A call is
//! taken only from the host's own address (the fabric's `ip` for that FQDN): a host's
//! kickstart runs with that address, so any other caller is refused and nothing changes.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use super::fsops::{self, Node};
use super::{LockKind, OutputError, TreeLock, boot};
use crate::model::{BootState, Fabric, HostRef};
use crate::render::netboot::host_links;

/// Why an acknowledgement was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// No host of the fabric has that FQDN.
    #[error("no host `{fqdn}` in the fabric")]
    UnknownHost {
        /// The name asked for, escaped.
        fqdn: String,
    },
    /// The call came from another address than the host's.
    #[error("`{fqdn}` is {expected}: a call from {peer} cannot acknowledge its install")]
    WrongAddress {
        /// The host.
        fqdn: String,
        /// The host's address in the fabric.
        expected: Ipv4Addr,
        /// Where the call came from.
        peer: IpAddr,
    },
    /// The host cannot boot its local disk (see [`BootState::refusal`]).
    #[error("`{fqdn}` cannot be in state `localboot`: {why}")]
    Refused {
        /// The host.
        fqdn: String,
        /// Why.
        why: String,
    },
    /// Locking the tree or switching the links failed.
    #[error("cannot switch `{fqdn}` to local boot")]
    Output {
        /// The host.
        fqdn: String,
        /// What failed.
        #[source]
        source: OutputError,
    },
}

/// The host whose FQDN is `fqdn` (compared without regard to ASCII case).
pub fn find_host<'a>(fabric: &'a Fabric, fqdn: &str) -> Option<HostRef<'a>> {
    let wanted = fqdn.to_ascii_lowercase();
    fabric.hosts().find(|h| fabric.fqdn(h.name()) == wanted)
}

/// Whether a call from `peer` comes from `host`'s own address. An IPv4 address seen by an
/// IPv6 socket (`::ffff:a.b.c.d`) is that IPv4 address; nothing else matches.
pub fn from_host(host: HostRef<'_>, peer: IpAddr) -> bool {
    let peer = match peer {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
    };
    peer == Some(host.ip())
}

/// Switches the host `fqdn` to local boot for a call from `peer`: its pxelinux, GRUB2 and iPXE
/// links in `tftp_root` point at the local-disk entry, and the state is recorded, under the
/// exclusive lock of the output tree at `tree_root` (a render, a `xenfab boot` and other acks
/// take turns; this waits for the lock). A host that does not boot from the network (a pygrub
/// or PVH guest) has no links: only its recorded state changes, which the next `xenfab render`
/// uses for its config. Gives the host's FQDN and the links written.
///
/// Everything is checked before anything changes: an unknown host, another address than the
/// host's, or a host that cannot boot locally is refused with nothing written.
pub fn acknowledge(
    fabric: &Fabric,
    tree_root: &Path,
    tftp_root: &Path,
    fqdn: &str,
    peer: IpAddr,
) -> Result<(String, Vec<(String, String)>), AckError> {
    let host = find_host(fabric, fqdn).ok_or_else(|| AckError::UnknownHost {
        fqdn: fqdn.escape_debug().to_string(),
    })?;
    let fqdn = fabric.fqdn(host.name());
    if !from_host(host, peer) {
        return Err(AckError::WrongAddress {
            fqdn,
            expected: host.ip(),
            peer,
        });
    }
    if let Some(why) = BootState::Localboot.refusal(fabric, host) {
        return Err(AckError::Refused { fqdn, why });
    }
    let links = host_links(fabric, host, BootState::Localboot);
    let output = |source| AckError::Output {
        fqdn: fqdn.clone(),
        source,
    };
    let _lock = TreeLock::acquire(tree_root, LockKind::Exclusive, |_| true).map_err(output)?;
    boot::switch(tftp_root, &fqdn, BootState::Localboot, &links).map_err(output)?;
    Ok((fqdn, links))
}

/// One line of the status page: a host and what network boot gives it next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostStatus {
    /// The host's FQDN.
    pub fqdn: String,
    /// `dom0` or `guest`.
    pub role: &'static str,
    /// Its address.
    pub ip: Ipv4Addr,
    /// Its state: the one recorded in the TFTP tree (by `xenfab boot` or an acknowledgement),
    /// else the fabric's.
    pub state: BootState,
    /// Whether `state` is a recorded one.
    pub recorded: bool,
}

/// Each host of `fabric`, in the fabric's order, with its state in the TFTP tree at
/// `tftp_root`.
pub fn status(fabric: &Fabric, tftp_root: &Path) -> Result<Vec<HostStatus>, OutputError> {
    let recorded = boot::read_states(tftp_root)?;
    Ok(fabric
        .hosts()
        .map(|host| {
            let fqdn = fabric.fqdn(host.name());
            let (role, own) = match host {
                HostRef::Dom0(d) => ("dom0", d.state),
                HostRef::Guest(_, g) => ("guest", g.state),
            };
            let saved = recorded.hosts.get(&fqdn).copied();
            HostStatus {
                role,
                ip: host.ip(),
                state: saved.unwrap_or(own),
                recorded: saved.is_some(),
                fqdn,
            }
        })
        .collect())
}

/// The install files of `fabric` that `xenfab serve` gives out under `/ks/`: `<fqdn>.ks` of
/// every host and `<fqdn>.reinstall.ks` of every dom0 (relative to `kickstart/`), and
/// `preseed/<fqdn>.cfg` and `preseed/<fqdn>.reinstall.cfg` of every Debian dom0 (the output tree's `preseed/`, at
/// `<kickstart_url>/preseed/<fqdn>.cfg` as render/preseed names it), what `render` writes.
/// Only these names are served: a request for anything else (`..`, a directory, another
/// file) is not found, whatever the tree holds.
pub fn kickstart_names(fabric: &Fabric) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for host in fabric.hosts() {
        let fqdn = fabric.fqdn(host.name());
        if let HostRef::Dom0(d) = host {
            names.insert(format!("{fqdn}.reinstall.ks"));
            if fabric
                .os
                .get(&d.os)
                .is_some_and(|o| o.family == crate::model::OsFamily::Debian)
            {
                names.insert(format!("preseed/{fqdn}.cfg"));
                names.insert(format!("preseed/{fqdn}.reinstall.cfg"));
            }
        }
        names.insert(format!("{fqdn}.ks"));
    }
    names
}

/// Reads `kickstart/<name>` (or `preseed/<file>` for a name `preseed/<file>`) of the output
/// tree at `tree_root`, for a `name` of [`kickstart_names`]; None when it is not a regular
/// file there (not rendered yet, or replaced by a symlink or a directory, which is never
/// followed).
pub fn read_kickstart(tree_root: &Path, name: &str) -> Result<Option<Vec<u8>>, OutputError> {
    let (dir, name) = match name.strip_prefix("preseed/") {
        Some(file) => ("preseed", file),
        None => ("kickstart", name),
    };
    let dir = tree_root.join(dir);
    if fsops::node(&dir)? != Node::Dir {
        return Ok(None);
    }
    let path = dir.join(name);
    match fsops::node(&path)? {
        Node::File { .. } => fsops::read_file(&path).map(Some),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Fabric {
        crate::load(crate::EXAMPLE, "example.toml").unwrap().fabric
    }

    #[test]
    fn a_debian_dom0s_preseed_file_is_served_from_preseed() {
        let fabric = crate::testing::repo_fabric("examples/debian-site.toml");
        let names = kickstart_names(&fabric);
        assert!(names.contains("preseed/deb01.example.org.cfg"), "{names:?}");
        assert!(names.contains("preseed/deb01.example.org.reinstall.cfg"));
        assert!(!names.iter().any(|n| n.starts_with("preseed/mimir")));
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("preseed")).unwrap();
        std::fs::write(
            dir.path().join("preseed/deb01.example.org.cfg"),
            "#_preseed_V1\n",
        )
        .unwrap();
        assert_eq!(
            read_kickstart(dir.path(), "preseed/deb01.example.org.cfg").unwrap(),
            Some(b"#_preseed_V1\n".to_vec())
        );
        assert_eq!(
            read_kickstart(dir.path(), "deb01.example.org.ks").unwrap(),
            None
        );
    }

    #[test]
    fn only_the_hosts_own_address_is_its() {
        let fabric = example();
        let host = find_host(&fabric, "ULLR.example.org").unwrap();
        let ip = host.ip();
        assert!(from_host(host, IpAddr::V4(ip)));
        assert!(from_host(host, IpAddr::V6(ip.to_ipv6_mapped())));
        // the IPv4-compatible form (::a.b.c.d) is deprecated and not the host
        assert!(!from_host(host, IpAddr::V6(ip.to_ipv6_compatible())));
        let other = Ipv4Addr::from(ip.to_bits() ^ 1);
        assert!(!from_host(host, IpAddr::V4(other)));
        assert!(!from_host(host, "127.0.0.1".parse().unwrap()));
        assert!(!from_host(host, "::1".parse().unwrap()));
    }

    #[test]
    fn unknown_and_foreign_calls_change_nothing() {
        let f = example();
        let dir = tempfile::tempdir().unwrap();
        let tftp = dir.path().join("tftpboot");
        std::fs::create_dir(&tftp).unwrap();
        let err = acknowledge(
            &f,
            dir.path(),
            &tftp,
            "nobody.example.org\n",
            "127.0.0.1".parse().unwrap(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no host `nobody.example.org\\n` in the fabric"
        );
        let ip = find_host(&f, "ullr.example.org").unwrap().ip();
        let err = acknowledge(
            &f,
            dir.path(),
            &tftp,
            "ullr.example.org",
            "192.0.2.7".parse().unwrap(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`ullr.example.org` is {ip}: a call from 192.0.2.7 cannot acknowledge its install"
            )
        );
        // nothing written: no state file, no lock file left, no links
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("tftpboot")]);
        assert_eq!(std::fs::read_dir(&tftp).unwrap().count(), 0);
    }

    #[test]
    fn served_names_are_the_rendered_kickstarts() {
        let f = example();
        let names = kickstart_names(&f);
        assert!(names.contains("xen01.example.org.ks"));
        assert!(names.contains("xen01.example.org.reinstall.ks"));
        assert!(names.contains("ullr.example.org.ks"));
        assert!(!names.contains("ullr.example.org.reinstall.ks"));
        let tree = crate::render(&f).unwrap();
        let rendered: std::collections::BTreeSet<String> = tree
            .iter()
            .filter_map(|(path, _)| path.as_str().strip_prefix("kickstart/").map(str::to_owned))
            .collect();
        assert_eq!(names, rendered);
    }

    #[test]
    fn a_symlink_in_place_of_a_kickstart_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let ks = dir.path().join("kickstart");
        std::fs::create_dir(&ks).unwrap();
        std::fs::write(dir.path().join("secret"), "x").unwrap();
        std::os::unix::fs::symlink("../secret", ks.join("a.example.org.ks")).unwrap();
        std::fs::write(ks.join("b.example.org.ks"), "install\n").unwrap();
        assert_eq!(
            read_kickstart(dir.path(), "a.example.org.ks").unwrap(),
            None
        );
        assert_eq!(
            read_kickstart(dir.path(), "c.example.org.ks").unwrap(),
            None
        );
        assert_eq!(
            read_kickstart(dir.path(), "b.example.org.ks").unwrap(),
            Some(b"install\n".to_vec())
        );
    }
}

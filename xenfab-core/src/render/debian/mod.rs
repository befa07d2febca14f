//! Debian dom0s: what a Debian dom0 reads, the Debian way, beside the EL renderers.
//!
//! | file | on the dom0 | what |
//! |---|---|---|
//! | `dom0s/<fqdn>/grub/xen.cfg` | `/etc/default/grub.d/xen.cfg` | `GRUB_CMDLINE_XEN_DEFAULT` (dom0's memory and vCPUs), for `update-grub` |
//! | `dom0s/<fqdn>/grub/grub.cfg` | `/boot/grub/grub.cfg`, or an entry of `/etc/grub.d/40_custom` | the same entry, written out: `multiboot2`/`module2` |
//! | `dom0s/<fqdn>/kernel-img.conf` | `/etc/kernel-img.conf` | the kernel's symbolic links in `/boot`, which the entry loads |
//! | `dom0s/<fqdn>/network/interfaces` | `/etc/network/interfaces` | the bridge of dom0's network with its NIC as port, one with no port a host-only network |
//! | `dom0s/<fqdn>/default/xendomains` | `/etc/default/xendomains` | the guests linked in `/etc/xen/auto` start with dom0 |
//!
//! `xl.conf` comes from the toolstack renderer, the guests' configs and `provision.sh` from
//! the guests renderer, as for any `xl` dom0. Installing a Debian dom0 is render/preseed's:
//! its preseed file's late command writes these files into the installed system.
//!
//! Sources of the Debian facts: the bookworm packages' file lists and files (xen-hypervisor-
//! 4.17-amd64 installs `/boot/xen-4.17-amd64.gz` and no `/boot/xen.gz`; xen-hypervisor-common's
//! `/etc/default/grub.d/xen.cfg`, whose variables `/etc/grub.d/20_linux_xen` of grub-common
//! reads; linux-base's `linux-update-symlinks` and kernel-img.conf(5); xen-utils-common's
//! `/etc/default/xendomains` and `/etc/init.d/xendomains`; bridge-utils-interfaces(5) and
//! interfaces(5) of ifupdown 0.8), and xen-command-line(7) and xl.conf(5) of Xen 4.17.

use std::collections::BTreeSet;

use serde::Serialize;

use super::grub::xen_args;
use super::kickstart::{boot_fstype, root_device};
use super::{lookup, templates};
use crate::error::RenderError;
use crate::model::{Dom0, Fabric, FsType, Network, OsFamily, SAVE_DIR, release};
use crate::output::Tree;
use crate::render::Part;

pub(crate) fn render(
    fabric: &Fabric,
    part: Part,
    env: &minijinja::Environment<'_>,
    tree: &mut Tree,
) -> Result<(), RenderError> {
    for dom0 in part.dom0s(fabric) {
        let os = lookup::os(fabric, &dom0.os)?;
        if os.family != OsFamily::Debian {
            continue;
        }
        let fqdn = fabric.fqdn(&dom0.name);
        let xen = release::debian_xen(os.family, os.release)
            .ok_or_else(|| lookup::missing("Xen version of OS release", &dom0.os))?;
        let boot = boot_view(fabric, dom0, xen)?;
        tree.insert_file(
            &format!("dom0s/{fqdn}/grub/xen.cfg"),
            templates::render(env, "debian-xen.cfg.j2", &boot)?,
        )?;
        tree.insert_file(
            &format!("dom0s/{fqdn}/grub/grub.cfg"),
            templates::render(env, "debian-grub.cfg.j2", &boot)?,
        )?;
        tree.insert_file(
            &format!("dom0s/{fqdn}/kernel-img.conf"),
            templates::render(env, "debian-kernel-img.conf.j2", &boot)?,
        )?;
        tree.insert_file(
            &format!("dom0s/{fqdn}/network/interfaces"),
            templates::render(env, "debian-interfaces.j2", interfaces_view(fabric, dom0)?)?,
        )?;
        tree.insert_file(
            &format!("dom0s/{fqdn}/default/xendomains"),
            templates::render(
                env,
                "debian-xendomains.j2",
                XendomainsView {
                    fqdn: fqdn.clone(),
                    save_dir: SAVE_DIR,
                },
            )?,
        )?;
    }
    Ok(())
}

/// The hypervisor's boot entry, for `xen.cfg`, `grub.cfg` and `kernel-img.conf`.
#[derive(Serialize)]
struct BootView {
    fqdn: String,
    memory: String,
    vcpus: u32,
    /// Xen's command line: dom0's memory (fixed unless it balloons), its vCPUs, the console.
    xen_args: String,
    /// dom0 kernel's arguments after `root=… ro`.
    kernel_args: String,
    root_device: String,
    /// GRUB's module for the file system of /boot.
    insmod_fs: &'static str,
    /// The files GRUB loads, from the root of the file system that holds `/boot`.
    xen: String,
    kernel: String,
    initrd: String,
    /// GRUB's own serial terminal (`serial --unit=0 --speed=115200`), when dom0 has a
    /// serial console.
    serial_command: Option<String>,
}

fn boot_view(fabric: &Fabric, dom0: &Dom0, xen: &str) -> Result<BootView, RenderError> {
    let scheme = lookup::scheme(fabric, dom0)?;
    // GRUB reads the file system that holds /boot: paths are relative to it.
    let prefix = if scheme.holder("/boot").is_some() {
        ""
    } else {
        "/boot"
    };
    let serial = fabric.serial_console(dom0);
    let xen_line = xen_args(dom0, serial, true);
    // `net.ifnames=0`: the kernel names the NIC eth0, the bridge's port in
    // /etc/network/interfaces (as on EL9 dom0s, render/toolstack).
    let mut kernel_args = vec!["net.ifnames=0".to_owned()];
    if serial.is_some() {
        // Xen's console is on the port (xen_args); dom0's is Xen's `hvc0`.
        kernel_args.push(super::grub::dom0_console(OsFamily::Debian).to_owned());
    }
    let serial_command = serial.map(crate::model::SerialConsole::grub_serial);
    Ok(BootView {
        fqdn: fabric.fqdn(&dom0.name),
        memory: dom0.memory.to_string(),
        vcpus: dom0.vcpus,
        xen_args: xen_line,
        kernel_args: kernel_args.join(" "),
        root_device: root_device(scheme),
        insmod_fs: match boot_fstype(scheme) {
            FsType::Xfs => "xfs",
            FsType::Ext2 | FsType::Ext3 | FsType::Ext4 => "ext2",
            // never /boot's (validation: `esp-unusable`)
            FsType::Efi => "fat",
        },
        // xen-hypervisor-<v>-amd64 installs /boot/xen-<v>-amd64.gz, and nothing links
        // /boot/xen.gz to it (20_linux_xen finds the files by that pattern).
        xen: format!("{prefix}/xen-{xen}-amd64.gz"),
        // linux-update-symlinks (linux-base) keeps `vmlinuz` and `initrd.img` pointing at the
        // newest kernel, in /boot with `link_in_boot = yes` (kernel-img.conf(5)), so that the
        // entry names no kernel version and survives kernel updates.
        kernel: format!("{prefix}/vmlinuz"),
        initrd: format!("{prefix}/initrd.img"),
        serial_command,
    })
}

#[derive(Serialize)]
struct InterfacesView {
    fqdn: String,
    /// NICs that are a bond's member or a VLAN's parent: up, with no address of their own.
    links: Vec<LinkView>,
    bridges: Vec<BridgeView>,
}

/// A stanza with no address (`inet manual`): a bond, a bond's member, a VLAN device.
#[derive(Serialize)]
struct LinkView {
    name: String,
    /// Its options (`bond-slaves eth0 eth1`, `vlan-raw-device bond0`), one a line.
    options: Vec<String>,
    /// Why it is there, for the comment above it.
    what: String,
}

/// A bridge stanza of /etc/network/interfaces.
#[derive(Serialize)]
struct BridgeView {
    bridge: String,
    network: String,
    /// `eth0`, `bond0`, `bond0.20`, or `none` for a host-only network.
    ports: String,
    /// dom0's address with the prefix length (`192.168.96.11/24`); none: `inet manual`.
    address: Option<String>,
    gateway: Option<String>,
    dns: Option<String>,
}

fn interfaces_view(fabric: &Fabric, dom0: &Dom0) -> Result<InterfacesView, RenderError> {
    let ifs = &dom0.interfaces;
    let mut links = Vec::new();
    // Bonds, with their members (ifenslave's README.Debian: the bond's stanza names its
    // `bond-slaves`; the members need no stanza of their own, and get none). Plain NICs that
    // carry a bridge need none either: bridge-utils brings the ports up.
    for bond in &ifs.bonds {
        let members: Vec<&str> = bond
            .members
            .iter()
            .map(crate::model::Ident::as_str)
            .collect();
        links.push(LinkView {
            name: bond.name.to_string(),
            options: vec![
                format!("bond-slaves {}", members.join(" ")),
                format!("bond-mode {}", bond.mode.as_str()),
                format!("bond-miimon {}", crate::model::BOND_MIIMON),
            ],
            what: format!("bond of {}", members.join(" and ")),
        });
    }
    // VLAN devices: `<device>.<id>` on `vlan-raw-device` (vlan's interfaces(5) options).
    for (name, parent, id) in ifs.vlans() {
        links.push(LinkView {
            name,
            options: vec![format!("vlan-raw-device {parent}")],
            what: format!("VLAN {id} on {parent}"),
        });
    }
    let mut bridges = Vec::new();
    for b in &ifs.bridges {
        let net = lookup::network(fabric, &b.network)?;
        let own = b.network == dom0.network;
        bridges.push(BridgeView {
            bridge: b.bridge.to_string(),
            network: b.network.to_string(),
            ports: b.port(),
            address: b.ip.map(|ip| format!("{ip}/{}", net.subnet.prefix_len())),
            // One default route: the install network's.
            gateway: own.then(|| net.gateway.to_string()),
            dns: if own { dns(net) } else { None },
        });
    }
    // The host-only networks of its guests (validation allows no other network), once each.
    let mut seen = BTreeSet::new();
    for g in &dom0.guests {
        for nic in g.nics() {
            if ifs.bridge_of(nic.network.as_str()).is_some() || !seen.insert(nic.network) {
                continue;
            }
            let net = lookup::network(fabric, nic.network)?;
            bridges.push(BridgeView {
                bridge: net.bridge.to_string(),
                network: nic.network.to_string(),
                ports: "none".to_owned(),
                // dom0 is the gateway of a host-only network: its guests' way to dom0.
                address: Some(format!("{}/{}", net.gateway, net.subnet.prefix_len())),
                gateway: None,
                dns: None,
            });
        }
    }
    Ok(InterfacesView {
        fqdn: fabric.fqdn(&dom0.name),
        links,
        bridges,
    })
}

/// `dns-nameservers` (read by resolvconf's ifupdown hook when installed; ifupdown itself
/// passes unknown options to its hooks and ignores them otherwise).
fn dns(net: &Network) -> Option<String> {
    if net.dns.is_empty() {
        return None;
    }
    let list: Vec<String> = net.dns.iter().map(ToString::to_string).collect();
    Some(list.join(" "))
}

#[derive(Serialize)]
struct XendomainsView {
    fqdn: String,
    save_dir: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn debian_example() -> Fabric {
        crate::testing::repo_fabric("examples/debian-site.toml")
    }

    #[test]
    fn the_entry_names_debians_files_and_dom0s_share() {
        let fabric = debian_example();
        let dom0 = &fabric.dom0s[0];
        let view = boot_view(&fabric, dom0, "4.17").unwrap();
        assert!(view.xen.ends_with("/xen-4.17-amd64.gz"), "{}", view.xen);
        assert!(view.kernel.ends_with("/vmlinuz"));
        assert!(view.initrd.ends_with("/initrd.img"));
        assert!(
            view.xen_args.starts_with(&format!(
                "dom0_mem={m}M,max:{m}M dom0_max_vcpus={v} ",
                m = dom0.memory.mib(),
                v = dom0.vcpus
            )),
            "{}",
            view.xen_args
        );
    }

    #[test]
    fn host_only_networks_get_a_bridge_without_port() {
        let fabric = debian_example();
        let view = interfaces_view(&fabric, &fabric.dom0s[0]).unwrap();
        assert_eq!(view.bridges[0].ports, "eth0");
        assert!(view.bridges[0].gateway.is_some());
        let host_only: Vec<_> = view.bridges.iter().filter(|b| b.ports == "none").collect();
        assert_eq!(host_only.len(), 1);
        assert!(host_only[0].gateway.is_none());
    }
}

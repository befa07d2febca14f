//! Network boot: the TFTP tree that pxelinux, pypxeboot, GRUB2 and iPXE read, laid out the way
//! pxelinux looks files up and Quattor's aii-pxelinux lays them out. Paths are relative to the
//! TFTP root, under `tftpboot/` in the output tree.
//!
//! - `pxelinux.cfg/<fqdn>.cfg`: the install entry of a host (kernel, initrd, `ks=…/<fqdn>.ks`);
//!   `pxelinux.cfg/localboot.cfg`: boot from the local disk. Each network-booted host has two
//!   links, `pxelinux.cfg/01-<mac>` and `pxelinux.cfg/<HEXIP>`, to one or the other, by its
//!   state. pypxeboot (the seed's PV guests) reads the same files: one entry, `key=value`
//!   arguments only.
//! - `pxelinux.cfg/netinstall-<image>`: the seed's interactive install menu of each boot image
//!   pypxeboot guests use.
//! - `grub2/<fqdn>.cfg`, `grub2/localboot.cfg`, links `grub2/grub.cfg-01-<mac>` and
//!   `grub2/grub.cfg-<HEXIP>` (GRUB2's own lookup names).
//! - `ipxe/<fqdn>.ipxe`, `ipxe/localboot.ipxe`, links `ipxe/<mac>.ipxe` (iPXE's
//!   `${mac:hexhyp}`), and `ipxe/boot.ipxe`, the script that chains to them.
//!
//! Links are what `xenfab boot HOST install|localboot` switches; [`host_links`] says which.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{lookup, templates};
use crate::error::RenderError;
use crate::model::{BootState, Fabric, HostRef, Ident, OsFamily, VirtMode, hex_ip};
use crate::output::Tree;

/// Where the TFTP root is in the output tree.
pub const TFTP_DIR: &str = "tftpboot";

pub(crate) fn render(
    fabric: &Fabric,
    env: &minijinja::Environment<'_>,
    tree: &mut Tree,
) -> Result<(), RenderError> {
    tree.insert_file(
        &format!("{TFTP_DIR}/pxelinux.cfg/localboot.cfg"),
        templates::render(env, "pxelinux-localboot.cfg.j2", ())?,
    )?;
    tree.insert_file(
        &format!("{TFTP_DIR}/grub2/localboot.cfg"),
        templates::render(env, "grub2-localboot.cfg.j2", ())?,
    )?;
    tree.insert_file(
        &format!("{TFTP_DIR}/ipxe/localboot.ipxe"),
        templates::render(env, "ipxe-localboot.ipxe.j2", ())?,
    )?;
    tree.insert_file(
        &format!("{TFTP_DIR}/ipxe/boot.ipxe"),
        templates::render(env, "ipxe-boot.ipxe.j2", ())?,
    )?;

    let mut netinstall = BTreeSet::new();
    for host in fabric.hosts() {
        let Some(loader) = loader(host) else { continue };
        let fqdn = fabric.fqdn(host.name());
        let entry = install_entry(fabric, host)?;
        let name = format!("{TFTP_DIR}/pxelinux.cfg/{fqdn}.cfg");
        tree.insert_file(
            &name,
            templates::render(env, "pxelinux-install.cfg.j2", &entry)?,
        )?;
        if loader == Loader::Firmware {
            tree.insert_file(
                &format!("{TFTP_DIR}/grub2/{fqdn}.cfg"),
                templates::render(env, "grub2-install.cfg.j2", &entry)?,
            )?;
            tree.insert_file(
                &format!("{TFTP_DIR}/ipxe/{fqdn}.ipxe"),
                templates::render(env, "ipxe-install.ipxe.j2", &entry)?,
            )?;
        }
        if let HostRef::Guest(_, g) = host {
            if g.mode == VirtMode::PvPypxeboot {
                netinstall.insert(&g.boot_image);
            }
        }
        for (path, target) in host_links(fabric, host, host.state()) {
            tree.insert_symlink(&format!("{TFTP_DIR}/{path}"), target)?;
        }
    }
    for image in netinstall {
        let view = netinstall_entry(fabric, image)?;
        tree.insert_file(
            &format!("{TFTP_DIR}/pxelinux.cfg/netinstall-{image}"),
            templates::render(env, "pxelinux-netinstall.cfg.j2", &view)?,
        )?;
    }
    Ok(())
}

/// What boots a host from the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loader {
    /// A machine's (or an HVM guest's emulated) PXE firmware: pxelinux, GRUB2 or iPXE.
    Firmware,
    /// pypxeboot, which reads pxelinux's files in dom0.
    Pypxeboot,
}

/// How a host boots from the network, if it does: PV guests booted by pygrub and PVH guests
/// boot their own disk.
fn loader(host: HostRef<'_>) -> Option<Loader> {
    match host {
        HostRef::Dom0(_) => Some(Loader::Firmware),
        HostRef::Guest(_, g) => match g.mode {
            VirtMode::Hvm => Some(Loader::Firmware),
            VirtMode::PvPypxeboot => Some(Loader::Pypxeboot),
            VirtMode::PvPygrub | VirtMode::Pvh => None,
        },
    }
}

/// The links, relative to the TFTP root, that make network boot find a host's install entry or
/// the local-disk one, and what each points to (relative to its own directory).
pub fn host_links(fabric: &Fabric, host: HostRef<'_>, state: BootState) -> Vec<(String, String)> {
    let Some(loader) = loader(host) else {
        return Vec::new();
    };
    let fqdn = fabric.fqdn(host.name());
    let (pxe, ipxe) = match state {
        BootState::Install => (format!("{fqdn}.cfg"), format!("{fqdn}.ipxe")),
        BootState::Localboot => ("localboot.cfg".to_owned(), "localboot.ipxe".to_owned()),
    };
    let mac = host.mac().pxelinux_name();
    let hex = hex_ip(host.ip());
    let mut links = vec![
        (format!("pxelinux.cfg/{mac}"), pxe.clone()),
        (format!("pxelinux.cfg/{hex}"), pxe.clone()),
    ];
    if loader == Loader::Firmware {
        links.push((format!("grub2/grub.cfg-{mac}"), pxe.clone()));
        links.push((format!("grub2/grub.cfg-{hex}"), pxe));
        links.push((format!("ipxe/{}.ipxe", mac.trim_start_matches("01-")), ipxe));
    }
    links
}

#[derive(Serialize)]
struct Entry {
    fqdn: String,
    label: String,
    kernel: String,
    initrd: String,
    initrd_name: String,
    /// Kernel arguments besides `initrd=`.
    args: String,
    next_server: String,
}

fn install_entry(fabric: &Fabric, host: HostRef<'_>) -> Result<Entry, RenderError> {
    let (os_name, image_name) = match host {
        HostRef::Dom0(d) => {
            let os = lookup::os(fabric, &d.os)?;
            (&d.os, &os.boot_image)
        }
        HostRef::Guest(_, g) => (&g.os, &g.boot_image),
    };
    let os = lookup::os(fabric, os_name)?;
    let image = fabric
        .boot_images
        .get(image_name)
        .ok_or_else(|| lookup::missing("boot image", image_name))?;
    let ks = fabric.kickstart_url(host.name());
    let mut args: Vec<String> = image.append.iter().map(ToString::to_string).collect();
    let current = os.family == OsFamily::El9;
    if current {
        // Current anaconda names NICs by MAC: BOOTIF says which one booted.
        args.push(format!("inst.ks={ks}"));
        args.push(format!("BOOTIF={}", host.mac().pxelinux_name()));
        if matches!(host, HostRef::Dom0(_)) {
            // The dom0's kickstart makes its bridge with this NIC as `--bridgeslaves=eth0`
            // (render/toolstack/mod.rs: `bridge_slave`): anaconda takes a device name there,
            // not a MAC, and with one NIC the kernel's own names make it `eth0`. anaconda
            // keeps `net.ifnames` on the installed system's kernel line (its bootloader's
            // `preserve_args`), so the name holds after the install too.
            args.push("net.ifnames=0".to_owned());
        }
    } else {
        // The seed's: the installer finds its kickstart file and uses the first NIC.
        args.push(format!("ks={ks}"));
        args.push("ksdevice=eth0".to_owned());
    }
    let next_server = fabric
        .next_server(host.network())
        .ok_or_else(|| lookup::missing("next-server of network", host.network()))?;
    Ok(Entry {
        fqdn: fabric.fqdn(host.name()),
        label: "install".to_owned(),
        kernel: image.kernel.to_string(),
        initrd: image.initrd.to_string(),
        initrd_name: image
            .initrd
            .as_str()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned(),
        args: args.join(" "),
        next_server: next_server.to_string(),
    })
}

fn netinstall_entry(fabric: &Fabric, image_name: &Ident) -> Result<Entry, RenderError> {
    let image = fabric
        .boot_images
        .get(image_name)
        .ok_or_else(|| lookup::missing("boot image", image_name))?;
    Ok(Entry {
        fqdn: String::new(),
        label: image_name.to_string(),
        kernel: image.kernel.to_string(),
        initrd: image.initrd.to_string(),
        initrd_name: String::new(),
        args: image
            .append
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        next_server: String::new(),
    })
}

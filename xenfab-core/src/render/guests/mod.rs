//! Guests: their configs for the dom0's toolstack and for libvirt, and each dom0's script that
//! creates their volumes and starts them.
//!
//! - `dom0s/<fqdn>/xen/<guest>`: an `xm` config (`/etc/xen/<guest>`), for guests of `xm` dom0s.
//!   pypxeboot guests have exactly the seed's shape: `bootloader="/usr/bin/pypxeboot"`,
//!   `vif=['mac=…']`, then `bootargs=vif[0]` (unquoted and after `vif`: pypxeboot needs it).
//! - `dom0s/<fqdn>/xen/<guest>.cfg`: an `xl` config, for guests of `xl` dom0s.
//! - `dom0s/<fqdn>/libvirt/<guest>.xml`: a libvirt domain (`type='xen'`) for every guest.
//! - `dom0s/<fqdn>/provision.sh`: creates each guest's logical volumes (keeping those that
//!   exist), puts its config in place, links it for autostart and starts it. Safe to run again.

mod libvirt;

pub use libvirt::LibvirtError;

use std::fmt::Write;

use serde::Serialize;

use super::{lookup, templates};
use crate::error::RenderError;
use crate::model::{Arch, Dom0, Fabric, Guest, Toolstack, VirtMode};
use crate::output::Tree;

pub(crate) fn render(
    fabric: &Fabric,
    env: &minijinja::Environment<'_>,
    tree: &mut Tree,
) -> Result<(), RenderError> {
    for dom0 in &fabric.dom0s {
        let fqdn = fabric.fqdn(&dom0.name);
        let dom0_arch = lookup::os(fabric, &dom0.os)?.arch;
        for guest in &dom0.guests {
            let view = GuestView::new(fabric, dom0, guest, dom0_arch)?;
            match dom0.toolstack {
                Toolstack::Xm => tree.insert_file(
                    &format!("dom0s/{fqdn}/xen/{}", guest.name),
                    templates::render(env, "guest.xm.j2", &view)?,
                )?,
                Toolstack::Xl => tree.insert_file(
                    &format!("dom0s/{fqdn}/xen/{}.cfg", guest.name),
                    templates::render(env, "guest.xl.cfg.j2", &view)?,
                )?,
            }
            let xml = libvirt::domain_xml(&libvirt_view(fabric, dom0, guest)?)
                .map_err(|source| RenderError::Libvirt { source })?;
            tree.insert_file(&format!("dom0s/{fqdn}/libvirt/{}.xml", guest.name), xml)?;
        }
        tree.insert_executable(
            &format!("dom0s/{fqdn}/provision.sh"),
            templates::render(env, "provision.sh.j2", provision_view(fabric, dom0))?,
        )?;
    }
    Ok(())
}

/// Everything a guest's xm or xl config says, computed here so that templates only print.
#[derive(Serialize)]
struct GuestView {
    name: String,
    fqdn: String,
    dom0: String,
    memory: u64,
    vcpus: u32,
    /// `pv`, `pvh` or `hvm` (xl's `type`).
    kind: &'static str,
    /// The bootloader in dom0: pypxeboot or pygrub (PV), pygrub (PVH), none (HVM).
    bootloader: Option<&'static str>,
    /// The seed's `bootargs = vif[0]` (pypxeboot).
    bootargs_vif: bool,
    /// xm's `vif` entry: `mac=…` (with `bridge=…` unless it is xend's default).
    xm_vif: String,
    /// xl's `vif` entry: `mac=…,bridge=…`.
    xl_vif: String,
    /// xm's `disk` entries: `"phy:xenvg/ullr,xvda,w"`.
    xm_disks: String,
    /// xl's `disk` entries: `'format=raw, vdev=xvda, access=rw, target=/dev/xenvg/ullr'`.
    xl_disks: String,
    /// The root device PV guests boot (`/dev/xvda1 ro`: `/` is the first partition).
    root: Option<&'static str>,
    /// xm's `device_model` for HVM guests.
    device_model: &'static str,
    /// xm's boot order for HVM guests (network, then disk) and xl's (network to install,
    /// disk otherwise).
    xm_boot: &'static str,
    xl_boot: &'static str,
    on_poweroff: &'static str,
    on_reboot: &'static str,
    on_crash: &'static str,
}

/// xend's default bridge (`network-bridge` names it after the first NIC).
const XEND_DEFAULT_BRIDGE: &str = "xenbr0";

impl GuestView {
    fn new(
        fabric: &Fabric,
        dom0: &Dom0,
        g: &Guest,
        dom0_arch: Arch,
    ) -> Result<GuestView, RenderError> {
        let bridge = lookup::network(fabric, &g.network)?.bridge.to_string();
        let mac = g.mac.to_string();
        let xm_vif = if bridge == XEND_DEFAULT_BRIDGE {
            format!("mac={mac}")
        } else {
            format!("mac={mac}, bridge={bridge}")
        };
        let mut xm_disks = Vec::new();
        let mut xl_disks = Vec::new();
        for d in &g.disks {
            xm_disks.push(format!("\"phy:{}/{},{},w\"", d.vg, d.lv, d.vdev));
            xl_disks.push(format!(
                "'format=raw, vdev={}, access=rw, target=/dev/{}/{}'",
                d.vdev, d.vg, d.lv
            ));
        }
        let (kind, bootloader) = match g.mode {
            VirtMode::PvPypxeboot => ("pv", Some("/usr/bin/pypxeboot")),
            VirtMode::PvPygrub => ("pv", Some("pygrub")),
            VirtMode::Pvh => ("pvh", Some("pygrub")),
            VirtMode::Hvm => ("hvm", None),
        };
        // xm wants the full path of pygrub; xl finds it by name.
        let bootloader = match (dom0.toolstack, bootloader) {
            (Toolstack::Xm, Some("pygrub")) => Some("/usr/bin/pygrub"),
            (_, b) => b,
        };
        Ok(GuestView {
            name: g.name.to_string(),
            fqdn: fabric.fqdn(&g.name),
            dom0: fabric.fqdn(&dom0.name),
            memory: g.memory.mib(),
            vcpus: g.vcpus,
            kind,
            bootloader,
            bootargs_vif: g.mode == VirtMode::PvPypxeboot,
            xm_vif,
            xl_vif: format!("mac={mac},bridge={bridge}"),
            xm_disks: xm_disks.join(", "),
            xl_disks: xl_disks.join(", "),
            root: matches!(g.mode, VirtMode::PvPypxeboot | VirtMode::PvPygrub)
                .then_some("/dev/xvda1 ro"),
            device_model: match dom0_arch {
                Arch::X86_64 => "/usr/lib64/xen/bin/qemu-dm",
                Arch::I386 => "/usr/lib/xen/bin/qemu-dm",
            },
            xm_boot: "nc",
            xl_boot: if g.state == crate::model::BootState::Install {
                "n"
            } else {
                "c"
            },
            on_poweroff: g.on_poweroff.as_str(),
            on_reboot: g.on_reboot.as_str(),
            on_crash: g.on_crash.as_str(),
        })
    }
}

fn libvirt_view(
    fabric: &Fabric,
    dom0: &Dom0,
    g: &Guest,
) -> Result<libvirt::DomainView, RenderError> {
    let bridge = lookup::network(fabric, &g.network)?.bridge.to_string();
    let arch = lookup::os(fabric, &g.os)?.arch.libvirt().to_owned();
    let boot = match g.mode {
        VirtMode::PvPypxeboot => libvirt::Boot::Pv {
            bootloader: "/usr/bin/pypxeboot".to_owned(),
            // What xm's `bootargs = vif[0]` hands pypxeboot.
            bootloader_args: Some(format!("mac={}", g.mac)),
        },
        VirtMode::PvPygrub => libvirt::Boot::Pv {
            bootloader: "/usr/bin/pygrub".to_owned(),
            bootloader_args: None,
        },
        VirtMode::Pvh => libvirt::Boot::Pvh {
            bootloader: "/usr/bin/pygrub".to_owned(),
        },
        VirtMode::Hvm => libvirt::Boot::Hvm {
            network_first: true,
        },
    };
    Ok(libvirt::DomainView {
        name: g.name.to_string(),
        description: format!(
            "{} on {}, generated by xenfab from the fabric file",
            fabric.fqdn(&g.name),
            fabric.fqdn(&dom0.name)
        ),
        memory_mib: g.memory.mib(),
        vcpus: g.vcpus,
        arch,
        boot,
        on_poweroff: g.on_poweroff.as_str().to_owned(),
        on_reboot: g.on_reboot.as_str().to_owned(),
        on_crash: g.on_crash.as_str().to_owned(),
        disks: g
            .disks
            .iter()
            .map(|d| libvirt::DiskView {
                source: format!("/dev/{}/{}", d.vg, d.lv),
                target: d.vdev.to_string(),
            })
            .collect(),
        nics: vec![libvirt::NicView {
            mac: g.mac.to_string(),
            bridge,
        }],
    })
}

#[derive(Serialize)]
struct ProvisionView {
    dom0: String,
    /// `xm` or `xl`.
    tool: &'static str,
    guests: Vec<ProvisionGuest>,
}

#[derive(Serialize)]
struct ProvisionGuest {
    name: String,
    /// The config's file name in /etc/xen (`ullr` for xm, `ullr.cfg` for xl).
    config: String,
    summary: String,
    /// `'VG' 'LV' 'SIZE'` for each disk, quoted for the shell (every value is validated).
    volumes: Vec<String>,
}

fn provision_view(fabric: &Fabric, dom0: &Dom0) -> ProvisionView {
    let (tool, ext) = match dom0.toolstack {
        Toolstack::Xm => ("xm", ""),
        Toolstack::Xl => ("xl", ".cfg"),
    };
    ProvisionView {
        dom0: fabric.fqdn(&dom0.name),
        tool,
        guests: dom0
            .guests
            .iter()
            .map(|g| {
                let mut summary = format!("{}, {} vCPU, {}", g.memory, g.vcpus, g.mode.as_str());
                for d in &g.disks {
                    let _ = write!(summary, ", {}/{} {}", d.vg, d.lv, d.size);
                }
                ProvisionGuest {
                    name: g.name.to_string(),
                    config: format!("{}{ext}", g.name),
                    summary,
                    volumes: g
                        .disks
                        .iter()
                        .map(|d| format!("'{}' '{}' '{}m'", d.vg, d.lv, d.size.mib()))
                        .collect(),
                }
            })
            .collect(),
    }
}

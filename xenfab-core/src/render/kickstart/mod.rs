//! Kickstart files: one for each dom0 (with its RAID/LVM layout) and its reinstall variant,
//! one for each guest.
//!
//! - `kickstart/<fqdn>.ks`: what AII names them, served under `install.kickstart_url`.
//! - `kickstart/<fqdn>.reinstall.ks`: dom0's system reinstalled, its guests' volumes kept
//!   (made by [`reinstall::reinstall`] from the dom0's own file, as the seed's ks2reinst.sh did).
//!
//! Two dialects: EL3 to EL5 (the seed's: `install`, no `%end`, `authconfig`, and for dom0s
//! the hypervisor's arguments) and EL9 (current anaconda: no `install`, `%end` after every
//! section, `authselect`, `keyboard --vckeymap`). Each file begins with `#version=RHELn`, the
//! pykickstart handler that checks it. Within a dialect the OS's release decides the rest, from
//! the release table ([`crate::model::release`]): `bootloader --hvargs` from 5.5 (a `%post`
//! that edits grub.conf before), `langsupport` on EL3 and EL4 and `mouse` on EL3 (their
//! anaconda stops at those screens without them), `%packages --resolvedeps` on EL3 and EL4.

pub mod reinstall;

use std::fmt::Write;

use serde::Serialize;

use super::{lookup, templates};
use crate::error::RenderError;
use crate::model::{
    DiskLabel, Dom0, Fabric, Firmware, FsType, Guest, Hardware, Holder, Ident, Merged, OsFamily,
    OsRelease, PartitionScheme, Role, SerialConsole, Size, VirtMode,
};
use crate::output::Tree;
use crate::render::Part;

pub(crate) fn render(
    fabric: &Fabric,
    part: Part,
    env: &minijinja::Environment<'_>,
    tree: &mut Tree,
) -> Result<(), RenderError> {
    for dom0 in part.dom0s(fabric) {
        let fqdn = fabric.fqdn(&dom0.name);
        for guest in dom0.guests.iter().filter(|g| kickstarted(fabric, g)) {
            let text = templates::render(env, "kickstart.ks.j2", guest_view(fabric, guest)?)?;
            tree.insert_file(&format!("kickstart/{}.ks", fabric.fqdn(&guest.name)), text)?;
        }
        // Debian dom0s are installed by the Debian installer (a preseed file,
        // render/preseed), not by anaconda.
        if !lookup::os(fabric, &dom0.os)?.family.kickstarted() {
            continue;
        }
        let mut view = dom0_view(fabric, dom0)?;
        let text = templates::render(env, "kickstart.ks.j2", &view)?;
        // The reinstall file is made from the dom0's file without its `%pre` scripts: they run
        // before the disks are laid out, where nothing can tell whether they touch the guests'
        // volumes (`reinstall::PRE_REFUSED`), so the reinstall leaves them out.
        let without_pre = if view.pre.is_empty() {
            None
        } else {
            view.pre.clear();
            view.notes.push(format!(
                "the %pre scripts of {fqdn}.ks are left out: they run before the disks are laid out, and nothing can tell whether they touch the kept volume groups"
            ));
            Some(templates::render(env, "kickstart.ks.j2", &view)?)
        };
        let keep = guest_vgs(fabric, dom0)?;
        // dom0's own volumes in a kept group (the Quattor sites' `xenvg/dom0root`): validation
        // keeps guests' disks off them, so they may be reformatted
        let scheme = lookup::scheme(fabric, dom0)?;
        let reformat_lvs = scheme
            .logical_volumes
            .iter()
            .filter(|lv| keep.iter().any(|k| *k == lv.vg.as_str()))
            .map(|lv| format!("{}/{}", lv.vg, lv.name))
            .collect();
        let opts = reinstall::Options {
            keep_vgs: keep,
            reformat_lvs,
        };
        let converted = reinstall::reinstall(without_pre.as_deref().unwrap_or(&text), &opts)
            .map_err(|source| RenderError::Reinstall {
                host: fqdn.clone(),
                source,
            })?;
        tree.insert_file(&format!("kickstart/{fqdn}.ks"), text)?;
        tree.insert_file(&format!("kickstart/{fqdn}.reinstall.ks"), converted.text)?;
    }
    Ok(())
}

/// True for a guest that anaconda installs: not a Debian one (the Debian installer's), nor one
/// that boots a kernel of dom0 (`pv-kernel`, `pvh-kernel`), which is never installed.
fn kickstarted(fabric: &Fabric, g: &Guest) -> bool {
    !g.mode.boots_dom0_kernel() && fabric.os.get(&g.os).is_some_and(|o| o.family.kickstarted())
}

/// The kickstart dialect of an installer family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// EL3 to EL5: the seed's.
    Legacy,
    /// EL9: current anaconda.
    Current,
}

impl Dialect {
    fn of(family: OsFamily) -> Dialect {
        match family {
            OsFamily::El3 | OsFamily::El4 | OsFamily::El5 => Dialect::Legacy,
            // Debian hosts get no kickstart (`render` leaves them out).
            OsFamily::El9 | OsFamily::Debian => Dialect::Current,
        }
    }
}

/// The pykickstart handler that checks a family's files (`#version=` on the first line).
pub(crate) fn handler(family: OsFamily) -> &'static str {
    match family {
        OsFamily::El3 => "RHEL3",
        OsFamily::El4 => "RHEL4",
        OsFamily::El5 => "RHEL5",
        OsFamily::El9 | OsFamily::Debian => "RHEL9",
    }
}

/// The seed's `%packages` for an EL5 dom0, and what other dom0s and guests get by default.
fn default_packages(family: OsFamily, dom0: bool) -> Vec<&'static str> {
    match (dom0, Dialect::of(family)) {
        (true, Dialect::Legacy) => vec![
            "openssh",
            "openssh-server",
            "wget",
            "perl-libnet",
            "perl-MIME-Base64",
            "perl-URI",
            "perl-Digest-MD5",
            "perl-libwww-perl",
            "perl-XML-Parser",
            "perl-DBI",
            "perl-Crypt-SSLeay",
            "lsof",
            "curl",
            "xen",
            "kernel-xen",
        ],
        (true, Dialect::Current) => vec!["@core", "openssh-server", "lsof", "curl", "wget", "xen"],
        (false, _) => vec!["openssh-server", "wget", "curl"],
    }
}

#[derive(Serialize)]
struct KickstartView {
    version: &'static str,
    fqdn: String,
    role: &'static str,
    /// Comment lines after the header.
    notes: Vec<String>,
    /// Command lines before the layout.
    commands: Vec<String>,
    /// The layout: clearpart, part, raid, volgroup, logvol.
    layout: Vec<String>,
    packages_header: String,
    packages: Vec<String>,
    /// `%pre` scripts, each its own section.
    pre: Vec<String>,
    post: Vec<String>,
    /// Whether sections close with `%end`.
    end: bool,
}

/// The volume groups whose volumes belong to guests: those their disks use, and those with none
/// of dom0's own volumes (`xenvg` in the seed, empty until guests arrive).
fn guest_vgs(fabric: &Fabric, dom0: &Dom0) -> Result<Vec<String>, RenderError> {
    let scheme = lookup::scheme(fabric, dom0)?;
    let mut vgs: Vec<String> = crate::model::kept_volume_groups(scheme, dom0)
        .map(ToString::to_string)
        .collect();
    vgs.dedup();
    Ok(vgs)
}

/// The lines every kickstart file has before its layout.
fn common_commands(
    fabric: &Fabric,
    ks: &Merged<'_>,
    os: &OsRelease,
    host_ip: std::net::Ipv4Addr,
    mac: crate::model::MacAddr,
    network: &Ident,
    fqdn: &str,
) -> Result<Vec<String>, RenderError> {
    let net = lookup::network(fabric, network)?;
    let dns: Vec<String> = net.dns.iter().map(ToString::to_string).collect();
    let nameserver = if dns.is_empty() {
        String::new()
    } else {
        format!(" --nameserver={}", dns.join(","))
    };
    let mut lines = Vec::new();
    match Dialect::of(os.family) {
        Dialect::Legacy => {
            lines.push("install".to_owned());
            lines.push("text".to_owned());
            lines.push(format!("url --url={}", os.install_url));
            lines.push(format!("lang {}", ks.lang));
            if os.installer.langsupport {
                // anaconda 9.1 and 10.1 stop at their language-support screen without it.
                lines.push(format!("langsupport --default={} {}", ks.lang, ks.lang));
            }
            lines.push(format!("keyboard {}", ks.keyboard));
            if os.installer.mouse {
                // anaconda 9.1 (RHEL 3) stops at its mouse screen without it; `none` is the
                // type for a server without one (pykickstart's `RHEL3_Mouse`).
                lines.push("mouse none".to_owned());
            }
            // The seed's dom0s install and bridge through eth0. The installer's line names the
            // NIC the host booted from (render/netboot.rs, `ksdevice`), but anaconda's loader
            // takes this `--device` once it has read the kickstart (loader2/net.c,
            // `setKickstartNetwork`): a dom0 whose boot NIC is not eth0 is not supported yet
            // (docs/lifecycle.md, "Which NIC installs").
            lines.push(format!(
                "network --device=eth0 --bootproto=static --ip={host_ip} --netmask={} --gateway={}{nameserver} --hostname={fqdn}",
                net.subnet.netmask(),
                net.gateway
            ));
            lines.push(format!("rootpw --iscrypted {}", ks.root_password.as_str()));
            lines.push("authconfig --enableshadow --enablemd5".to_owned());
            lines.push(format!("timezone --utc {}", ks.timezone));
        }
        Dialect::Current => {
            lines.push("text".to_owned());
            lines.push(format!("url --url={}", os.install_url));
            lines.push(format!("lang {}", ks.lang));
            lines.push(format!("keyboard --vckeymap={}", ks.keyboard));
            // Current anaconda names NICs by their MAC; eth0 means nothing there.
            lines.push(format!(
                "network --device={mac} --bootproto=static --ip={host_ip} --netmask={} --gateway={}{nameserver} --hostname={fqdn} --activate",
                net.subnet.netmask(),
                net.gateway
            ));
            lines.push(format!("rootpw --iscrypted {}", ks.root_password.as_str()));
            lines.push("authselect select sssd".to_owned());
            lines.push(format!("timezone {} --utc", ks.timezone));
        }
    }
    for repo in ks.repos {
        lines.push(format!(
            "repo --name={} --baseurl={}",
            repo.name, repo.baseurl
        ));
    }
    if os.installer.services {
        if let Some(line) = services_command(ks) {
            lines.push(line);
        }
    }
    lines.push("skipx".to_owned());
    lines.push("firstboot --disable".to_owned());
    lines.push("reboot".to_owned());
    Ok(lines)
}

/// `%packages` of a host: its merged list (its own, its OS's or its role's in `[kickstart]`),
/// else the family's defaults for its role.
fn packages(ks: &Merged<'_>, os: &OsRelease, dom0: bool) -> (String, Vec<String>) {
    let list = match ks.packages {
        Some(p) => p.iter().map(ToString::to_string).collect(),
        None => default_packages(os.family, dom0)
            .into_iter()
            .map(str::to_owned)
            .collect(),
    };
    // --resolvedeps is what EL3 and EL4 need (their anaconda stops on unresolved
    // dependencies without it) and a no-op after: the release table says which; validation
    // warns when kickstart.resolvedeps asks for it where it means nothing.
    let header = format!(
        "%packages{} --ignoremissing",
        if os.installer.resolvedeps {
            " --resolvedeps"
        } else {
            ""
        }
    );
    (header, list)
}

/// The `%post` scripts a host's settings give (its own, its OS's or its role's), after the
/// `chkconfig` lines of its services where its installer has no `services` command.
fn settings_post(ks: &Merged<'_>, os: &OsRelease) -> Vec<String> {
    let chkconfig = (!os.installer.services)
        .then(|| services_post(ks))
        .flatten();
    chkconfig
        .into_iter()
        .chain(ks.post.iter().map(|p| p.as_str().to_owned()))
        .collect()
}

/// The `%pre` scripts a host's settings give (its own, its OS's or its role's).
fn settings_pre(ks: &Merged<'_>) -> Vec<String> {
    ks.pre.iter().map(|p| p.as_str().to_owned()).collect()
}

/// `services --enabled=a,b --disabled=c` (pykickstart's `FC6_Services`: comma-separated
/// lists, either option may be left out), or `None` when the host's settings list none.
fn services_command(ks: &Merged<'_>) -> Option<String> {
    if ks.enabled.is_empty() && ks.disabled.is_empty() {
        return None;
    }
    let mut line = "services".to_owned();
    for (option, list) in [("enabled", ks.enabled), ("disabled", ks.disabled)] {
        if !list.is_empty() {
            let names: Vec<&str> = list.iter().map(crate::model::Service::as_str).collect();
            let _ = write!(line, " --{option}={}", names.join(","));
        }
    }
    Some(line)
}

/// What `services` does, for installers without it (EL3 and EL4: anaconda 9.1 and 10.1): a
/// `%post`, which runs chrooted in the installed system, with `chkconfig NAME off` for each
/// disabled service, then `chkconfig NAME on` for each enabled one (anaconda 11's
/// `services` runs `/sbin/chkconfig` in the installed system the same way; `service-conflict`
/// keeps one name out of both lists, so the order decides nothing). `chkconfig NAME on` turns
/// the script on in the run levels its `# chkconfig:` header names (chkconfig(8)). A service
/// that is not installed makes chkconfig say so and the install go on. Names are
/// [`crate::model::Service`] words: nothing in them is special to the shell.
fn services_post(ks: &Merged<'_>) -> Option<String> {
    if ks.enabled.is_empty() && ks.disabled.is_empty() {
        return None;
    }
    let mut script =
        "# services (kickstart services.enabled/disabled): this installer has no `services` command\n"
            .to_owned();
    for (state, list) in [("off", ks.disabled), ("on", ks.enabled)] {
        for name in list {
            let _ = writeln!(script, "/sbin/chkconfig {name} {state}");
        }
    }
    Some(script)
}

fn dom0_view(fabric: &Fabric, dom0: &Dom0) -> Result<KickstartView, RenderError> {
    let os = lookup::os(fabric, &dom0.os)?;
    let fqdn = fabric.fqdn(&dom0.name);
    let hw = lookup::hardware(fabric, dom0)?;
    let scheme = lookup::layout(fabric, dom0)?;
    let dialect = Dialect::of(os.family);
    let firmware = fabric.firmware(dom0);
    let ks = fabric.kickstart_of_dom0(dom0);
    let mut commands = common_commands(fabric, &ks, os, dom0.ip, dom0.mac, &dom0.network, &fqdn)?;
    // The seed's one NIC: the kickstart's own `network` line makes the bridge. Several NICs:
    // the install runs on the boot NIC, and a `%post` writes NetworkManager's files
    // (render/nmconnection: anaconda cannot bridge a bond or a VLAN).
    let keyfiles = super::nmconnection::uses_keyfiles(fabric, dom0)?;
    if dialect == Dialect::Current && !keyfiles {
        let bridge = &lookup::network(fabric, &dom0.network)?.bridge;
        super::toolstack::bridge_dom0_network(&mut commands, dom0.mac, bridge);
    }
    let drives: Vec<&str> = hw.visible_disks().into_iter().map(|(d, _)| d).collect();
    // On UEFI the boot loader goes to the ESP, not to a disk's MBR: anaconda's stage1 device
    // is then the `/boot/efi` partition (`platform.py`, class `EFI`:
    // `_boot_stage1_device_types = ["partition", "mdarray"]`, `_boot_stage1_mountpoints =
    // ["/boot/efi"]`), and `modules/storage/bootloader/efi.py` (`EFIBase.install`) writes a
    // boot entry with efibootmgr instead of a boot sector. `--location=mbr` names a disk as
    // stage1, which EFI has no use for: it is left out, and anaconda picks the ESP itself.
    let mut bootloader = match firmware {
        Firmware::Bios => format!(
            "bootloader --location=mbr --driveorder={}",
            drives.join(",")
        ),
        Firmware::Uefi => format!("bootloader --driveorder={}", drives.join(",")),
    };
    let mut post = Vec::new();
    let serial = fabric.serial_console(dom0);
    if os.family == OsFamily::El5 {
        let args = super::grub::xen_args(dom0, serial, false);
        if os.installer.hvargs {
            // EL5's installer writes the hypervisor's line itself from --hvargs (5.5 on).
            let _ = write!(bootloader, " --hvargs=\"{args}\"");
        } else {
            post.push(hvargs_post(GRUB_CONF, &args));
        }
        if serial.is_some() {
            // dom0's console on Xen's (render/grub.rs `dom0_console`): `--append` puts it on
            // the kernel's line, a `module` line of the Xen entry (pykickstart's
            // `bootloader --append`, in every handler since FC3).
            let _ = write!(
                bootloader,
                " --append=\"{}\"",
                super::grub::dom0_console(os.family)
            );
        }
    }
    commands.push(bootloader);
    if super::ifcfg::uses_ifcfg(fabric, dom0)? {
        post.push(super::ifcfg::post(fabric, dom0)?);
    }
    if keyfiles {
        post.push(super::nmconnection::post(fabric, dom0)?);
    }
    post.extend(settings_post(&ks, os));
    let (mut packages_header, packages) = packages(&ks, os, true);
    if let Some(repo) = el9_xen(os) {
        el9_dom0_xen(
            dom0,
            serial,
            repo,
            &mut commands,
            &mut packages_header,
            &mut post,
        );
    }
    post.extend(ack_post(fabric, &fqdn));
    Ok(KickstartView {
        version: handler(os.family),
        fqdn,
        role: "dom0",
        notes: Vec::new(),
        commands,
        layout: layout(&scheme, hw, dialect),
        packages_header,
        packages,
        pre: settings_pre(&ks),
        post,
        end: dialect == Dialect::Current,
    })
}

/// A `network` line for each NIC of a guest after its first: its address, no gateway (one
/// default route, the first NIC's), up at boot (`--onboot`, pykickstart's FC3_Network on, in
/// every handler from RHEL3 to RHEL9). The legacy installers name it as the guest's kernel
/// does (`eth1`: netfront numbers vifs in order); current anaconda by its MAC, as the first.
fn extra_nic_lines(
    fabric: &Fabric,
    guest: &Guest,
    dialect: Dialect,
) -> Result<Vec<String>, RenderError> {
    guest
        .nics()
        .skip(1)
        .map(|nic| {
            let net = lookup::network(fabric, nic.network)?;
            let device = match dialect {
                Dialect::Legacy => nic.name(),
                Dialect::Current => nic.mac.to_string(),
            };
            Ok(format!(
                "network --device={device} --bootproto=static --ip={} --netmask={} --onboot=yes",
                nic.ip,
                net.subnet.netmask()
            ))
        })
        .collect()
}

fn guest_view(fabric: &Fabric, guest: &Guest) -> Result<KickstartView, RenderError> {
    let os = lookup::os(fabric, &guest.os)?;
    let fqdn = fabric.fqdn(&guest.name);
    let dialect = Dialect::of(os.family);
    let ks = fabric.kickstart_of_guest(guest);
    let mut commands =
        common_commands(fabric, &ks, os, guest.ip, guest.mac, &guest.network, &fqdn)?;
    // The guest's other NICs, right after the first's `network` line.
    if let Some(at) = commands.iter().position(|l| l.starts_with("network ")) {
        let extra = extra_nic_lines(fabric, guest, dialect)?;
        commands.splice((at + 1)..=at, extra);
    }
    let disk = guest
        .disks
        .first()
        .ok_or_else(|| lookup::missing("disk of guest", &guest.name))?;
    // The name the guest's installer sees (an EL9 HVM guest's `hda` is `xvda`).
    let vdev = crate::model::installer_disk_name(os.family, guest.mode, disk.vdev.as_str());
    let mut bootloader = format!("bootloader --location=mbr --driveorder={vdev}");
    if let Some(console) = pv_guest_console(os.family, guest.mode) {
        let _ = write!(bootloader, " --append=\"{console}\"");
    }
    commands.push(bootloader);
    let (packages_header, packages) = packages(&ks, os, false);
    let mut post = settings_post(&ks, os);
    post.extend(super::guests::kickstart_post(fabric, guest).map(str::to_owned));
    post.extend(ack_post(fabric, &fqdn));
    Ok(KickstartView {
        version: handler(os.family),
        fqdn,
        role: if guest.mode == VirtMode::Hvm {
            "HVM guest"
        } else {
            "guest"
        },
        notes: Vec::new(),
        commands,
        layout: guest_layout(guest, disk.size, &vdev, dialect),
        packages_header,
        packages,
        pre: settings_pre(&ks),
        post,
        end: dialect == Dialect::Current,
    })
}

/// The console argument of a PV or PVH guest's installed kernel: its console on Xen's, which
/// `xl console` / `xm console` attach to. HVM guests have an emulated serial port instead
/// (`serial = "pty"` in their xm and xl configs, `<serial type="pty"/>` in libvirt's).
///
/// - EL9 (pvops): `console=hvc0`, the device of drivers/tty/hvc/hvc_xen.c.
/// - EL5 (2.6.18-xen, `kernel-xen`): `console=xvc0`, the device of its console driver's
///   `xencons=xvc` mode (linux-2.6.18-xen drivers/xen/console/console.c: major 204, minor
///   191, `xvc0`), RHEL 5's default for guests; the getty that EL5 PV images run on it is
///   `agetty xvc0` (Apache CloudStack's guide to CentOS 5 templates for XenServer: "The
///   default console device in a XenServer system is xvc0").
/// - EL3 and EL4 guests keep their kernels' defaults.
fn pv_guest_console(family: OsFamily, mode: VirtMode) -> Option<&'static str> {
    if mode == VirtMode::Hvm {
        return None;
    }
    match family {
        OsFamily::El9 => Some("console=hvc0"),
        OsFamily::El5 => Some("console=xvc0"),
        OsFamily::El3 | OsFamily::El4 | OsFamily::Debian => None,
    }
}

/// The last `%post` of a host's kickstart when the fabric names a `xenfab serve`
/// (`install.ack_url`): it tells the server the install is done, and the server switches the
/// host to local boot (docs/lifecycle.md), as AII's `aii-installack.cgi` does. curl first (a
/// POST; `-f` makes an HTTP error fail), then wget, which EL3's 1.8.2 has without
/// `--post-data` (wget 1.9 added it), so its call is a GET, which the server takes too; both
/// are in every default `%packages`. A failed call does not fail the install: it says so, and
/// `xenfab boot HOST localboot` does the same by hand. The URL passed `Lower::url`'s
/// character set (letters, digits, `-._~:/%+,=@`), so single quotes keep it one word.
fn ack_post(fabric: &Fabric, fqdn: &str) -> Option<String> {
    let base = fabric.install.ack_url.as_ref()?;
    let url = format!("{}/ack/{fqdn}", base.as_str().trim_end_matches('/'));
    Some(format!(
        "# xenfab serve: the install is done, network boot gives this host its disk from now on\n\
         url='{url}'\n\
         curl -fsS -d '' -o /dev/null \"$url\" || wget -q -O /dev/null \"$url\" || echo \"xenfab: the install acknowledgement to $url failed: run xenfab boot {fqdn} localboot\" >&2\n"
    ))
}

/// The repository of an EL9 OS's Xen ([`OsRelease::xen_repo`]), for an EL9 dom0.
fn el9_xen(os: &OsRelease) -> Option<&url::Url> {
    (os.family == OsFamily::El9)
        .then_some(os.xen_repo.as_ref())
        .flatten()
}

/// What an EL9 dom0's kickstart needs to come up as a dom0: the repository that has Xen (no
/// EL9 tree has it), `%packages` without `--ignoremissing` so that an install without Xen
/// fails instead of "succeeding" (anaconda 34 stops on a missing package unless told to
/// ignore it: pykickstart's `%packages --ignoremissing`, RHEL 9 "Performing an advanced RHEL
/// installation", kickstart reference), and the `%post` of [`el9_xen_post`].
fn el9_dom0_xen(
    dom0: &Dom0,
    serial: Option<SerialConsole>,
    repo: &url::Url,
    commands: &mut Vec<String>,
    packages_header: &mut String,
    post: &mut Vec<String>,
) {
    // Before `skipx`, `firstboot` and `reboot`, with the other repo lines; not twice when the
    // site's repositories have it (anaconda refuses two repos of one name, and one URL twice
    // is no use).
    let baseurl = format!(" --baseurl={repo}");
    if !commands
        .iter()
        .any(|l| l.starts_with("repo ") && l.ends_with(&baseurl))
    {
        let at = commands
            .iter()
            .position(|l| l == "skipx")
            .unwrap_or(commands.len());
        commands.insert(at, format!("repo --name=xenfab-xen{baseurl}"));
    }
    *packages_header = packages_header.replace(" --ignoremissing", "");
    post.push(el9_xen_post(
        &super::grub::xen_args(dom0, serial, true),
        serial,
    ));
}

/// The `%post` of an EL9 dom0: Xen's services on, and the hypervisor's boot entry written from
/// the kernel that was installed (so no kernel version is pinned: the tree's kernel, or a
/// newer one from a repository, is what the entry loads).
///
/// - Services: Xen's systemd units (tools/hotplug/Linux/systemd/ of Xen 4.x: there is no
///   `xencommons` unit, it is the SysV script's name) that a dom0 needs at boot: xenstored,
///   xenconsoled, xen-init-dom0 (dom0's xenstore entries), xen-qemu-dom0-disk-backend (qdisk
///   for guests' file disks) and xendomains (guests started and saved with the host). The
///   package installs them disabled (systemd presets of RHEL 9 enable nothing of Xen).
/// - Boot entry: GRUB2's `20_linux_xen` (grub2-tools) writes a `menuentry '…, with Xen
///   hypervisor'` for each `/boot/xen*.gz` and installed kernel, with
///   `GRUB_CMDLINE_XEN_DEFAULT` on Xen's line; BLS entries (`blscfg`) are for the kernel
///   alone. `grub2-set-default` makes the first Xen entry the default (`GRUB_DEFAULT=saved`
///   on EL9).
/// - Serial console: dom0's `console=hvc0` on the Xen entries only, by
///   `GRUB_CMDLINE_LINUX_XEN_REPLACE` (20_linux_xen uses it instead of `GRUB_CMDLINE_LINUX`
///   for them), and GRUB's own terminal on the port (`GRUB_TERMINAL`, `GRUB_SERIAL_COMMAND`:
///   GRUB manual, 6.1 "Simple configuration handling"; grub-mkconfig sets both
///   `GRUB_TERMINAL_INPUT` and `GRUB_TERMINAL_OUTPUT` from `GRUB_TERMINAL`, over EL9's
///   `GRUB_TERMINAL_OUTPUT="console"`). The lines go after anaconda's, so the file, which
///   grub2-mkconfig sources, expands `$GRUB_CMDLINE_LINUX` to what anaconda wrote.
fn el9_xen_post(xen_args: &str, serial: Option<SerialConsole>) -> String {
    let serial_lines = serial.map_or_else(String::new, |s| {
        format!(
            "sed -i -e '/^GRUB_CMDLINE_LINUX_XEN_REPLACE=/d' -e '/^GRUB_TERMINAL=/d' -e '/^GRUB_SERIAL_COMMAND=/d' /etc/default/grub\n\
             echo 'GRUB_CMDLINE_LINUX_XEN_REPLACE=\"$GRUB_CMDLINE_LINUX {}\"' >>/etc/default/grub\n\
             echo 'GRUB_TERMINAL=\"console serial\"' >>/etc/default/grub\n\
             echo 'GRUB_SERIAL_COMMAND=\"{}\"' >>/etc/default/grub\n",
            super::grub::dom0_console(OsFamily::El9),
            s.grub_serial()
        )
    });
    format!(
        r#"# Xen's services (xenfab): the toolstack's daemons and the guests' start at boot.
systemctl enable xenstored.service xenconsoled.service xen-init-dom0.service xen-qemu-dom0-disk-backend.service xendomains.service
# The hypervisor's entry, from the kernel that was installed: dom0's memory and vCPUs.
sed -i -e '/^GRUB_CMDLINE_XEN_DEFAULT=/d' /etc/default/grub
echo 'GRUB_CMDLINE_XEN_DEFAULT="{xen_args}"' >>/etc/default/grub
{serial_lines}grub2-mkconfig -o /boot/grub2/grub.cfg
entry=$(sed -n "s/^menuentry '\([^']*with Xen hypervisor\)'.*/\1/p" /boot/grub2/grub.cfg | head -n 1)
if [ -n "$entry" ]; then grub2-set-default "$entry"; else echo 'xenfab: no Xen hypervisor entry in /boot/grub2/grub.cfg' >&2; fi
"#
    )
}

/// Where EL5's anaconda writes the boot loader's configuration; `/boot/grub/menu.lst` is a
/// symbolic link to it, which `sed -i` would replace by a file.
const GRUB_CONF: &str = "/boot/grub/grub.conf";

/// The `%post` that does what `bootloader --hvargs` does, for EL5 releases before 5.5: their
/// anaconda has no `--hvargs` (it came with anaconda 11.1.2.197 in RHEL 5.5, rhbz#501438, and
/// RHEL 5.2's parser, pykickstart r0.43.1, aborts on it). anaconda's booty writes each Xen
/// entry of grub.conf as `kernel /xen.gz-<version>` (or `/boot/xen.gz-…` without a `/boot`
/// file system) followed by `module` lines; the hypervisor's arguments go at the end of that
/// `kernel` line, and nothing else changes. `args` are kernel arguments validated as tokens
/// (letters, digits and `_.+-@/:=,`), so they hold neither `|`, `&` nor `\\`, which would mean
/// something to `sed`'s replacement.
fn hvargs_post(conf: &str, args: &str) -> String {
    format!(
        "# bootloader --hvargs came with RHEL 5.5 (anaconda 11.1.2.197, rhbz#501438); this\n\
         # release's installer refuses it, so the hypervisor's arguments are written here.\n\
         conf={conf}\n\
         sed -i -e '/^[[:space:]]*kernel[[:space:]][[:space:]]*[^[:space:]]*xen\\.gz/ s|$| {args}|' \"$conf\"\n\
         grep -q '^[[:space:]]*kernel[[:space:]].*xen\\.gz' \"$conf\" || echo \"xenfab: no hypervisor entry in $conf\" >&2\n"
    )
}

/// A guest's simple layout on its first disk: `/` first (the seed's guests boot
/// `root=/dev/xvda1`), then swap the size of its memory, at most 2G and a quarter of the disk.
/// ext3 as in the seed, XFS for current anaconda.
fn guest_layout(guest: &Guest, disk_size: Size, vdev: &str, dialect: Dialect) -> Vec<String> {
    let swap = guest
        .memory
        .mib()
        .min(2048)
        .min(disk_size.mib() / 4)
        .max(64);
    let fstype = match dialect {
        Dialect::Legacy => FsType::Ext3,
        // pygrub cannot read XFS v5, EL9's default: see guests::booted_by_pygrub.
        Dialect::Current if super::guests::booted_by_pygrub(guest) => FsType::Ext4,
        Dialect::Current => FsType::Xfs,
    };
    vec![
        "zerombr".to_owned(),
        format!("clearpart --all --initlabel --drives={vdev}"),
        format!(
            "part / --fstype={} --size=1024 --grow --ondisk={vdev} --asprimary",
            fstype.as_str()
        ),
        format!("part swap --fstype=swap --size={swap} --ondisk={vdev} --asprimary"),
    ]
}

fn fstype_option(role: &Role) -> String {
    match role {
        Role::Mount { fstype, .. } => format!(" --fstype={}", fstype.as_str()),
        Role::Swap => " --fstype=swap".to_owned(),
        // anaconda's `platform.py`, class X86: `PartSpec(fstype="biosboot", size=Size("1MiB"))`
        Role::BiosBoot => " --fstype=biosboot".to_owned(),
        Role::RaidMember | Role::PhysicalVolume => String::new(),
    }
}

/// The name a kickstart `part`, `raid` or `logvol` line begins with: a mount point, `swap`,
/// or the id others refer to it by.
fn target(role: &Role, id: Option<&Ident>) -> String {
    match (role, id) {
        (Role::Mount { mount, .. }, _) => mount.to_string(),
        (Role::Swap, _) => "swap".to_owned(),
        (Role::BiosBoot, _) => "biosboot".to_owned(),
        (Role::RaidMember, Some(id)) => ks_id("raid.", id),
        (Role::PhysicalVolume, Some(id)) => ks_id("pv.", id),
        (Role::RaidMember | Role::PhysicalVolume, None) => String::new(),
    }
}

/// The name kickstart knows a RAID member (`raid.…`) or physical volume (`pv.…`) by: anaconda
/// reads any other first word of `part` and `raid` as a mount point. The seed's ids already
/// have the prefix; Quattor's (`sda1`, `md1`) get it.
fn ks_id(prefix: &str, id: &Ident) -> String {
    if id.as_str().starts_with(prefix) {
        id.to_string()
    } else {
        format!("{prefix}{id}")
    }
}

/// The layout of a dom0 in kickstart commands, in the seed's order: clearpart, the partitions,
/// the arrays, the volume groups, the logical volumes.
fn layout(scheme: &PartitionScheme, hw: &Hardware, dialect: Dialect) -> Vec<String> {
    let drives: Vec<&str> = hw.visible_disks().into_iter().map(|(d, _)| d).collect();
    let mut clearpart = format!("clearpart --all --initlabel --drives={}", drives.join(","));
    if scheme.label == DiskLabel::Gpt && dialect == Dialect::Current {
        // pykickstart's RHEL9 handler: `clearpart --disklabel` (F21_ClearPart on), the label
        // `--initlabel` writes. anaconda's own choice depends on the platform and the disk
        // (msdos first on x86 BIOS unless `inst.gpt`: `platform.py`, `_disklabel_types`);
        // the layout's partition numbers need the label said.
        let _ = write!(clearpart, " --disklabel={}", scheme.label.as_str());
    }
    let mut lines = vec!["zerombr".to_owned(), clearpart];
    let mut biosboot = false;
    for p in &scheme.partitions {
        let mut name = target(&p.role, p.id.as_ref());
        if p.role == Role::BiosBoot {
            // A BIOS boot partition on each disk of a RAID-1 /boot: pykickstart warns about a
            // second `part biosboot` (FC3_PartData.__eq__ compares mount points; ksvalidator
            // fails on the warning), so the second is `part None --fstype=biosboot`, which
            // anaconda reads as the same (custom_partitioning.py, `_execute_partition_data`:
            // mount point "None" takes its type from --fstype)
            if biosboot {
                "None".clone_into(&mut name);
            }
            biosboot = true;
        }
        let mut line = format!("part {name} --size={}", p.size.mib());
        if p.grow {
            line.push_str(" --grow");
        }
        let _ = write!(line, " --ondisk={}", p.disk);
        if p.primary {
            line.push_str(" --asprimary");
        }
        line.push_str(&fstype_option(&p.role));
        lines.push(line);
    }
    for r in &scheme.raids {
        let mut line = format!(
            "raid {} --level=RAID{} --device={}",
            target(&r.role, r.id.as_ref()),
            r.level.number(),
            r.device
        );
        match (&r.role, dialect) {
            // The seed's form; current anaconda knows a physical volume by its `pv.` name.
            (Role::PhysicalVolume, Dialect::Legacy) => {
                line.push_str(" --fstype=\"physical volume (LVM)\"");
            }
            (role, _) => line.push_str(&fstype_option(role)),
        }
        for m in &r.members {
            let _ = write!(line, " {}", ks_id("raid.", m));
        }
        lines.push(line);
    }
    for vg in &scheme.volume_groups {
        let mut line = format!("volgroup {}", vg.name);
        if vg.pe_size != Size::from_mib(4) {
            let _ = write!(line, " --pesize={}", vg.pe_size.mib() * 1024);
        }
        for pv in &vg.pvs {
            let _ = write!(line, " {}", ks_id("pv.", pv));
        }
        lines.push(line);
    }
    for lv in &scheme.logical_volumes {
        let fstype = match &lv.role {
            Role::Mount { fstype, .. } => fstype.as_str(),
            _ => "swap",
        };
        let mut line = format!(
            "logvol {} --fstype={fstype} --vgname={} --size={}",
            target(&lv.role, None),
            lv.vg,
            lv.size.mib()
        );
        if lv.grow {
            line.push_str(" --grow");
        }
        let _ = write!(line, " --name={}", lv.name);
        lines.push(line);
    }
    lines
}

/// The kernel's `root=` for dom0: the device that holds `/`.
pub(crate) fn root_device(scheme: &PartitionScheme) -> String {
    match scheme.holder("/") {
        Some(Holder::LogicalVolume(lv)) => format!("/dev/{}/{}", lv.vg, lv.name),
        Some(Holder::Raid(r)) => format!("/dev/{}", r.device),
        Some(Holder::Partition(i)) => match scheme.partition_number(i) {
            Some(n) => format!("/dev/{}{n}", scheme.partitions[i].disk),
            // EL installers label the root file system `/`.
            None => "LABEL=/".to_owned(),
        },
        None => "LABEL=/".to_owned(),
    }
}

/// The file system type of `/boot` (or `/` without it), for GRUB2's `insmod`.
pub(crate) fn boot_fstype(scheme: &PartitionScheme) -> FsType {
    let role = |mount| match scheme.holder(mount) {
        Some(Holder::Partition(i)) => Some(scheme.partitions[i].role.clone()),
        Some(Holder::Raid(r)) => Some(r.role.clone()),
        Some(Holder::LogicalVolume(lv)) => Some(lv.role.clone()),
        None => None,
    };
    match role("/boot").or_else(|| role("/")) {
        Some(Role::Mount { fstype, .. }) => fstype,
        _ => FsType::Ext3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example's kickstart files, rendered with `install.ack_url = ack_url`.
    fn example_kickstarts(ack_url: Option<&str>) -> Vec<(String, String)> {
        let text = match ack_url {
            Some(url) => crate::EXAMPLE.replacen(
                "kickstart_url = ",
                &format!("ack_url = \"{url}\"\nkickstart_url = "),
                1,
            ),
            None => crate::EXAMPLE.to_owned(),
        };
        kickstarts(&text)
    }

    /// The kickstart files a fabric file renders, by name.
    fn kickstarts<B: FromIterator<(String, String)>>(text: &str) -> B {
        let fabric = crate::load(text, "f.toml").unwrap().fabric;
        crate::render(&fabric)
            .unwrap()
            .iter()
            .filter_map(|(path, entry)| {
                let name = path.as_str().strip_prefix("kickstart/")?;
                let crate::output::Entry::File { contents, .. } = entry else {
                    return None;
                };
                Some((name.to_owned(), contents.clone()))
            })
            .collect()
    }

    #[test]
    fn the_firmware_decides_the_label_the_boot_partitions_and_the_bootloader_line() {
        let files: std::collections::BTreeMap<String, String> =
            kickstarts(&crate::testing::repo_file("tests/cases/uefi/fabric.toml"));
        let lines = |name: &str| -> Vec<String> {
            files[name]
                .lines()
                .filter(|l| {
                    ["clearpart", "part ", "bootloader"]
                        .iter()
                        .any(|w| l.starts_with(w))
                })
                .map(str::to_owned)
                .collect()
        };
        // BIOS, msdos: the seed's lines
        let bios = lines("bios9.uefi.test.ks");
        assert_eq!(bios[0], "bootloader --location=mbr --driveorder=sda,sdb");
        assert_eq!(bios[1], "clearpart --all --initlabel --drives=sda,sdb");
        assert_eq!(bios[2], "part raid.01 --size=512 --ondisk=sda --asprimary");
        // UEFI: GPT, the ESP first, no MBR location
        let uefi = lines("uefi9.uefi.test.ks");
        assert_eq!(uefi[0], "bootloader --driveorder=sda,sdb");
        assert_eq!(
            uefi[1],
            "clearpart --all --initlabel --drives=sda,sdb --disklabel=gpt"
        );
        assert_eq!(
            uefi[2],
            "part /boot/efi --size=600 --ondisk=sda --asprimary --fstype=efi"
        );
        // BIOS over 2 TiB: GPT and biosboot
        let big = lines("big9.uefi.test.ks");
        assert_eq!(
            big[1],
            "clearpart --all --initlabel --drives=sda --disklabel=gpt"
        );
        assert_eq!(
            big[2],
            "part biosboot --size=1 --ondisk=sda --asprimary --fstype=biosboot"
        );
        // the reinstall reuses (and reformats) the ESP
        assert!(
            files["uefi9.uefi.test.reinstall.ks"]
                .contains("\npart /boot/efi --onpart=sda1 --fstype=efi\n")
        );
    }

    #[test]
    fn every_kickstart_acknowledges_its_install_last_when_serve_is_set() {
        let files = example_kickstarts(Some("http://192.168.96.1:8140/"));
        assert!(files.len() > 4);
        for (name, text) in &files {
            let fqdn = name
                .strip_suffix(".reinstall.ks")
                .or_else(|| name.strip_suffix(".ks"))
                .unwrap();
            let last = text.rsplit("%post\n").next().unwrap();
            let expected = format!("url='http://192.168.96.1:8140/ack/{fqdn}'\n");
            assert!(last.contains(&expected), "{name}: {last}");
            assert!(
                last.contains(
                    "curl -fsS -d '' -o /dev/null \"$url\" || wget -q -O /dev/null \"$url\""
                ),
                "{name}: {last}"
            );
            // the script is shell that `sh` reads
            let script = last.trim_end_matches("%end\n");
            let ok = std::process::Command::new("sh")
                .args(["-n", "-c", script])
                .status()
                .unwrap();
            assert!(ok.success(), "{name}: {script}");
        }
        // without serve, kickstarts make no call
        for (name, text) in example_kickstarts(None) {
            assert!(!text.contains("/ack/"), "{name}");
            assert!(!text.contains("xenfab serve"), "{name}");
        }
    }

    /// The overrides case's kickstart files, by name.
    fn overrides() -> std::collections::BTreeMap<String, String> {
        kickstarts(include_str!(
            "../../../../tests/cases/overrides/fabric.toml"
        ))
    }

    #[test]
    fn services_are_a_command_where_the_release_has_it_and_chkconfig_before() {
        let files = overrides();
        let file = |n: &str| files.get(n).unwrap_or_else(|| panic!("no {n}"));
        // EL5: the site's dom0 role
        assert!(
            file("xen05.example.org.ks")
                .contains("\nservices --enabled=xendomains --disabled=cups\nskipx\n")
        );
        // EL9: its OS's lists, not the site's
        let xen09 = file("xen09.example.org.ks");
        assert!(xen09.contains("\nservices --enabled=chronyd --disabled=kdump\n"));
        assert!(!xen09.contains("xendomains --"), "{xen09}");
        // EL4: no command (the RHEL4 handler has none), chkconfig in a %post, off before on,
        // before the host's own %post
        let saga = file("saga.example.org.ks");
        assert!(!saga.contains("\nservices "), "{saga}");
        let script = saga.split("\n%post\n").nth(1).unwrap();
        assert_eq!(
            script.lines().skip(1).collect::<Vec<_>>(),
            [
                "/sbin/chkconfig cups off",
                "/sbin/chkconfig kudzu off",
                "/sbin/chkconfig httpd on"
            ]
        );
        let ok = std::process::Command::new("sh")
            .args(["-n", "-c", script])
            .status()
            .unwrap();
        assert!(ok.success());
        let frigg = file("frigg.example.org.ks");
        let chk = frigg.find("/sbin/chkconfig cups off").unwrap();
        assert!(chk < frigg.find("echo site-guest-post").unwrap());
        // a host that lists none gets neither
        let (no_lists, _) = services_command_of(&[], &[]);
        assert!(no_lists.is_none());
    }

    /// [`services_command`] and [`services_post`] of two lists, at the site's level.
    fn services_command_of(
        enabled: &[&str],
        disabled: &[&str],
    ) -> (Option<String>, Option<String>) {
        let parse = |l: &[&str]| -> Vec<crate::model::Service> {
            l.iter().map(|s| s.parse().unwrap()).collect()
        };
        let (enabled, disabled) = (parse(enabled), parse(disabled));
        let text = include_str!("../../../../tests/cases/minimal/fabric.toml");
        let fabric = crate::load(text, "fabric.toml").unwrap().fabric;
        let mut m = fabric.kickstart_of_dom0(&fabric.dom0s[0]);
        m.enabled = &enabled;
        m.disabled = &disabled;
        (services_command(&m), services_post(&m))
    }

    #[test]
    fn services_command_leaves_out_an_empty_list() {
        assert_eq!(
            services_command_of(&["sshd"], &[]).0.as_deref(),
            Some("services --enabled=sshd")
        );
        assert_eq!(
            services_command_of(&[], &["cups", "getty@tty1"])
                .0
                .as_deref(),
            Some("services --disabled=cups,getty@tty1")
        );
        assert_eq!(
            services_command_of(&["a"], &["b"]).1.as_deref(),
            Some(
                "# services (kickstart services.enabled/disabled): this installer has no `services` command\n/sbin/chkconfig b off\n/sbin/chkconfig a on\n"
            )
        );
    }

    #[test]
    fn a_dom0s_pre_is_in_its_install_file_only() {
        let files = overrides();
        let install = &files["xen05.example.org.ks"];
        let reinstall = &files["xen05.example.org.reinstall.ks"];
        assert!(install.contains("\n%pre\necho 'xen05: installing' > /dev/tty3\n"));
        assert!(!reinstall.contains("\n%pre"), "{reinstall}");
        assert!(
            reinstall.contains(
                "\n# the %pre scripts of xen05.example.org.ks are left out: they run before the disks are laid out"
            ),
            "{reinstall}"
        );
        assert!(reinstall.contains("\nservices --enabled=xendomains --disabled=cups\n"));
        // guests keep theirs: EL9 closes it with %end
        assert!(
            files["vidar.example.org.ks"]
                .contains("\n%pre\necho site-guest-pre > /tmp/xenfab-pre\n%end\n")
        );
        assert!(
            !files["saga.example.org.ks"].contains("%pre"),
            "its own `pre = []`"
        );
    }

    /// grub.conf as CentOS 5.2's anaconda (11.1.2.113, booty's `grubBootloaderInfo`) writes it
    /// for a dom0 with kernel-xen and kernel, `/boot` on md0: the Xen entry's `kernel` line is
    /// the hypervisor, its `module` lines dom0's kernel and initrd.
    const CENTOS5_GRUB_CONF: &str = include_str!("testdata/centos-5.2-grub.conf");

    /// Runs the `%post` with `sh` on a copy of `conf` and gives what it left.
    fn run_post(conf: &str, args: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grub.conf");
        std::fs::write(&path, conf).unwrap();
        let script = hvargs_post(path.to_str().unwrap(), args);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert!(out.stderr.is_empty(), "{out:?}");
        std::fs::read_to_string(&path).unwrap()
    }

    #[test]
    fn hvargs_post_edits_only_the_hypervisor_line() {
        let args = "dom0_mem=512M dom0_max_vcpus=1 dom0_vcpus_pin";
        let edited = run_post(CENTOS5_GRUB_CONF, args);
        let expected = CENTOS5_GRUB_CONF.replace(
            "\tkernel /xen.gz-2.6.18-92.el5\n",
            &format!("\tkernel /xen.gz-2.6.18-92.el5 {args}\n"),
        );
        assert_ne!(expected, CENTOS5_GRUB_CONF);
        assert_eq!(edited, expected);
    }

    #[test]
    fn hvargs_post_without_a_boot_file_system() {
        // Without /boot anaconda writes paths below /boot.
        let conf = CENTOS5_GRUB_CONF.replace("kernel /xen.gz", "kernel /boot/xen.gz");
        let edited = run_post(&conf, "dom0_mem=1024M");
        assert!(edited.contains("\tkernel /boot/xen.gz-2.6.18-92.el5 dom0_mem=1024M\n"));
        assert_eq!(edited.matches("dom0_mem").count(), 1);
    }

    #[test]
    fn hvargs_post_says_when_there_is_no_hypervisor_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grub.conf");
        let conf = "title CentOS (2.6.18-92.el5)\n\tkernel /vmlinuz-2.6.18-92.el5 ro\n";
        std::fs::write(&path, conf).unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(hvargs_post(path.to_str().unwrap(), "dom0_mem=512M"))
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&out.stderr).contains("no hypervisor entry"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), conf);
    }
}

//! The debootstrap install of a Debian guest: `dom0s/<fqdn>/install/<guest>.sh`, which its
//! dom0's `provision.sh` runs while the guest is in state `install` and its volume is blank
//! ([`crate::model::debootstrap`] says who and why the layout).
//!
//! The script refuses a volume that is not blank, makes one ext4 file system on the whole
//! volume, mounts it on a private folder (unmounted on exit, whatever happens), runs
//! `debootstrap --variant=minbase --include=…` from the OS's mirror, or with
//! `--unpack-tarball` from the OS's `debootstrap_tarball` (debootstrap 1.0.128 of bookworm: the
//! packages, `debootstrap/required` and `debootstrap/base` all come from the tarball, which must
//! have been made for the same suite, variant and `--include`; the script checks both before it
//! touches the volume), then writes what the guest needs of the fabric: its name, `/etc/hosts`,
//! `/etc/fstab` (`/dev/xvda` is `/`), `/etc/network/interfaces` (`eth0`, static), its DNS
//! servers, the root password hash (`chpasswd -e`, shadow's of bookworm: "the passwords are
//! supplied encrypted", read from standard input, so the hash is in no command line), and for a
//! guest that pygrub boots, `/boot/grub/grub.cfg` naming `/boot/vmlinuz` and `/boot/initrd.img`
//! (linux-base's `linux-update-symlinks` keeps those links with `link_in_boot = yes` in
//! `/etc/kernel-img.conf`, kernel-img.conf(5); pygrub follows a symlink: libxenfsimage's ext2
//! reader resolves it). A guest that boots dom0's kernel gets no kernel nor modules in its
//! volume: what it needs to boot (xen-blkfront, xen-netfront, ext4) comes in dom0's initramfs
//! (initramfs-tools' `MODULES=most` takes the block, network and file system drivers), which
//! its `direct_boot.ramdisk` names; copy `/lib/modules/<version>` into it for more (xen-tools'
//! way; about 400 MiB for bookworm's kernel, so not done here).
//!
//! The kernel names the PV NIC `eth0` with `net.ifnames=0` (on the line of grub.cfg here, and
//! in a `direct_boot` command line, which validation asks for); without it udev would call it
//! `enX0` (systemd 243 and later) and ifupdown would find no `eth0`.
//!
//! Every value of the fabric reaches the shell as one single-quoted word (`sh_quote`).

use serde::Serialize;

use super::{lookup, templates};
use crate::error::RenderError;
use crate::model::debootstrap::{debootstrap_installs, needs_own_kernel, packages};
use crate::model::release::debian_codename;
use crate::model::{Dom0, Fabric, Guest};
use crate::output::Tree;
use crate::render::Part;

/// True for a guest whose debootstrap install is rendered: a Debian guest in state `install`
/// that validation lets through (a state recorded by `xenfab boot` can put one there past it:
/// it then gets no script, and provision.sh does not install it).
pub(crate) fn installable(fabric: &Fabric, dom0: &Dom0, guest: &Guest) -> bool {
    debootstrap_installs(fabric, guest)
        && crate::model::BootState::Install
            .refusal(fabric, crate::model::HostRef::Guest(dom0, guest))
            .is_none()
        && crate::validate::debootstrap::problems(fabric, dom0, guest).is_empty()
}

/// The path of a guest's install script below its dom0's folder: `install/<guest>.sh`.
pub(crate) fn script_path(guest: &Guest) -> String {
    format!("install/{}.sh", guest.name)
}

pub(crate) fn render(
    fabric: &Fabric,
    part: Part,
    env: &minijinja::Environment<'_>,
    tree: &mut Tree,
) -> Result<(), RenderError> {
    for dom0 in part.dom0s(fabric) {
        let fqdn = fabric.fqdn(&dom0.name);
        for g in dom0.guests.iter().filter(|g| installable(fabric, dom0, g)) {
            tree.insert_executable(
                &format!("dom0s/{fqdn}/{}", script_path(g)),
                templates::render(env, "debootstrap-install.sh.j2", view(fabric, dom0, g)?)?,
            )?;
        }
    }
    Ok(())
}

/// `value` as one single-quoted shell word: `'` closes the quote, an escaped `'` and a new one.
pub(crate) fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[derive(Serialize)]
struct View {
    guest: String,
    dom0: String,
    /// The OS's release and its code name (`12`, `bookworm`).
    release: String,
    /// Each a single-quoted shell word.
    device: String,
    suite: String,
    mirror: String,
    include: String,
    tarball: Option<String>,
    /// True for a guest pygrub boots: its kernel is installed, grub.cfg written.
    own_kernel: bool,
    files: Vec<FileView>,
    root_password: String,
    /// The command that makes the tarball, for the script's comment.
    make_tarball: String,
}

#[derive(Serialize)]
struct FileView {
    /// The path in the guest, quoted.
    path: String,
    /// What it is for (the script's comment).
    comment: &'static str,
    /// Its lines, each quoted.
    lines: Vec<String>,
}

fn file(path: &str, comment: &'static str, lines: &[String]) -> FileView {
    FileView {
        path: sh_quote(path),
        comment,
        lines: lines.iter().map(|l| sh_quote(l)).collect(),
    }
}

/// The `menuentry` pygrub reads (tools/pygrub/src/GrubConf.py of Xen 4.17, `Grub2ConfigFile`:
/// `menuentry` blocks with `linux` and `initrd` lines, `set default`, `set timeout`).
fn grub_cfg(release: &str, vdev: &str) -> Vec<String> {
    vec![
        "# pygrub reads this file, written by the debootstrap install of xenfab: the links"
            .to_owned(),
        "# /boot/vmlinuz and /boot/initrd.img follow the newest kernel (/etc/kernel-img.conf)."
            .to_owned(),
        "set default=0".to_owned(),
        "set timeout=0".to_owned(),
        format!("menuentry 'Debian GNU/Linux {release}' {{"),
        format!("\tlinux /boot/vmlinuz root=/dev/{vdev} ro console=hvc0 net.ifnames=0"),
        "\tinitrd /boot/initrd.img".to_owned(),
        "}".to_owned(),
    ]
}

fn view(fabric: &Fabric, dom0: &Dom0, g: &Guest) -> Result<View, RenderError> {
    let os = lookup::os(fabric, &g.os)?;
    let net = lookup::network(fabric, &g.network)?;
    let disk = g
        .disks
        .first()
        .ok_or_else(|| lookup::missing("disk of guest", &g.name))?;
    let suite = debian_codename(os.release)
        .ok_or_else(|| lookup::missing("Debian code name of OS", &g.os))?;
    let release = os.release.major.to_string();
    let fqdn = fabric.fqdn(&g.name);
    let mut files = vec![
        file("/etc/hostname", "the guest's name", &[g.name.to_string()]),
        file(
            "/etc/hosts",
            "its address and names",
            &[
                "127.0.0.1\tlocalhost".to_owned(),
                format!("{}\t{fqdn}\t{}", g.ip, g.name),
                String::new(),
                "::1\tlocalhost ip6-localhost ip6-loopback".to_owned(),
                "ff02::1\tip6-allnodes".to_owned(),
                "ff02::2\tip6-allrouters".to_owned(),
            ],
        ),
        file(
            "/etc/fstab",
            "/ is the whole volume, its first disk",
            &[format!(
                "/dev/{}\t/\text4\terrors=remount-ro\t0\t1",
                disk.vdev
            )],
        ),
        file(
            "/etc/network/interfaces",
            "ifupdown: its static address on its network",
            &interfaces(fabric, g)?,
        ),
    ];
    if !net.dns.is_empty() {
        let mut lines = vec![format!("search {}", fabric.site.domain)];
        lines.extend(net.dns.iter().map(|d| format!("nameserver {d}")));
        files.push(file(
            "/etc/resolv.conf",
            "its network's DNS servers",
            &lines,
        ));
    }
    let own_kernel = needs_own_kernel(g);
    if own_kernel {
        files.push(file(
            "/etc/kernel-img.conf",
            "linux-base keeps /boot/vmlinuz and /boot/initrd.img on the newest kernel",
            &[
                "do_symlinks = yes".to_owned(),
                "link_in_boot = yes".to_owned(),
            ],
        ));
        files.push(file(
            "/boot/grub/grub.cfg",
            "what pygrub boots",
            &grub_cfg(&release, disk.vdev.as_str()),
        ));
    }
    let include = packages(fabric, g).join(",");
    let mirror = os.install_url.as_str();
    let tarball = os
        .debootstrap_tarball
        .as_ref()
        .map(crate::model::AbsFile::as_str);
    Ok(View {
        guest: fqdn,
        dom0: fabric.fqdn(&dom0.name),
        release,
        device: sh_quote(&format!("/dev/{}/{}", disk.vg, disk.lv)),
        suite: sh_quote(suite),
        mirror: sh_quote(mirror),
        make_tarball: format!(
            "debootstrap --variant=minbase --arch=amd64 --include={include} --make-tarball={} {suite} $(mktemp -d) {mirror}",
            tarball.unwrap_or("FILE.tgz")
        ),
        include: sh_quote(&include),
        tarball: tarball.map(sh_quote),
        own_kernel,
        files,
        root_password: sh_quote(fabric.kickstart_of_guest(g).root_password.as_str()),
    })
}

/// A Debian guest's /etc/network/interfaces: each NIC static on its network (`eth0`, `eth1`,
/// …: netfront numbers the vifs in order, and `net.ifnames=0` keeps those names), one default
/// route, the first NIC's.
fn interfaces(fabric: &Fabric, g: &Guest) -> Result<Vec<String>, RenderError> {
    let mut lines = vec!["auto lo".to_owned(), "iface lo inet loopback".to_owned()];
    for nic in g.nics() {
        let net = lookup::network(fabric, nic.network)?;
        let name = nic.name();
        lines.push(String::new());
        lines.push(format!("auto {name}"));
        lines.push(format!("iface {name} inet static"));
        lines.push(format!("\taddress {}/{}", nic.ip, net.subnet.prefix_len()));
        if nic.index == 0 {
            lines.push(format!("\tgateway {}", net.gateway));
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_a_value_one_word() {
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote("$(x)"), "'$(x)'");
    }

    #[test]
    fn grub_cfg_boots_the_links_on_the_whole_volume() {
        let cfg = grub_cfg("12", "xvda").join("\n");
        assert!(
            cfg.contains("\tlinux /boot/vmlinuz root=/dev/xvda ro console=hvc0 net.ifnames=0\n")
        );
        assert!(cfg.contains("\tinitrd /boot/initrd.img\n"));
    }
}

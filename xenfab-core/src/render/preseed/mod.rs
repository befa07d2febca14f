//! Preseed files: the answers that install a Debian dom0 with the Debian installer, without a
//! question, in the layout of its partition scheme, with the files render/debian makes for it.
//!
//! - `preseed/<fqdn>.cfg`: served at `<kickstart_url>/preseed/<fqdn>.cfg` ([`preseed_url`]),
//!   which the dom0's netboot entry names (`auto=true priority=critical url=…`,
//!   render/netboot.rs), and its rescue entry.
//! - `preseed/<fqdn>.reinstall.cfg`: the keep-the-guests reinstall, for a dom0 whose guests'
//!   volume groups are on disks of their own: the same answers, with partman given only
//!   dom0's other disks ([`crate::model::partman::partman_reinstall`]).
//!
//! Every key is one of the Debian installation guide's appendix B ("Contents of the
//! preconfiguration file (for bookworm)" and its `example-preseed.txt`), but for the partman
//! ones it documents only in partman-auto's code (`partman-auto-lvm/guided_size`,
//! `partman-auto-lvm/new_vg_name`, read in partman-auto-lvm 91's `auto-lvm.sh` and
//! `perform_recipe_by_lvm`): see [`crate::model::partman`]. The same keys hold for trixie
//! (its appendix B has them all); only `mirror/suite` names the release.
//!
//! Values: a debconf value is the rest of its line (both readers: debconf's Perl
//! `debconf-set-selections` and the installer's own shell one, `/bin/debconf-set-selections`
//! of the bookworm netboot initrd, which joins a line ending in `\` with the next and drops
//! `\r`). Every value here comes from a model type whose characters exclude line breaks,
//! `\r` and a final `\` (host and domain names, locale, keymap, time zone, crypt hash, URL,
//! LVM names, mount points, package names), and validation (validate/preseed.rs) refuses the
//! rest: a keyboard the installer cannot take, a mirror URL it cannot use, a package name
//! that is not Debian's.
//!
//! The late command puts dom0's files in place under `/target` and runs `update-grub` in the
//! installed system: each file inline, base64-encoded (the installer's busybox has `base64`;
//! a base64 text is `A-Za-z0-9+/=` only), so that nothing of the fabric reaches the shell but
//! as a quoted argument, and the install needs nothing served but the preseed file itself.

use std::fmt::Write;

use base64::Engine;
use serde::Serialize;

use super::{lookup, templates};
use crate::error::RenderError;
use crate::model::partman::{Partman, partman, partman_reinstall};
use crate::model::{Dom0, Fabric, OsFamily, Role, release};
use crate::output::{Entry, RelPath, Tree};
use crate::render::Part;

/// The packages every Debian dom0 gets (`pkgsel/include`): the hypervisor and its tools
/// (`xen-system-amd64` depends on the hypervisor, `xen-utils` and `xenstore-utils`), LVM for
/// the guests' volumes, bridge-utils and ifupdown for the bridges of
/// /etc/network/interfaces (render/debian), sshd, and debootstrap for its Debian guests.
const DOM0_PACKAGES: [&str; 6] = [
    "xen-system-amd64",
    "lvm2",
    "bridge-utils",
    "ifupdown",
    "openssh-server",
    // provision.sh installs the dom0's Debian guests with it (render/debootstrap).
    "debootstrap",
];

/// The files of render/debian and render/toolstack the late command installs, and where.
const FILES: [(&str, &str); 5] = [
    ("grub/xen.cfg", "/etc/default/grub.d/xen.cfg"),
    ("kernel-img.conf", "/etc/kernel-img.conf"),
    ("network/interfaces", "/etc/network/interfaces"),
    ("default/xendomains", "/etc/default/xendomains"),
    ("xen/xl.conf", "/etc/xen/xl.conf"),
];

/// The URL of a dom0's preseed file: `<kickstart_url>/preseed/<fqdn>.cfg`, the output tree's
/// `preseed/` served below the kickstarts' URL; `<fqdn>.reinstall.cfg` for the reinstall.
pub fn preseed_url(fabric: &Fabric, dom0: &Dom0, reinstall: bool) -> String {
    format!(
        "{}/preseed/{}",
        fabric.install.kickstart_url.as_str().trim_end_matches('/'),
        file_name(fabric, dom0, reinstall)
    )
}

/// `<fqdn>.cfg`, or `<fqdn>.reinstall.cfg`: the preseed file's name in `preseed/`.
pub fn file_name(fabric: &Fabric, dom0: &Dom0, reinstall: bool) -> String {
    let fqdn = fabric.fqdn(&dom0.name);
    if reinstall {
        format!("{fqdn}.reinstall.cfg")
    } else {
        format!("{fqdn}.cfg")
    }
}

/// True for a Debian dom0 the Debian installer can install from a preseed file: one that
/// gets a preseed file and install and rescue entries.
pub(crate) fn installable(fabric: &Fabric, dom0: &Dom0) -> bool {
    crate::validate::preseed::problems(fabric, dom0).is_empty()
}

/// True for a Debian dom0 the Debian installer can reinstall keeping its guests' volume
/// groups: one that gets a reinstall preseed file and a reinstall entry.
pub(crate) fn reinstallable(fabric: &Fabric, dom0: &Dom0) -> bool {
    crate::validate::preseed::value_problems(fabric, dom0).is_empty()
        && crate::model::BootState::Reinstall
            .refusal(fabric, crate::model::HostRef::Dom0(dom0))
            .is_none()
}

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
        // A dom0 the installer cannot install (or reinstall) as described gets no such
        // preseed file and no netboot entry for it: validation refuses the state
        // (validate/preseed.rs, BootState::refusal).
        let scheme = &*lookup::layout(fabric, dom0)?;
        let hardware = lookup::hardware(fabric, dom0)?;
        let missing = |_| lookup::missing("partman recipe of", &dom0.name);
        if installable(fabric, dom0) {
            let parts = partman(scheme, hardware).map_err(missing)?;
            let view = view(fabric, dom0, scheme, &parts, tree, false)?;
            tree.insert_file(
                &format!("preseed/{}", file_name(fabric, dom0, false)),
                templates::render(env, "preseed.cfg.j2", &view)?,
            )?;
        }
        if reinstallable(fabric, dom0) {
            let kept: Vec<&str> = crate::model::kept_volume_groups(scheme, dom0)
                .map(crate::model::LvmName::as_str)
                .collect();
            let parts = partman_reinstall(scheme, hardware, &kept).map_err(missing)?;
            let view = view(fabric, dom0, scheme, &parts, tree, true)?;
            tree.insert_file(
                &format!("preseed/{}", file_name(fabric, dom0, true)),
                templates::render(env, "preseed.cfg.j2", &view)?,
            )?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct PreseedView {
    fqdn: String,
    url: String,
    /// The groups a reinstall keeps (empty for the install's file).
    kept: Vec<String>,
    /// `(owner, question, type, value)`, in the installer's order, by section.
    sections: Vec<Section>,
}

#[derive(Serialize)]
struct Section {
    title: &'static str,
    lines: Vec<Line>,
}

#[derive(Serialize)]
struct Line {
    /// Comments before the line.
    comment: Option<String>,
    /// `d-i partman-auto/method string lvm`, or the first line of a continued one.
    text: String,
    /// Continuation lines (each but the last ends with ` \`).
    more: Vec<String>,
}

fn line(owner: &str, question: &str, kind: &str, value: &str) -> Line {
    Line {
        comment: None,
        text: if value.is_empty() {
            format!("{owner} {question} {kind}")
        } else {
            format!("{owner} {question} {kind} {value}")
        },
        more: Vec::new(),
    }
}

fn di(question: &str, kind: &str, value: &str) -> Line {
    line("d-i", question, kind, value)
}

/// A value over several lines: the first line ends with ` \`, and so does every line of
/// `rest` but the last (both readers join them with a space).
fn continued(question: &str, kind: &str, head: &str, rest: &[String]) -> Line {
    let mut more: Vec<String> = rest.iter().map(|l| format!("{l} \\")).collect();
    if let Some(last) = more.last_mut() {
        last.truncate(last.len() - 2);
    }
    let head = if head.is_empty() {
        String::new()
    } else {
        format!(" {head}")
    };
    Line {
        comment: None,
        text: format!("d-i {question} {kind}{head} \\"),
        more,
    }
}

fn commented(mut l: Line, comment: &str) -> Line {
    l.comment = Some(comment.to_owned());
    l
}

/// The contents of a file of the tree (render/debian's and render/toolstack's run first).
fn tree_file<'a>(tree: &'a Tree, path: &str) -> Result<&'a str, RenderError> {
    let rel = RelPath::new(path).map_err(|_| crate::render::lookup::missing("file", &path))?;
    match tree.get(&rel) {
        Some(Entry::File { contents, .. }) => Ok(contents),
        _ => Err(crate::render::lookup::missing("rendered file", &path)),
    }
}

/// The packages of `pkgsel/include`: dom0's own (its `[dom0s.kickstart] packages`, else its
/// OS's; the site's `[kickstart.dom0]` list is the EL dom0s' and is not used) after xenfab's,
/// and mdadm for a software RAID layout.
pub(crate) fn packages(fabric: &Fabric, dom0: &Dom0, raid: bool) -> Vec<String> {
    use crate::model::debootstrap::{own_packages, package_list};
    let mdadm = raid.then_some("mdadm");
    // ifenslave's /etc/network/if-pre-up.d/ifenslave reads the `bond-*` options; vlan's
    // if-pre-up.d/vlan makes `<device>.<id>` from `vlan-raw-device` (their bookworm
    // packages; render/debian writes those stanzas).
    let ifs = &dom0.interfaces;
    let ifenslave = (!ifs.bonds.is_empty()).then_some("ifenslave");
    let vlan = (!ifs.vlans().is_empty()).then_some("vlan");
    package_list(
        DOM0_PACKAGES
            .iter()
            .copied()
            .chain(mdadm)
            .chain(ifenslave)
            .chain(vlan),
        own_packages(fabric, dom0.kickstart.as_deref(), &dom0.os),
    )
}

/// The preseed file of `dom0`, whose layout ([`Fabric::layout`]) is `scheme`.
fn view(
    fabric: &Fabric,
    dom0: &Dom0,
    scheme: &crate::model::PartitionScheme,
    parts: &Partman,
    tree: &Tree,
    reinstall: bool,
) -> Result<PreseedView, RenderError> {
    let fqdn = fabric.fqdn(&dom0.name);
    let os = lookup::os(fabric, &dom0.os)?;
    let ks = fabric.kickstart_of_dom0(dom0);
    let mut sections = Vec::new();

    sections.push(Section {
        title: "Localization (B.4.1): asked after the preseed file is read, as auto=true delays them",
        lines: vec![
            di("debian-installer/locale", "string", ks.lang.as_ref()),
            di("keyboard-configuration/xkb-keymap", "select", ks.keyboard.as_ref()),
        ],
    });

    sections.push(Section {
        title: "Network (B.4.2): DHCP gives the address of dom0's DHCP entry; the installed system gets the static bridge of /etc/network/interfaces from the late command",
        lines: vec![
            commented(
                di("netcfg/choose_interface", "select", "auto"),
                "The NIC with a link (the netboot entry says `interface=auto` too).",
            ),
            di("netcfg/get_hostname", "string", dom0.name.as_str()),
            di("netcfg/get_domain", "string", fabric.site.domain.as_str()),
            commented(
                di("netcfg/hostname", "string", dom0.name.as_str()),
                "Over what DHCP or reverse DNS says.",
            ),
            di("hw-detect/load_firmware", "boolean", "true"),
        ],
    });

    // validate/preseed.rs: http or https, no user name or password.
    let mirror = &os.install_url;
    let proto = mirror.scheme();
    let host = match mirror.port() {
        Some(port) => format!("{}:{port}", mirror.host_str().unwrap_or_default()),
        None => mirror.host_str().unwrap_or_default().to_owned(),
    };
    let dir = mirror.path().trim_end_matches('/');
    let suite = release::debian_codename(os.release)
        .ok_or_else(|| lookup::missing("Debian code name of OS release", &dom0.os))?;
    sections.push(Section {
        title: "Mirror (B.4.3): the OS's install_url",
        lines: vec![
            di("mirror/country", "string", "manual"),
            di("mirror/protocol", "string", proto),
            di(&format!("mirror/{proto}/hostname"), "string", &host),
            di(
                &format!("mirror/{proto}/directory"),
                "string",
                if dir.is_empty() { "/" } else { dir },
            ),
            di(&format!("mirror/{proto}/proxy"), "string", ""),
            di("mirror/suite", "string", suite),
        ],
    });

    sections.push(Section {
        title: "Accounts (B.4.4): root with the fabric's hash, no other user",
        lines: vec![
            di("passwd/root-login", "boolean", "true"),
            di("passwd/make-user", "boolean", "false"),
            commented(
                di(
                    "passwd/root-password-crypted",
                    "password",
                    ks.root_password.as_str(),
                ),
                "user-setup gives the hash to the installed system's shadow file as it is: bookworm's libcrypt (libxcrypt) reads $1$, $5$, $6$, $2b$ and $y$.",
            ),
        ],
    });

    sections.push(Section {
        title: "Clock and time zone (B.4.5)",
        lines: vec![
            di("clock-setup/utc", "boolean", "true"),
            di("time/zone", "string", ks.timezone.as_ref()),
            di("clock-setup/ntp", "boolean", "true"),
        ],
    });

    sections.push(Section {
        title: "Partitioning (B.4.6): the partition scheme as partman-auto recipes",
        lines: partitioning(scheme, parts),
    });

    sections.push(Section {
        title: "Base system and packages (B.4.8, B.4.10)",
        lines: vec![
            di("base-installer/kernel/image", "string", "linux-image-amd64"),
            di("apt-setup/cdrom/set-first", "boolean", "false"),
            di("apt-setup/services-select", "multiselect", "security, updates"),
            commented(
                di("apt-setup/security_host", "string", &host),
                "Security updates from the mirror's host too (<host>/debian-security), not security.debian.org, which an install network may not reach.",
            ),
            line("tasksel", "tasksel/first", "multiselect", "ssh-server"),
            commented(
                di(
                    "pkgsel/include",
                    "string",
                    &packages(fabric, dom0, parts.method == "raid").join(" "),
                ),
                "Xen, its tools and what dom0's files need.",
            ),
            di("pkgsel/upgrade", "select", "none"),
            line(
                "popularity-contest",
                "popularity-contest/participate",
                "boolean",
                "false",
            ),
        ],
    });

    sections.push(Section {
        title: "Boot loader (B.4.11): GRUB on every disk of the layout",
        lines: vec![
            di("grub-installer/only_debian", "boolean", "true"),
            di("grub-installer/with_other_os", "boolean", "true"),
            di(
                "grub-installer/bootdev",
                "string",
                &parts.bootdevs.join(" "),
            ),
        ],
    });

    let mut finish = vec![di("finish-install/reboot_in_progress", "note", "")];
    finish.push(commented(
        late_command(fabric, dom0, parts, tree)?,
        "dom0's files (render/debian, xl.conf), inline and base64-encoded, then update-grub in the installed system.",
    ));
    sections.push(Section {
        title: "Finishing (B.4.12, B.5.1): dom0's files in place, the Xen entry the default",
        lines: finish,
    });

    let kept = if reinstall {
        crate::model::kept_volume_groups(scheme, dom0)
            .map(ToString::to_string)
            .collect()
    } else {
        Vec::new()
    };
    Ok(PreseedView {
        url: preseed_url(fabric, dom0, reinstall),
        fqdn,
        kept,
        sections,
    })
}

fn partitioning(scheme: &crate::model::PartitionScheme, parts: &Partman) -> Vec<Line> {
    let mut lines = vec![
        di("partman-auto/disk", "string", &parts.disks.join(" ")),
        di("partman-auto/method", "string", parts.method),
        commented(
            di(
                "partman-partitioning/default_label",
                "string",
                parts.label.as_str(),
            ),
            if parts.label == crate::model::DiskLabel::Gpt {
                "Partition numbers as the recipes count them (model/partman.rs). GPT: UEFI boots from its ESP (partman-efi, `method{ efi }`), a BIOS's GRUB from a `method{ biosgrub }` partition; grub-installer picks grub-efi-amd64 or grub-pc by how the installer itself was booted (its `archdetect` subarchitecture, `amd64/efi`)."
            } else {
                "Partition numbers as the recipes count them (model/partman.rs)."
            },
        ),
        di("partman-lvm/device_remove_lvm", "boolean", "true"),
        di("partman-md/device_remove_md", "boolean", "true"),
        di("partman-lvm/confirm", "boolean", "true"),
        di("partman-lvm/confirm_nooverwrite", "boolean", "true"),
    ];
    if let Some(vg) = &parts.new_vg_name {
        lines.push(commented(
            di("partman-auto-lvm/new_vg_name", "string", vg),
            "The volume group partman-auto-raid makes of the `lvm` arrays.",
        ));
    }
    if parts.method != "regular" {
        lines.push(commented(
            di("partman-auto-lvm/guided_size", "string", &parts.guided_size),
            "What dom0's logical volumes may take of each group: their sizes (max: the growing one takes the rest).",
        ));
    }
    lines.push(continued(
        "partman-auto/expert_recipe",
        "string",
        "xenfab ::",
        &parts.recipe,
    ));
    if !parts.raid_recipe.is_empty() {
        lines.push(continued(
            "partman-auto-raid/recipe",
            "string",
            "",
            &parts.raid_recipe,
        ));
        lines.push(di("partman-md/confirm", "boolean", "true"));
        lines.push(di("partman-md/confirm_nooverwrite", "boolean", "true"));
    }
    let has_swap = scheme.partitions.iter().any(|p| p.role == Role::Swap)
        || scheme.raids.iter().any(|r| r.role == Role::Swap)
        || scheme.logical_volumes.iter().any(|l| l.role == Role::Swap);
    if !has_swap {
        lines.push(commented(
            di("partman-basicfilesystems/no_swap", "boolean", "false"),
            "The scheme has no swap: do not ask to go back and add some.",
        ));
    }
    lines.extend([
        di(
            "partman-partitioning/confirm_write_new_label",
            "boolean",
            "true",
        ),
        di("partman/choose_partition", "select", "finish"),
        di("partman/confirm", "boolean", "true"),
        di("partman/confirm_nooverwrite", "boolean", "true"),
        di("partman/mount_style", "select", "uuid"),
    ]);
    lines
}

/// `preseed/late_command`: run by the installer's `preseed_command` as `sh -c "<value>"`
/// (bookworm's netboot initrd); a failure stops the install with `preseed/command_failed`.
fn late_command(
    fabric: &Fabric,
    dom0: &Dom0,
    parts: &Partman,
    tree: &Tree,
) -> Result<Line, RenderError> {
    let fqdn = fabric.fqdn(&dom0.name);
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut rest = vec![
        // `w PATH BASE64`: the file at /target/PATH, its folder made first.
        "w() { mkdir -p \"/target$(dirname \"$1\")\" && echo \"$2\" | base64 -d > \"/target$1\"; };"
            .to_owned(),
    ];
    for (rel, target) in FILES {
        let text = tree_file(tree, &format!("dom0s/{fqdn}/{rel}"))?;
        rest.push(format!("w {target} {};", b64.encode(text)));
    }
    for split in &parts.split {
        // The array of each member partition, out of partman's group and into its own.
        let mut cmd = String::from(
            "in-target sh -c 'vg=$1; from=$2; shift 2; pvs=; for m do pvs=\"$pvs /dev/$(ls /sys/class/block/$m/holders)\"; done; for pv in $pvs; do pvmove $pv || true; done; vgreduce $from $pvs && vgcreate $vg $pvs' sh",
        );
        let _ = write!(cmd, " {} {}", split.vg, split.from);
        for m in &split.members {
            let _ = write!(cmd, " {m}");
        }
        cmd.push(';');
        rest.push(cmd);
    }
    rest.push("in-target update-grub;".to_owned());
    if let Some(base) = &fabric.install.ack_url {
        // xenfab serve switches the host to local boot (docs/lifecycle.md); busybox wget's
        // GET, which the server takes as well as a POST. A failed call does not fail the
        // install. The URL passed lowering's character set: no quote in it.
        let url = format!("{}/ack/{fqdn}", base.as_str().trim_end_matches('/'));
        rest.push(format!(
            "sh -c 'wget -q -O /dev/null \"$1\" || echo \"xenfab: the acknowledgement to $1 failed\" >&2' sh '{url}';"
        ));
    }
    if let Some(last) = rest.last_mut() {
        last.pop();
    }
    Ok(continued(
        "preseed/late_command",
        "string",
        "set -e;",
        &rest,
    ))
}

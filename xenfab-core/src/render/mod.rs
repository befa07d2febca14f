//! Renderers: one module an artefact, each turning a validated [`Fabric`] into files of the
//! output tree.
//!
//! A renderer builds a *view* in Rust (every size, MAC format and decision computed and
//! unit-tested there) and hands it to a template in `templates/` that only loops and prints.
//!
//! Each renderer renders one [`Part`] of the tree at a time: one dom0's files (its own and
//! its guests', from that dom0 and the shared settings only), or the site's (the files that
//! list every host). [`render`] renders them all; [`output::plan_fabric`](crate::output::plan_fabric)
//! only those whose inputs changed since the tree was last written.
//!
//! | module | artefact | output path |
//! |---|---|---|
//! | [`inventory`] | hosts, addresses, MACs, volumes and capacity | `inventory/` |
//! | [`kickstart`] | kickstart files of dom0s (and their reinstall variant) and guests | `kickstart/<fqdn>.ks`, `kickstart/<fqdn>.reinstall.ks` |
//! | [`grub`] | the hypervisor's boot entry of each dom0 (GRUB legacy or GRUB2) | `dom0s/<fqdn>/grub/` |
//! | [`toolstack`] | `xend-config.sxp` or `xl.conf` of each dom0 | `dom0s/<fqdn>/xen/` |
//! | [`ifcfg`] | initscripts' ifcfg files of an EL5 dom0 with several NICs (its bonds, VLANs, bridges) | `dom0s/<fqdn>/network/` |
//! | [`nmconnection`] | NetworkManager's connection files of an EL9 dom0 with several NICs (its bonds, VLANs, bridges) | `dom0s/<fqdn>/network/` |
//! | [`dhcp`] | host entries for ISC dhcpd, Kea and dnsmasq (and dnsmasq's DNS records) | `dhcp/` |
//! | [`dns`] | the forward and reverse zones of every host's address, their `zone` statements and an nsupdate script | `dns/` |
//! | [`guests`] | xm, xl and libvirt configs of each guest; each dom0's provisioning script | `dom0s/<fqdn>/xen/`, `dom0s/<fqdn>/libvirt/`, `dom0s/<fqdn>/provision.sh` |
//! | [`debian`] | what a Debian dom0 reads: `/etc/default/grub.d/xen.cfg`, a `grub.cfg` entry, `kernel-img.conf`, `/etc/network/interfaces`, `/etc/default/xendomains` | `dom0s/<fqdn>/grub/`, `dom0s/<fqdn>/network/`, `dom0s/<fqdn>/default/` |
//! | [`preseed`] | the Debian installer's answers for each Debian dom0: locale, network, mirror, root, partman recipes of its layout, packages, and a late command that installs render/debian's files | `preseed/<fqdn>.cfg` |
//! | [`debootstrap`] | the debootstrap install of each Debian guest in state `install`, run on its dom0 by `provision.sh` | `dom0s/<fqdn>/install/<guest>.sh` |
//! | [`netboot`] | pxelinux, pypxeboot, GRUB2 and iPXE files and the links that pick install or local boot | `tftpboot/` |
//! | [`uefi`] | what GRUB EFI netboot images read besides the per-host files: the local disk for unknown machines, the way from Debian's `/grub` prefix to `grub2/` | `tftpboot/grub2/grub.cfg`, `tftpboot/grub/grub.cfg` |
//!
//! [`report`] is not part of the tree: it draws each dom0's capacity as an HTML page for
//! `xenfab report --html`.
//!
//! [`owners`] says which host each entry of the tree is an artefact of (`xenfab show HOST`).

pub mod debian;
pub mod debootstrap;
pub mod dhcp;
pub mod dns;
pub mod grub;
pub mod guests;
pub mod ifcfg;
pub mod inventory;
pub mod kickstart;
mod lookup;
pub mod netboot;
pub mod nmconnection;
pub mod owners;
pub mod preseed;
pub mod report;
mod templates;
pub mod toolstack;
pub mod uefi;

use minijinja::Environment;
use rayon::prelude::*;

use crate::error::RenderError;
use crate::model::{Dom0, Fabric, HostRef};
use crate::output::Tree;

pub use crate::output::Part;

impl Part {
    /// Every part of `fabric`, the site's first.
    pub fn all(fabric: &Fabric) -> impl Iterator<Item = Part> {
        std::iter::once(Part::Site).chain((0..fabric.dom0s.len()).map(Part::Dom0))
    }

    /// The dom0s this part renders: none for the site, one for a dom0.
    pub(crate) fn dom0s(self, fabric: &Fabric) -> &[Dom0] {
        match self {
            Part::Site => &[],
            Part::Dom0(i) => fabric.dom0s.get(i..=i).unwrap_or_default(),
        }
    }

    /// The hosts this part renders: a dom0 and its guests, or none.
    pub(crate) fn hosts(self, fabric: &Fabric) -> impl Iterator<Item = HostRef<'_>> {
        crate::model::hosts_of(self.dom0s(fabric))
    }
}

type Renderer = for<'e> fn(&Fabric, Part, &Environment<'e>, &mut Tree) -> Result<(), RenderError>;

/// Every renderer but the sections', in the order they fill a part's tree: preseed after
/// debian and toolstack, as the preseed file's late command carries their files.
const RENDERERS: [Renderer; 12] = [
    guests::render,
    debootstrap::render,
    kickstart::render,
    grub::render,
    netboot::render,
    uefi::render,
    inventory::render,
    debian::render,
    |f, p, _, t| ifcfg::render(f, p, t),
    |f, p, _, t| nmconnection::render(f, p, t),
    toolstack::render,
    preseed::render,
];

/// The site's *sections*: the site's files that list the hosts by their names and addresses
/// only, each renderer's in a directory of its own (DHCP's in `dhcp/`, DNS's in `dns/`).
/// What they render does not change with a guest's [`Sizes`] (its memory, vcpus, disks and
/// lifecycle actions), so a change to those alone renders the site's part
/// without its sections, and the tree keeps their files ([`crate::fingerprint`] gives the
/// sections a fingerprint of their own; `tests/parts.rs` checks the promise on every case
/// of the golden corpus). They render nothing for a dom0's part.
pub(crate) const SECTIONS: [(&str, Renderer); 2] = [("dhcp", dhcp::render), ("dns", dns::render)];

/// What the site's sections do not read of a guest: its sizes and lifecycle actions.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Its memory.
    pub memory: crate::model::Size,
    /// Its virtual CPUs.
    pub vcpus: u32,
    /// Its disks.
    pub disks: Vec<crate::model::GuestDisk>,
    /// What Xen does when it powers off.
    pub on_poweroff: crate::model::LifecycleAction,
    /// When it reboots.
    pub on_reboot: crate::model::LifecycleAction,
    /// When it crashes.
    pub on_crash: crate::model::LifecycleAction,
}

/// Takes the [`Sizes`] out of `guest`, leaving fixed values in their place.
pub fn take_sizes(guest: &mut crate::model::Guest) -> Sizes {
    use crate::model::LifecycleAction::Destroy;
    use std::mem::replace;
    Sizes {
        memory: replace(&mut guest.memory, crate::model::Size::from_mib(0)),
        vcpus: replace(&mut guest.vcpus, 0),
        disks: std::mem::take(&mut guest.disks),
        on_poweroff: replace(&mut guest.on_poweroff, Destroy),
        on_reboot: replace(&mut guest.on_reboot, Destroy),
        on_crash: replace(&mut guest.on_crash, Destroy),
    }
}

/// `guest` without its [`Sizes`] ([`take_sizes`]).
pub fn without_sizes(guest: &crate::model::Guest) -> crate::model::Guest {
    let mut guest = guest.clone();
    take_sizes(&mut guest);
    guest
}

/// Whether `path`, an entry of the site's part, is one of its *sections'* files: DHCP's (in
/// `dhcp/`) and DNS's (in `dns/`), which list the hosts by their names and addresses only.
pub fn in_section(path: &str) -> bool {
    SECTIONS.iter().any(|(dir, _)| {
        path.strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Whether [`render_parts_with`] renders the site's sections with its part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sections {
    Rendered,
    /// Kept as they are in the tree: their fingerprint did not change.
    Kept,
}

fn render_with(
    fabric: &Fabric,
    part: Part,
    env: &Environment<'_>,
    sections: Sections,
) -> Result<Tree, RenderError> {
    if part == Part::Site {
        return render_site(fabric, sections);
    }
    let mut tree = Tree::for_part(part);
    for renderer in RENDERERS {
        renderer(fabric, part, env, &mut tree)?;
    }
    Ok(tree)
}

/// The site's part, its renderers on every core: each of them lists every host (at 110,000
/// hosts, DHCP's files take a second and a half, DNS's half a second), and none reads
/// another's files.
fn render_site(fabric: &Fabric, sections: Sections) -> Result<Tree, RenderError> {
    let sections = match sections {
        Sections::Rendered => &SECTIONS[..],
        Sections::Kept => &[],
    };
    let renderers: Vec<Renderer> = sections
        .iter()
        .map(|(_, renderer)| *renderer)
        .chain(RENDERERS)
        .collect();
    let trees: Vec<Tree> = renderers
        .par_iter()
        .map(|renderer| {
            let mut tree = Tree::for_part(Part::Site);
            templates::with_environment(|env| renderer(fabric, Part::Site, env, &mut tree))?;
            Ok(tree)
        })
        .collect::<Result<_, RenderError>>()?;
    let mut merged = Tree::for_part(Part::Site);
    for tree in trees {
        merged.merge(tree)?;
    }
    Ok(merged)
}

/// Renders every artefact of a validated fabric into one tree.
///
/// The fabric must have passed [`crate::validate()`] without errors (as every fabric from
/// [`crate::load`] has); the same fabric always gives the same tree, byte for byte.
///
/// The parts ([`Part`]) are rendered on every core and merged in a fixed order: the result
/// does not depend on which finishes first.
pub fn render(fabric: &Fabric) -> Result<Tree, RenderError> {
    let parts: Vec<Part> = Part::all(fabric).collect();
    let trees = render_parts(fabric, &parts)?;
    Ok(Tree::merge_all(
        trees.into_iter().map(|(_, tree)| tree).collect(),
    )?)
}

/// Renders the files of one part of a validated fabric (see [`render`]).
pub fn render_part(fabric: &Fabric, part: Part) -> Result<Tree, RenderError> {
    templates::with_environment(|env| render_with(fabric, part, env, Sections::Rendered))
}

/// Renders `parts` on every core, each into a tree of its own, returned in the order of
/// `parts`.
pub fn render_parts(fabric: &Fabric, parts: &[Part]) -> Result<Vec<(Part, Tree)>, RenderError> {
    render_parts_with(fabric, parts, Sections::Rendered)
}

/// [`render_parts`], the site's part with or without its sections.
pub(crate) fn render_parts_with(
    fabric: &Fabric,
    parts: &[Part],
    sections: Sections,
) -> Result<Vec<(Part, Tree)>, RenderError> {
    parts
        .par_iter()
        .map(|&part| {
            let tree = templates::with_environment(|env| render_with(fabric, part, env, sections));
            Ok((part, tree?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sections' files are exactly the site's files in their directories: the site's
    /// part rendered without them has none there, and with them only those more.
    #[test]
    fn the_sections_are_the_sites_files_in_their_directories() {
        for case in [
            "tests/cases/example/fabric.toml",
            "tests/cases/dns-settings/fabric.toml",
            "tests/cases/multi-nic/fabric.toml",
            "tests/cases/debian-site/fabric.toml",
        ] {
            let fabric = crate::testing::repo_fabric(case);
            let paths = |sections| -> Vec<String> {
                render_site(&fabric, sections)
                    .unwrap()
                    .iter()
                    .map(|(p, _)| p.to_string())
                    .collect()
            };
            let (all, kept) = (paths(Sections::Rendered), paths(Sections::Kept));
            assert!(!kept.iter().any(|p| in_section(p)), "{case}: {kept:?}");
            let more: Vec<&String> = all.iter().filter(|p| !kept.contains(p)).collect();
            assert!(!more.is_empty(), "{case}");
            assert!(more.iter().all(|p| in_section(p)), "{case}: {more:?}");
            assert_eq!(all.len(), kept.len() + more.len(), "{case}");
        }
    }
}

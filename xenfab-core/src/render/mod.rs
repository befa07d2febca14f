//! Renderers: one module an artefact, each turning a validated [`Fabric`] into files of the
//! output tree.
//!
//! A renderer builds a *view* in Rust (every size, MAC format and decision computed and
//! unit-tested there) and hands it to a template in `templates/` that only loops and prints.
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
pub mod preseed;
mod templates;
pub mod toolstack;
pub mod uefi;

use crate::error::RenderError;
use crate::model::Fabric;
use crate::output::Tree;

/// Renders every artefact of a validated fabric into one tree.
///
/// The fabric must have passed [`crate::validate()`] without errors (as every fabric from
/// [`crate::load`] has); the same fabric always gives the same tree, byte for byte.
pub fn render(fabric: &Fabric) -> Result<Tree, RenderError> {
    let env = templates::environment();
    let mut tree = Tree::new();
    inventory::render(fabric, &env, &mut tree)?;
    kickstart::render(fabric, &env, &mut tree)?;
    grub::render(fabric, &env, &mut tree)?;
    debian::render(fabric, &env, &mut tree)?;
    ifcfg::render(fabric, &mut tree)?;
    nmconnection::render(fabric, &mut tree)?;
    toolstack::render(fabric, &env, &mut tree)?;
    // After debian and toolstack: the preseed file's late command carries their files.
    preseed::render(fabric, &env, &mut tree)?;
    netboot::render(fabric, &env, &mut tree)?;
    uefi::render(fabric, &env, &mut tree)?;
    dhcp::render(fabric, &env, &mut tree)?;
    dns::render(fabric, &env, &mut tree)?;
    guests::render(fabric, &env, &mut tree)?;
    debootstrap::render(fabric, &env, &mut tree)?;
    Ok(tree)
}

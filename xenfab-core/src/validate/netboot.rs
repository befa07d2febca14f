//! What network boot needs: a TFTP server for every network with hosts, and boot images that
//! pypxeboot can read for the guests it boots.

use crate::diagnostic::{Diagnostics, FieldPath};
use crate::model::{Fabric, VirtMode};

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
    // Networks have a TFTP server as a rule: the hosts are walked only for one that has none.
    for name in fabric.networks.keys() {
        if fabric.next_server(name).is_none() && fabric.hosts().any(|h| h.network() == name) {
            diags.error(
                "missing-next-server",
                FieldPath::root().key("networks").entry(name.as_str()).key("next_server"),
                format!("hosts on network `{name}` have no TFTP server: set install.next_server or this network's next_server"),
            );
        }
    }

    // pypxeboot reads one `label` with `key=value` arguments only: only images with another
    // kind of argument need looking at the guests that boot them.
    let unreadable: Vec<(&crate::model::Ident, usize, &crate::model::Token)> = fabric
        .boot_images
        .iter()
        .flat_map(|(name, image)| {
            image
                .append
                .iter()
                .enumerate()
                .map(move |(i, arg)| (name, i, arg))
        })
        .filter(|(_, _, arg)| !arg.as_str().contains('='))
        .collect();
    for (image, i, arg) in unreadable {
        let booted_by = fabric
            .dom0s
            .iter()
            .flat_map(|d| &d.guests)
            .find(|g| g.mode == VirtMode::PvPypxeboot && &g.boot_image == image);
        if let Some(g) = booted_by {
            diags.error(
                "pypxeboot-unreadable",
                FieldPath::root().key("boot_images").entry(image.as_str()).key("append").elem(i, None),
                format!(
                    "`{arg}` is not `key=value`, which is all pypxeboot reads, and guest `{}` boots this image by pypxeboot: \
                     write it as `key=value`, or give the guest mode = \"hvm\" or another boot image",
                    g.name
                ),
            );
        }
    }
}

//! What network boot needs: a TFTP server for every network with hosts, and boot images that
//! pypxeboot can read for the guests it boots.

use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostics, FieldPath};
use crate::model::{Fabric, HostRef, VirtMode};

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
    let used: BTreeSet<_> = fabric.hosts().map(HostRef::network).collect();
    for network in used {
        if fabric.next_server(network).is_none() {
            diags.error(
                "missing-next-server",
                FieldPath::root().key("networks").entry(network.as_str()).key("next_server"),
                format!("hosts on network `{network}` have no TFTP server: set install.next_server or this network's next_server"),
            );
        }
    }

    // pypxeboot reads one `label` with `key=value` arguments only.
    let mut reported = BTreeSet::new();
    for dom0 in &fabric.dom0s {
        for g in dom0
            .guests
            .iter()
            .filter(|g| g.mode == VirtMode::PvPypxeboot)
        {
            let Some(image) = fabric.boot_images.get(&g.boot_image) else {
                continue;
            };
            for (i, arg) in image.append.iter().enumerate() {
                if !arg.as_str().contains('=') && reported.insert((&g.boot_image, i)) {
                    diags.error(
                        "pypxeboot-unreadable",
                        FieldPath::root().key("boot_images").entry(g.boot_image.as_str()).key("append").elem(i, None),
                        format!(
                            "`{arg}` is not `key=value`, which is all pypxeboot reads, and guest `{}` boots this image by pypxeboot: \
                             write it as `key=value`, or give the guest mode = \"hvm\" or another boot image",
                            g.name
                        ),
                    );
                }
            }
        }
    }
}

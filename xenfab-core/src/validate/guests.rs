//! What a guest that boots its installer directly needs (a PV guest booted by pygrub or a PVH
//! guest, in state `install`; see [`crate::model::installer_boot`]).

use super::netboot::cmdline_limit;
use crate::diagnostic::Diagnostics;
use crate::model::{Fabric, installer_boot};

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
    for dom0 in &fabric.dom0s {
        for g in dom0.guests.iter().filter(|g| g.boots_installer_directly()) {
            let (Some(os), Some(boot)) = (fabric.os.get(&g.os), installer_boot(fabric, g)) else {
                continue;
            };
            // The toolstack hands the line to the guest's kernel as it is (Xen's start_info
            // takes 1024 bytes, MAX_GUEST_CMDLINE in xen/include/public/xen.h), and the kernel
            // keeps as much as it would from a boot loader.
            let limit = cmdline_limit(os.family);
            let len = boot.cmdline.len();
            if len > limit {
                diags.error(
                    "kernel-cmdline-too-long",
                    g.at.key("name"),
                    format!(
                        "the installer's kernel command line of `{}` is {len} bytes (boot image `{}`'s append, the kickstart URL and the network) \
                         but its kernel takes at most {limit}: shorten install.kickstart_url, site.domain or boot_images[{}].append",
                        fabric.fqdn(&g.name),
                        g.boot_image,
                        g.boot_image
                    ),
                );
            }
        }
    }
}

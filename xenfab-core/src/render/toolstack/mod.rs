//! Toolstack settings of each dom0: how much memory dom0 keeps, and whether it balloons.
//!
//! - `xm` dom0s: `dom0s/<fqdn>/xen/xend-config.sxp`, a complete file. To change an existing one
//!   in place instead, keeping its comments and every other setting, use
//!   [`xend_config::edit`] (`xenfab xend-config FILE`).
//! - `xl` dom0s: `dom0s/<fqdn>/xen/xl.conf` with `autoballoon` and the default bridge.

pub mod sxp;
pub mod xend_config;

use serde::Serialize;

use super::{lookup, templates};
use crate::error::RenderError;
use crate::model::{Dom0, Fabric, Toolstack};
use crate::output::Tree;

pub(crate) fn render(
    fabric: &Fabric,
    env: &minijinja::Environment<'_>,
    tree: &mut Tree,
) -> Result<(), RenderError> {
    for dom0 in &fabric.dom0s {
        let fqdn = fabric.fqdn(&dom0.name);
        match dom0.toolstack {
            Toolstack::Xm => {
                tree.insert_file(
                    &format!("dom0s/{fqdn}/xen/xend-config.sxp"),
                    xend_config::complete(&settings(dom0)),
                )?;
            }
            Toolstack::Xl => {
                let net = lookup::network(fabric, &dom0.network)?;
                let view = XlConf {
                    fqdn,
                    autoballoon: if dom0.balloon { "on" } else { "off" },
                    bridge: net.bridge.to_string(),
                };
                tree.insert_file(
                    &format!("dom0s/{}/xen/xl.conf", view.fqdn),
                    templates::render(env, "xl.conf.j2", &view)?,
                )?;
            }
        }
    }
    Ok(())
}

/// What xend must know of a dom0: without ballooning it never takes memory from dom0
/// (`dom0-min-mem 0` and, since Xen 3.3, `enable-dom0-ballooning no`); with it, dom0 keeps at
/// least its configured memory.
pub fn settings(dom0: &Dom0) -> xend_config::XendSettings {
    xend_config::XendSettings {
        dom0_min_mem_mib: if dom0.balloon { dom0.memory.mib() } else { 0 },
        enable_dom0_ballooning: dom0.balloon,
        dom0_cpus: dom0.vcpus,
    }
}

#[derive(Serialize)]
struct XlConf {
    fqdn: String,
    autoballoon: &'static str,
    bridge: String,
}

//! Toolstack settings of each dom0: how much memory dom0 keeps, and whether it balloons.
//!
//! - `xm` dom0s: `dom0s/<fqdn>/xen/xend-config.sxp`, a complete file, whose
//!   `network-script` makes the bridge of dom0's network on its NIC. To change an existing one
//!   in place instead, keeping its comments and every other setting, use
//!   [`xend_config::edit`] (`xenfab xend-config FILE`).
//! - `xl` dom0s: `dom0s/<fqdn>/xen/xl.conf` with `autoballoon` and the default bridge.

pub mod sxp;
pub mod xend_config;

use serde::Serialize;

use super::{lookup, templates};
use crate::error::RenderError;
use crate::model::{Dom0, Fabric, Ident, MacAddr, Toolstack};
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
        let net = lookup::network(fabric, &dom0.network)?;
        match dom0.toolstack {
            Toolstack::Xm => {
                tree.insert_file(
                    &format!("dom0s/{fqdn}/xen/xend-config.sxp"),
                    xend_config::complete(&settings(dom0), &networking(fabric, dom0)?),
                )?;
            }
            Toolstack::Xl => {
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

/// How an `xm` dom0's bridges are made: by xend's `network-bridge` on `eth0` for the seed's
/// one NIC (its own network's bridge), by initscripts for an EL5 dom0 with more
/// (render/ifcfg).
pub fn networking(fabric: &Fabric, dom0: &Dom0) -> Result<xend_config::Networking, RenderError> {
    if super::ifcfg::uses_ifcfg(fabric, dom0)? {
        return Ok(xend_config::Networking::Initscripts);
    }
    let net = lookup::network(fabric, &dom0.network)?;
    Ok(xend_config::Networking::Bridge(net.bridge.to_string()))
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

/// The NIC an EL9 dom0's bridge takes as its port: the one it installs through, named by the
/// kernel (`net.ifnames=0` on its install line, render/netboot.rs), since anaconda's
/// `--bridgeslaves` takes device names only (pyanaconda/modules/network/nm_client.py,
/// `create_slave_connection`: "slave's device name").
pub(crate) const BRIDGE_SLAVE: &str = "eth0";

/// Turns an EL9 dom0's kickstart `network --device=<its MAC> …` line into the bridge its
/// guests attach to, with the NIC as its port: `network --device=xenbr0
/// --bridgeslaves=eth0 …`. The address, gateway and host name move to the bridge, which
/// anaconda creates (pykickstart's RHEL9 `network`: "`--bridgeslaves=` When this option is
/// present, the bridge with device name specified using the `--device=` option will be
/// created and devices defined in the `--bridgeslaves=` option will be added to the
/// bridge"), so `xenbr0` exists when the installed dom0 boots and xl's `vif-bridge` finds it.
/// EL9 has no xend and no `network-bridge`: nothing else would make it.
pub(crate) fn bridge_dom0_network(commands: &mut [String], mac: MacAddr, bridge: &Ident) {
    let device = format!("network --device={mac} ");
    for line in commands.iter_mut() {
        if let Some(rest) = line.strip_prefix(&device) {
            *line = format!("network --device={bridge} --bridgeslaves={BRIDGE_SLAVE} {rest}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_el9_dom0_line_gets_its_bridge() {
        let mac: MacAddr = "b0:7b:25:03:13:01".parse().unwrap();
        let bridge: Ident = "xenbr-lan".parse().unwrap();
        let mut commands = vec![
            "text".to_owned(),
            "network --device=b0:7b:25:03:13:01 --bootproto=static --ip=192.0.2.10 --activate"
                .to_owned(),
            // Another NIC's line is not the dom0's install NIC: left alone.
            "network --device=b0:7b:25:03:13:02 --bootproto=dhcp".to_owned(),
        ];
        bridge_dom0_network(&mut commands, mac, &bridge);
        assert_eq!(
            commands,
            [
                "text",
                "network --device=xenbr-lan --bridgeslaves=eth0 --bootproto=static --ip=192.0.2.10 --activate",
                "network --device=b0:7b:25:03:13:02 --bootproto=dhcp",
            ]
        );
    }

    #[test]
    fn xend_makes_the_bridge_of_the_network() {
        let text = xend_config::complete(
            &settings_of_seed(),
            &xend_config::Networking::Bridge("br-dmz".to_owned()),
        );
        let doc = sxp::parse(&text).unwrap();
        let script: Vec<(String, String)> = doc
            .top_level_settings()
            .into_iter()
            .filter(|(k, _)| k == "network-script")
            .collect();
        assert_eq!(
            script,
            [(
                "network-script".to_owned(),
                "network-bridge bridge=br-dmz netdev=eth0".to_owned()
            )]
        );
    }

    fn settings_of_seed() -> xend_config::XendSettings {
        xend_config::XendSettings {
            dom0_min_mem_mib: 0,
            enable_dom0_ballooning: false,
            dom0_cpus: 1,
        }
    }
}

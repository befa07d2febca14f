//! xend's `/etc/xen/xend-config.sxp` (Xen 3.x toolstack, RHEL/CentOS 5): editing the file a
//! dom0 already has, or writing a complete one.
//!
//! [`edit`] changes only the dom0 settings of the fabric (`dom0-min-mem`,
//! `enable-dom0-ballooning`, `dom0-cpus`) and leaves every other line as it was, comments
//! and all, so the result can be diffed against the stock file; editing twice changes nothing
//! more. [`complete`] writes a whole, commented file for a dom0 that has none.
//!
//! # Ballooning
//!
//! The seed (a 2008 CentOS-5 howto) turned dom0 ballooning off by writing only
//! `(dom0-min-mem 0)`, which is what the comment in Xen 3.0/3.1's stock file promises ("if
//! dom0-min-mem=0, dom0 will never balloon out"). Since Xen 3.3, ballooning is switched by
//! its own setting, `enable-dom0-ballooning` (default `yes`), and `dom0-min-mem` is only the
//! floor: `(dom0-min-mem 0)` alone lets xend balloon dom0 down to nothing. So xenfab always
//! writes both, `(enable-dom0-ballooning no)` when the fabric keeps dom0's memory fixed
//! (xend 3.1 ignores the key it does not know). A fixed dom0 also needs `dom0_mem=` on the
//! hypervisor's boot line, which the GRUB renderer writes.
//!
//! ```
//! use xenfab_core::render::toolstack::xend_config::{XendSettings, edit};
//! let settings = XendSettings { dom0_min_mem_mib: 0, enable_dom0_ballooning: false, dom0_cpus: 1 };
//! let text = edit("# stock\n(dom0-min-mem 256)\n", &settings)?;
//! assert_eq!(text, "# stock\n(dom0-min-mem 0)\n(enable-dom0-ballooning no)\n(dom0-cpus 1)\n");
//! # Ok::<(), xenfab_core::render::toolstack::sxp::SxpError>(())
//! ```

use super::sxp::{self, SxpError, Value};

/// The dom0 settings xenfab writes into `xend-config.sxp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XendSettings {
    /// `(dom0-min-mem N)`: the lowest memory, in MiB, xend may balloon dom0 down to when it
    /// needs memory for a guest; 0 is no floor (not "no ballooning", since Xen 3.3).
    pub dom0_min_mem_mib: u64,
    /// `(enable-dom0-ballooning yes|no)`: whether xend may take memory from dom0 for guests
    /// at all; `false` keeps dom0 at the memory it boots with (`dom0_mem=`).
    pub enable_dom0_ballooning: bool,
    /// `(dom0-cpus N)`: the number of CPUs dom0 may use; 0 is all of them.
    pub dom0_cpus: u32,
}

impl XendSettings {
    /// The settings as `(key, value)` pairs, in the order they are written.
    fn values(&self) -> [(&'static str, Value); 3] {
        let [min_mem, ballooning] =
            memory_values(self.dom0_min_mem_mib, self.enable_dom0_ballooning);
        [
            min_mem,
            ballooning,
            ("dom0-cpus", Value::Atom(self.dom0_cpus.to_string())),
        ]
    }
}

/// The memory settings as `(key, value)` pairs: `dom0-min-mem`, `enable-dom0-ballooning`.
fn memory_values(
    dom0_min_mem_mib: u64,
    enable_dom0_ballooning: bool,
) -> [(&'static str, Value); 2] {
    [
        ("dom0-min-mem", Value::Atom(dom0_min_mem_mib.to_string())),
        (
            "enable-dom0-ballooning",
            Value::Atom(yes_no(enable_dom0_ballooning).to_owned()),
        ),
    ]
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// Sets the dom0 settings in an existing `xend-config.sxp` and returns the new text; every
/// other line is unchanged (see [`sxp::Document::set`] for where a missing setting goes).
pub fn edit(text: &str, s: &XendSettings) -> Result<String, SxpError> {
    set_all(text, s.values())
}

/// `text` with each of `values` set ([`sxp::Document::set`]).
fn set_all(
    text: &str,
    values: impl IntoIterator<Item = (&'static str, Value)>,
) -> Result<String, SxpError> {
    let mut doc = sxp::parse(text)?;
    for (key, value) in values {
        doc.set(key, &value)?;
    }
    Ok(doc.to_string())
}

/// Sets only `dom0-min-mem` and `enable-dom0-ballooning` in an existing `xend-config.sxp`, as
/// [`edit`] does; `dom0-cpus` and everything else stays as the file has it (`xenfab
/// xend-config` without a dom0: dom0 keeps its memory).
pub fn edit_memory(
    text: &str,
    dom0_min_mem_mib: u64,
    enable_dom0_ballooning: bool,
) -> Result<String, SxpError> {
    set_all(
        text,
        memory_values(dom0_min_mem_mib, enable_dom0_ballooning),
    )
}

/// The interface xend's `network-bridge` puts behind the bridge: the NIC dom0 installs
/// through, which its kickstart names `eth0` (the seed's `ksdevice=eth0`; xenfab's install
/// entries name the boot NIC, `ksdevice=bootif`, and the kickstart still says `eth0`).
pub const NETDEV: &str = "eth0";

/// The `network-script` line of a dom0 whose guests attach to `bridge`.
///
/// Xen 3.1's `tools/examples/network-bridge` (RHEL 5's `/etc/xen/scripts/network-bridge`)
/// takes `bridge=` and `netdev=` as `VAR=VAL` arguments (`evalVariables` of
/// xen-script-common.sh sets them); its defaults are `bridge=${bridge:-xenbr${vifnum}}` and
/// `netdev=${netdev:-eth${vifnum}}`, with `vifnum` the number of the default route's device
/// (`ip route list | awk '/^default / { print $NF }'`, stripped to its digits), else 0 (the
/// script of xen-project/xen's history with netloop's `veth`/`vif0` and `add_to_bridge2`, the
/// 3.1/3.2 one; the 3.0 script had `vifnum=${vifnum:-0}` only). So a dom0 whose default
/// route is on eth1 would get `xenbr1` from the defaults: naming both avoids that. xend runs the `network-script` value as a command line
/// (Xen 3.1's `XendRoot.get_network_script()` splits it on spaces, `Vifctl.network()` adds
/// `start` after the script's name), so `'network-bridge bridge=xenbr0 netdev=eth0'` joins
/// the two forms CentOS 5's stock file documents (tests/fixtures/xend-config/centos5-stock.sxp:
/// "To use a different one (e.g. eth1) use `(network-script 'network-bridge netdev=eth1')`",
/// "To rename the bridge, use `(network-script 'network-bridge bridge=<name>')`"); Xen 3.4's
/// default file writes the same line (`'network-bridge netdev=eth0 bridge=xenbr0'`). Naming both keeps
/// the bridge the one the guests' `vif = [... bridge=...]` names, whatever the default route
/// says. One bridge a dom0: dom0 has one NIC in the model, a NIC can be a port of one bridge
/// only, and validation refuses a guest on another network (`guest-network-unbridged`), so
/// neither a wrapper calling `network-bridge` once per network nor ifcfg bridges are needed.
///
/// ```
/// use xenfab_core::render::toolstack::xend_config::network_script;
/// assert_eq!(network_script("xenbr0"), "'network-bridge bridge=xenbr0 netdev=eth0'");
/// ```
pub fn network_script(bridge: &str) -> String {
    format!("'network-bridge bridge={bridge} netdev={NETDEV}'")
}

/// Sets `network-script` in an existing `xend-config.sxp` so that xend makes `bridge` (see
/// [`network_script`]); every other line is unchanged, and editing twice changes nothing more.
///
/// ```
/// use xenfab_core::render::toolstack::xend_config::edit_bridge;
/// let text = edit_bridge("(network-script network-bridge)\n", "xenbr1")?;
/// assert_eq!(text, "(network-script 'network-bridge bridge=xenbr1 netdev=eth0')\n");
/// # Ok::<(), xenfab_core::render::toolstack::sxp::SxpError>(())
/// ```
pub fn edit_bridge(text: &str, bridge: &str) -> Result<String, SxpError> {
    let mut doc = sxp::parse(text)?;
    doc.set(
        "network-script",
        &Value::Str(format!("network-bridge bridge={bridge} netdev={NETDEV}")),
    )?;
    Ok(doc.to_string())
}

/// How a dom0's bridges are made, which xend's `network-script` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Networking {
    /// xend's `network-bridge` makes the one bridge, this one, on `eth0`: the seed's.
    Bridge(String),
    /// initscripts makes every bridge, bond and VLAN from ifcfg files (an EL5 dom0 with
    /// several NICs, render/ifcfg): `network-script` must do nothing ([`NO_NETWORK_SCRIPT`]).
    Initscripts,
}

/// The `network-script` of a dom0 whose bridges initscripts makes: a program that does
/// nothing. xend runs `network-script start` when it starts and `stop` when it stops
/// (XendNetwork/`xend/server/SrvDaemon.py` of Xen 3.1 runs it through `xen-network-common`);
/// Red Hat's Virtualization Guide for RHEL 5 sets `(network-script /bin/true)` for bridges made
/// by ifcfg files.
pub const NO_NETWORK_SCRIPT: &str = "/bin/true";

impl Networking {
    /// The value of `network-script`, quoted as xend-config.sxp writes it.
    pub fn script(&self) -> String {
        match self {
            Networking::Bridge(bridge) => network_script(bridge),
            Networking::Initscripts => NO_NETWORK_SCRIPT.to_owned(),
        }
    }
}

/// Sets `network-script` in an existing `xend-config.sxp` for `networking`: xend's
/// `network-bridge` for one bridge ([`edit_bridge`]), or nothing ([`NO_NETWORK_SCRIPT`]).
pub fn edit_networking(text: &str, networking: &Networking) -> Result<String, SxpError> {
    match networking {
        Networking::Bridge(bridge) => edit_bridge(text, bridge),
        Networking::Initscripts => {
            let mut doc = sxp::parse(text)?;
            doc.set("network-script", &Value::Str(NO_NETWORK_SCRIPT.to_owned()))?;
            Ok(doc.to_string())
        }
    }
}

/// A complete, commented `xend-config.sxp` for a dom0 that has none, whose bridges are made
/// as `networking` says (see [`network_script`]).
pub fn complete(s: &XendSettings, networking: &Networking) -> String {
    let ballooning = if s.enable_dom0_ballooning {
        "# xend may take memory from dom0 to start guests, down to dom0-min-mem MiB\n\
         # (0: no floor at all)."
    } else {
        "# xend never takes memory from dom0: dom0 keeps what it boots with (dom0_mem=\n\
         # on the hypervisor's line). dom0-min-mem is then only the floor for\n\
         # `xm mem-set Domain-0`: since Xen 3.3, (dom0-min-mem 0) alone no longer\n\
         # stops ballooning."
    };
    let cpus = if s.dom0_cpus == 0 {
        "# dom0 may use every CPU (dom0-cpus 0)."
    } else {
        "# The number of CPUs dom0 may use (0: all of them)."
    };
    format!(
        "\
# /etc/xen/xend-config.sxp: generated by xenfab from the fabric file.
# Change the fabric file and render again rather than editing this file.
#
# Entries commented out show xend's default.

# Where and how much xend logs.
(logfile /var/log/xen/xend.log)
(loglevel DEBUG)

# xm talks to xend over its unix socket. No HTTP server, and no relocation
# server: guests are not migrated to or from this host.
#(xend-http-server no)
(xend-unix-server yes)
(xend-relocation-server no)

{network_comment}
(network-script {script})
(vif-script vif-bridge)

{ballooning}
(dom0-min-mem {min_mem})
(enable-dom0-ballooning {enable})

{cpus}
(dom0-cpus {dom0_cpus})

# VNC consoles of HVM guests: no default password, US English keyboard.
(vncpasswd '')
(keymap 'en-us')
",
        min_mem = s.dom0_min_mem_mib,
        enable = yes_no(s.enable_dom0_ballooning),
        dom0_cpus = s.dom0_cpus,
        network_comment = match networking {
            Networking::Bridge(bridge) => format!(
                "# Bridged networking: network-bridge moves the host's interface {NETDEV} and its\n\
                 # address behind the bridge {bridge}, and vif-bridge attaches each guest's\n\
                 # interface to it."
            ),
            Networking::Initscripts =>
                "# Bridged networking: initscripts makes the bridges, bonds and VLANs from\n\
                 # /etc/sysconfig/network-scripts (several NICs), so xend leaves the network\n\
                 # alone; vif-bridge attaches each guest's interface to its bridge."
                    .to_owned(),
        },
        script = networking.script(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const STOCK: &str = include_str!("../../../../tests/fixtures/xend-config/centos5-stock.sxp");
    const DEFAULT: &str =
        include_str!("../../../../tests/fixtures/xend-config/xen-3.4-default.sxp");

    const SEED: XendSettings = XendSettings {
        dom0_min_mem_mib: 0,
        enable_dom0_ballooning: false,
        dom0_cpus: 1,
    };

    const KEYS: [&str; 3] = ["dom0-min-mem", "enable-dom0-ballooning", "dom0-cpus"];

    fn is_target(line: &str) -> bool {
        KEYS.iter().any(|k| {
            line.trim_start()
                .strip_prefix('(')
                .and_then(|l| l.strip_prefix(k))
                .is_some_and(|r| r.starts_with(' '))
        })
    }

    fn sorted_settings(text: &str) -> Vec<(String, String)> {
        let mut settings = sxp::parse(text).unwrap().top_level_settings();
        settings.sort();
        settings
    }

    fn check_edit(original: &str, s: &XendSettings) -> String {
        let edited = edit(original, s).unwrap();

        // (a) Every other line is still there, in order, and nothing else was added.
        let others = |t: &str| -> Vec<String> {
            t.lines()
                .filter(|l| !is_target(l))
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(others(&edited), others(original));

        // (b) The three settings have the new values, every other setting is unchanged.
        let new: Vec<(String, String)> = s
            .values()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.as_str().to_owned()))
            .collect();
        let mut expected: Vec<(String, String)> = sorted_settings(original)
            .into_iter()
            .filter(|(k, _)| !KEYS.contains(&k.as_str()))
            .chain(new)
            .collect();
        expected.sort();
        assert_eq!(sorted_settings(&edited), expected);

        // (c) Editing again changes nothing.
        assert_eq!(edit(&edited, s).unwrap(), edited);
        edited
    }

    #[test]
    fn edits_the_centos5_stock_file() {
        let edited = check_edit(STOCK, &SEED);
        assert!(
            edited
                .contains("# If dom0-min-mem=0, dom0 will never balloon out.\n(dom0-min-mem 0)\n")
        );
        assert!(edited.contains("(dom0-cpus 1)\n"));
        // No `(enable-dom0-ballooning ...)` in Xen 3.1's file, not even commented out.
        assert!(
            edited.ends_with("#(resource-label-change-script '')\n(enable-dom0-ballooning no)\n")
        );
        assert_eq!(edited.lines().count(), STOCK.lines().count() + 1);
    }

    #[test]
    fn edits_the_xen_3_4_file() {
        let edited = check_edit(DEFAULT, &SEED);
        assert_eq!(edited.lines().count(), DEFAULT.lines().count() + 1);
    }

    #[test]
    fn edits_other_settings_and_line_endings() {
        for s in [
            XendSettings {
                dom0_min_mem_mib: 512,
                enable_dom0_ballooning: true,
                dom0_cpus: 0,
            },
            XendSettings {
                dom0_min_mem_mib: u64::MAX,
                enable_dom0_ballooning: false,
                dom0_cpus: u32::MAX,
            },
        ] {
            check_edit(STOCK, &s);
            check_edit(DEFAULT, &s);
            let crlf = check_edit(&STOCK.replace('\n', "\r\n"), &s);
            assert!(!crlf.replace("\r\n", "").contains('\n'));
        }
    }

    #[test]
    fn the_seed_line_alone_gets_ballooning_off() {
        assert_eq!(
            edit("(dom0-min-mem 0)\n", &SEED).unwrap(),
            "(dom0-min-mem 0)\n(enable-dom0-ballooning no)\n(dom0-cpus 1)\n"
        );
        assert_eq!(
            edit("# stock\n(dom0-min-mem 256)\n", &SEED).unwrap(),
            "# stock\n(dom0-min-mem 0)\n(enable-dom0-ballooning no)\n(dom0-cpus 1)\n"
        );
        assert_eq!(
            edit(
                "(dom0-min-mem 196)\n#(enable-dom0-ballooning yes)\n(x 1)\n",
                &SEED
            )
            .unwrap(),
            "(dom0-min-mem 0)\n#(enable-dom0-ballooning yes)\n(enable-dom0-ballooning no)\n(x 1)\n(dom0-cpus 1)\n"
        );
    }

    #[test]
    fn edit_reports_a_broken_file() {
        let err = edit("(dom0-cpus 0\n(x 1)\n", &SEED).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1, column 1: unterminated list: this `(` is never closed"
        );
    }

    #[test]
    fn edit_bridge_names_the_bridge_and_keeps_the_rest() {
        for original in [STOCK, DEFAULT] {
            let edited = edit_bridge(original, "xenbr1").unwrap();
            let script = |t: &str| {
                sxp::parse(t)
                    .unwrap()
                    .top_level_settings()
                    .into_iter()
                    .filter(|(k, _)| k == "network-script")
                    .map(|(_, v)| v)
                    .collect::<Vec<_>>()
            };
            assert_eq!(script(original).len(), 1);
            assert_eq!(
                script(&edited),
                ["network-bridge bridge=xenbr1 netdev=eth0"]
            );
            let others = |t: &str| -> Vec<String> {
                t.lines()
                    .filter(|l| !l.starts_with("(network-script "))
                    .map(str::to_owned)
                    .collect()
            };
            assert_eq!(others(&edited), others(original));
            assert_eq!(edit_bridge(&edited, "xenbr1").unwrap(), edited);
        }
    }

    #[test]
    fn complete_round_trips() {
        for s in [
            SEED,
            XendSettings {
                dom0_min_mem_mib: 256,
                enable_dom0_ballooning: true,
                dom0_cpus: 0,
            },
        ] {
            let text = complete(&s, &Networking::Bridge("xenbr0".to_owned()));
            assert!(text.starts_with(
                "# /etc/xen/xend-config.sxp: generated by xenfab from the fabric file.\n"
            ));
            let doc = sxp::parse(&text).unwrap();
            assert_eq!(doc.to_string(), text);
            let settings: Vec<(String, String)> = doc.top_level_settings();
            let expect = [
                ("logfile", "/var/log/xen/xend.log".to_owned()),
                ("loglevel", "DEBUG".to_owned()),
                ("xend-unix-server", "yes".to_owned()),
                ("xend-relocation-server", "no".to_owned()),
                (
                    "network-script",
                    "network-bridge bridge=xenbr0 netdev=eth0".to_owned(),
                ),
                ("vif-script", "vif-bridge".to_owned()),
                ("dom0-min-mem", s.dom0_min_mem_mib.to_string()),
                (
                    "enable-dom0-ballooning",
                    yes_no(s.enable_dom0_ballooning).to_owned(),
                ),
                ("dom0-cpus", s.dom0_cpus.to_string()),
                ("vncpasswd", String::new()),
                ("keymap", "en-us".to_owned()),
            ]
            .map(|(k, v)| (k.to_owned(), v));
            assert_eq!(settings, expect);
            assert_eq!(edit(&text, &s).unwrap(), text);
        }
    }
}

//! Switching what network boot gives a host (install, reinstall, local disk, rescue; see
//! docs/lifecycle.md), in a TFTP tree that xenfab rendered, and remembering the switch so that
//! the next render keeps it.
//!
//! Each link is replaced atomically (a new link renamed over the old), so pxelinux never finds
//! the name missing and falls back to `default`. The states are recorded in
//! `<tftp root>/.xenfab-boot-state.json`; `xenfab render` reads it and renders each recorded
//! host in its recorded state, whatever the fabric file says.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::fsops::{self, Node};
use super::{OutputError, RelPath};
use crate::model::{BootState, Fabric, HostRef};

/// The file, in the TFTP root, that records hosts' boot states.
pub const BOOT_STATE_FILE: &str = ".xenfab-boot-state.json";

/// Hosts' recorded boot states, by FQDN.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootStates {
    /// The state of each host switched with `xenfab boot`.
    pub hosts: BTreeMap<String, BootState>,
}

/// One host's boot state and where it comes from, as `xenfab status` lists it
/// ([`BootStates::status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostStatus {
    /// The host's FQDN.
    pub host: String,
    /// The FQDN of a guest's dom0; `None` for a dom0.
    pub dom0: Option<String>,
    /// What network boot gives it next.
    pub state: BootState,
    /// True when `xenfab boot` recorded the state, false when it is the fabric's.
    pub recorded: bool,
}

impl BootStates {
    /// `host`'s status, `host` being of a fabric these states were [applied](Self::apply) to,
    /// as `render` applies them: its state was recorded when `xenfab boot` recorded the state
    /// it has. A refused recorded state left the fabric's, which is not the recorded one.
    pub fn status(&self, fabric: &Fabric, host: HostRef<'_>) -> HostStatus {
        let fqdn = fabric.fqdn(host.name());
        let state = host.state();
        HostStatus {
            dom0: match host {
                HostRef::Dom0(_) => None,
                HostRef::Guest(d, _) => Some(fabric.fqdn(&d.name)),
            },
            state,
            recorded: self.hosts.get(&fqdn) == Some(&state),
            host: fqdn,
        }
    }

    /// Gives each host of `fabric` with a recorded state that state, and returns a message for
    /// each recorded state the host cannot be in (the file was edited by hand, or the fabric
    /// changed since: a dom0 became a guest, a guest's mode changed); such a host keeps the
    /// fabric's state.
    pub fn apply(&self, fabric: &mut Fabric) -> Vec<String> {
        let domain = fabric.site.domain.to_string();
        // Decide on the fabric as it is, then change it.
        let mut set = Vec::new();
        let mut refused = Vec::new();
        for (i, dom0) in fabric.dom0s.iter().enumerate() {
            let hosts = std::iter::once((None, HostRef::Dom0(dom0))).chain(
                dom0.guests
                    .iter()
                    .enumerate()
                    .map(|(j, g)| (Some(j), HostRef::Guest(dom0, g))),
            );
            for (j, host) in hosts {
                let fqdn = format!("{}.{domain}", host.name());
                let Some(&state) = self.hosts.get(&fqdn) else {
                    continue;
                };
                match state.refusal(fabric, host) {
                    None => set.push((i, j, state)),
                    Some(why) => refused.push(format!(
                        "recorded state `{}` of `{fqdn}` is not used: {why}",
                        state.as_str()
                    )),
                }
            }
        }
        for (i, j, state) in set {
            let dom0 = &mut fabric.dom0s[i];
            match j {
                None => dom0.state = state,
                Some(j) => dom0.guests[j].state = state,
            }
        }
        refused
    }
}

/// Reads the recorded states of the TFTP tree at `tftp_root` (none when the file is absent).
pub fn read_states(tftp_root: &Path) -> Result<BootStates, OutputError> {
    let path = tftp_root.join(BOOT_STATE_FILE);
    match fsops::node(&path)? {
        Node::Missing => Ok(BootStates::default()),
        Node::File { .. } => {
            let bytes = fsops::read_file(&path)?;
            serde_json::from_slice(&bytes).map_err(|source| OutputError::BootState { path, source })
        }
        _ => Err(OutputError::NotOwned { path }),
    }
}

/// Points `links` (paths relative to `tftp_root`, and their targets relative to each link's
/// directory) at their new targets, and records `fqdn` as being in `state`. `links` is empty
/// for a guest that boots its own disk (pygrub, PVH): only its state is recorded, and the next
/// render writes its config for that state.
///
/// Everything is checked before anything changes: each link must be a symlink or absent (a
/// regular file is never replaced), its directory a real directory, its target an existing
/// file. Hold a [`TreeLock`](super::TreeLock) on the output tree (or on the TFTP root) while
/// calling it, so that a render does not run at the same time.
pub fn switch(
    tftp_root: &Path,
    fqdn: &str,
    state: BootState,
    links: &[(String, String)],
) -> Result<(), OutputError> {
    let mut checked = Vec::with_capacity(links.len());
    for (link, target) in links {
        let rel = RelPath::new(link)?;
        super::path::validate_symlink_target(&rel, target)?;
        if !fsops::parents_are_dirs(tftp_root, &rel)? {
            return Err(OutputError::NotADirectory {
                path: tftp_root.join(rel.parent().map(|p| p.to_string()).unwrap_or_default()),
            });
        }
        let at = tftp_root.join(rel.as_str());
        match fsops::node(&at)? {
            Node::Missing | Node::Symlink => {}
            _ => return Err(OutputError::NotOwned { path: at }),
        }
        let dir = at.parent().unwrap_or(tftp_root);
        if !matches!(fsops::node(&dir.join(target))?, Node::File { .. }) {
            return Err(OutputError::MissingBootTarget {
                path: dir.join(target),
            });
        }
        checked.push((at, target));
    }
    let mut states = read_states(tftp_root)?;
    let mut touched = std::collections::BTreeSet::new();
    for (at, target) in checked {
        fsops::write_symlink_atomic(&at, target)?;
        touched.insert(at.parent().unwrap_or(tftp_root).to_owned());
    }
    for dir in &touched {
        fsops::sync_dir(dir)?;
    }
    states.hosts.insert(fqdn.to_owned(), state);
    let mut json = serde_json::to_vec_pretty(&states).map_err(|source| OutputError::BootState {
        path: tftp_root.join(BOOT_STATE_FILE),
        source,
    })?;
    json.push(b'\n');
    fsops::write_file_atomic(&tftp_root.join(BOOT_STATE_FILE), &json, 0o644)?;
    fsops::sync_dir(tftp_root)
}

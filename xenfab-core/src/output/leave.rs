//! What a render leaves as it is: the directories of [`PlanOptions::untouched`] (`xenfab
//! render --no-dhcp`, `--no-tftp`) and, with [`PlanOptions::hosts`], every entry that is not
//! one of those hosts' artefacts (`xenfab render --host`, [`crate::render::owners`]).
//!
//! An entry left is neither written, changed nor removed, and the new manifest carries over
//! what the last one recorded of it, so that a later render that leaves nothing brings it up
//! to date. A part of the fabric ([`Part`](super::Part)) rendered while some of its entries
//! left differ from that record is recorded without its fingerprint (`incremental.rs`): the
//! next render renders it again. With hosts, a part with none of them is not rendered at all
//! ([`Leave::renders`]), and is recorded so when it needed rendering.

use std::collections::{BTreeMap, HashSet};

use super::OutputError;
use super::manifest::{LoadedManifest, ManifestEntry};
use super::path::RelPath;
use super::plan::PlanOptions;
use super::tree::Tree;
use crate::model::{Fabric, HostRef};
use crate::render::owners::Owners;

/// A top-level directory of the output tree that a render can leave as it is
/// ([`PlanOptions::untouched`]), for a site whose own tools write what it holds (Quattor's
/// aii-dhcp and aii-pxelinux, say).
///
/// Nothing below it is written, changed or removed, not even what the fabric no longer
/// has, and the manifest records its entries as it did before. A part of the fabric
/// ([`Part`](super::Part)) rendered while some of its entries there were left differing
/// from what the manifest records is recorded without its fingerprint, so that the next
/// render renders it again (a render that leaves nothing renders those entries then); the
/// files of a part not rendered are as the manifest records them, left or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Untouched {
    /// `dhcp/`: the files of ISC dhcpd, Kea and dnsmasq.
    Dhcp,
    /// `tftpboot/`: the network boot files and links (pxelinux, GRUB2, iPXE).
    Tftp,
}

impl Untouched {
    /// The directory, relative to the output root.
    pub fn dir(self) -> &'static str {
        match self {
            Untouched::Dhcp => "dhcp",
            Untouched::Tftp => crate::render::netboot::TFTP_DIR,
        }
    }

    /// The directories the switches `--no-dhcp` and `--no-tftp` (Python's `no_dhcp` and
    /// `no_tftp`) leave, in that order.
    pub fn chosen(no_dhcp: bool, no_tftp: bool) -> Vec<Untouched> {
        [(no_dhcp, Untouched::Dhcp), (no_tftp, Untouched::Tftp)]
            .into_iter()
            .filter_map(|(left, dir)| left.then_some(dir))
            .collect()
    }

    /// Whether `path`, relative to the output root, is below one of the directories of
    /// `untouched`.
    pub fn covers(untouched: &[Untouched], path: &str) -> bool {
        untouched.iter().any(|u| {
            path.strip_prefix(u.dir())
                .is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

/// The entries of the output tree a plan leaves as they are, by their paths.
pub(crate) struct Leave<'f> {
    dirs: &'f [Untouched],
    /// With [`PlanOptions::hosts`]: who each entry is of, and the names of the hosts whose
    /// entries are written.
    hosts: Option<(Owners<'f>, HashSet<&'f str>)>,
    /// With [`PlanOptions::hosts`]: the names of those hosts' dom0s, whose parts alone hold
    /// their entries.
    dom0s: HashSet<&'f str>,
}

impl<'f> Leave<'f> {
    /// What `options` leave of a tree rendered from `fabric` (`None`: a tree of no fabric,
    /// for which [`PlanOptions::hosts`] names nothing and is refused).
    pub(crate) fn new(
        options: &'f PlanOptions,
        fabric: Option<&'f Fabric>,
    ) -> Result<Leave<'f>, OutputError> {
        let mut dom0s = HashSet::new();
        let hosts = match (options.hosts.as_slice(), fabric) {
            ([], _) => None,
            (_, None) => return Err(OutputError::HostsOfNoFabric),
            (names, Some(fabric)) => {
                let mut wanted = HashSet::new();
                for name in names {
                    let host = fabric
                        .host(name)
                        .ok_or_else(|| OutputError::UnknownHost { name: name.clone() })?;
                    wanted.insert(host.name().as_str());
                    let (HostRef::Dom0(dom0) | HostRef::Guest(dom0, _)) = host;
                    dom0s.insert(dom0.name.as_str());
                }
                Some((Owners::new(fabric), wanted))
            }
        };
        Ok(Leave {
            dirs: &options.untouched,
            hosts,
            dom0s,
        })
    }

    /// Whether anything is left at all.
    pub(crate) fn any(&self) -> bool {
        !self.dirs.is_empty() || self.hosts.is_some()
    }

    /// Whether the part of the dom0 `dom0` (`None`: the site's) has an entry that is not
    /// left, and so has to be rendered: with [`PlanOptions::hosts`], only the parts of those
    /// hosts' dom0s do (a host's entries are all in its dom0's part, and the site's part is
    /// no host's: `tests/parts.rs` checks both).
    pub(crate) fn renders(&self, dom0: Option<&str>) -> bool {
        self.hosts.is_none() || dom0.is_some_and(|name| self.dom0s.contains(name))
    }

    /// Whether the entry at `path` is left as it is.
    pub(crate) fn covers(&self, path: &RelPath) -> bool {
        Untouched::covers(self.dirs, path.as_str())
            || self.hosts.as_ref().is_some_and(|(owners, wanted)| {
                !owners
                    .of(path.as_str())
                    .iter()
                    .any(|host| wanted.contains(host.name().as_str()))
            })
    }

    /// Takes the entries left out of `tree`, and carries the manifest's entries left over
    /// into the new manifest as it records them. A file's stamp the last manifest could not
    /// trust (taken within its clock tick) is dropped, not carried into a newer manifest that
    /// would trust it: a later render reads that file again.
    pub(crate) fn carry(
        &self,
        tree: &mut Tree,
        loaded: Option<&mut LoadedManifest>,
        carried: &mut BTreeMap<RelPath, ManifestEntry>,
    ) {
        if !self.any() {
            return;
        }
        tree.split_off_where(|path| self.covers(path));
        let Some(loaded) = loaded else {
            return;
        };
        let entries = &mut loaded.manifest.entries;
        let left: Vec<RelPath> = entries.keys().filter(|p| self.covers(p)).cloned().collect();
        for path in left {
            if let Some(entry) = entries.remove(&path) {
                carried.insert(path, entry);
            }
        }
        // the stamp first: it is cheaper to check than whether the entry is left
        for (path, entry) in carried.iter_mut() {
            if let ManifestEntry::File { stamp, .. } = entry {
                if stamp.is_some_and(|s| !s.trusted(loaded.written)) && self.covers(path) {
                    *stamp = None;
                }
            }
        }
    }
}

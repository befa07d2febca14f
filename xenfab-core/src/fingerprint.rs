//! Fingerprints of a fabric's parts ([`Part`](crate::output::Part)): a hash of everything a
//! part is rendered from, so that a rerun renders only the parts whose inputs changed.
//!
//! - The **shared** inputs are every field of the fabric but its dom0s (site, install server,
//!   kickstart settings, boot images, OS releases, networks, hardware, partition schemes, DNS)
//!   and the sources of this build of xenfab (`XENFAB_SOURCE_HASH`, made by build.rs).
//! - A **dom0's** fingerprint hashes the shared inputs and the dom0 with its guests, as
//!   lowered: every default applied, every MAC derived, the boot state `xenfab boot` recorded.
//! - The **site's** fingerprint hashes the shared inputs and every dom0's fingerprint: its
//!   files (DHCP, DNS, the inventory's tables) list every host.
//! - The site's **sections'** fingerprint (DHCP's and DNS's files, see
//!   [`in_section`](crate::render::in_section)) hashes the same, each guest taken
//!   without its [`crate::render::Sizes`]: a guest's memory changed renders the site's
//!   part again (its inventory lists the memory) but not its sections, whose files the tree
//!   keeps. A dom0's fingerprint is made of that one and its guests' sizes.
//!
//! Each value is hashed through its `Debug` form, which the model derives for every type and
//! every field (a field added later is hashed without anyone remembering to), and which is
//! the same for the same value: the model's maps are `BTreeMap`s.
//! `tests/parts.rs` checks the promise the fingerprints rely on: a dom0's part comes out the
//! same from a fabric holding nothing but that dom0.

use std::fmt::{self, Write as _};

use rayon::prelude::*;
use xxhash_rust::xxh3::Xxh3;

use crate::model::Fabric;
use crate::render::{Sizes, take_sizes};

/// The sources of this build: a different xenfab renders every part again.
const SOURCE_HASH: &str = env!("XENFAB_SOURCE_HASH");

/// The fingerprints of a fabric's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprints {
    /// The site-wide part's.
    pub site: u128,
    /// Each dom0's part's, in the fabric's order.
    pub dom0s: Vec<u128>,
    /// The site's sections'.
    pub sections: u128,
}

/// A fabric with its fingerprints: made once, so that `xenfab render` computes them while it
/// still checks the tree on disk ([`plan_streamed`](crate::output::plan_streamed)).
#[derive(Debug)]
pub struct Fingerprinted {
    fabric: Fabric,
    fingerprints: Fingerprints,
}

impl Fingerprinted {
    /// `fabric`, fingerprinted (on every core).
    pub fn new(fabric: Fabric) -> Fingerprinted {
        let fingerprints = fingerprints(&fabric);
        Fingerprinted {
            fabric,
            fingerprints,
        }
    }

    /// The fabric.
    pub fn fabric(&self) -> &Fabric {
        &self.fabric
    }

    /// Its fingerprints.
    pub fn fingerprints(&self) -> &Fingerprints {
        &self.fingerprints
    }
}

/// A `fmt::Write` that hashes what is written into it.
struct Hashing(Xxh3);

impl fmt::Write for Hashing {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}

/// The fingerprints of every part of `fabric` (the dom0s' on every core).
pub fn fingerprints(fabric: &Fabric) -> Fingerprints {
    // Every field named, so that a new one does not compile until it is hashed here.
    let Fabric {
        site,
        install,
        kickstart,
        boot_images,
        os,
        networks,
        hardware,
        partition_schemes,
        dom0s,
        dns,
    } = fabric;
    let mut shared = Hashing(Xxh3::new());
    // Writing into a hasher cannot fail.
    let _ = write!(
        shared,
        "{SOURCE_HASH}\n{site:?}\n{install:?}\n{kickstart:?}\n{boot_images:?}\n{os:?}\n{networks:?}\n{hardware:?}\n{partition_schemes:?}\n{dns:?}\n"
    );
    let shared = shared.0.digest128();
    let (dom0s, sized): (Vec<u128>, Vec<u128>) = dom0s
        .par_iter()
        .map(|dom0| {
            // The dom0 without its guests' sizes, for the sections; then with them.
            let mut sized = dom0.clone();
            let sizes: Vec<Sizes> = sized.guests.iter_mut().map(take_sizes).collect();
            let mut h = Hashing(Xxh3::new());
            h.0.update(&shared.to_le_bytes());
            let _ = write!(h, "{sized:?}");
            let without = h.0.digest128();
            let mut h = Hashing(Xxh3::new());
            h.0.update(&without.to_le_bytes());
            let _ = write!(h, "{sizes:?}");
            (h.0.digest128(), without)
        })
        .unzip();
    let of = |fps: &[u128]| {
        let mut h = Xxh3::new();
        h.update(&shared.to_le_bytes());
        for fp in fps {
            h.update(&fp.to_le_bytes());
        }
        h.digest128()
    };
    Fingerprints {
        site: of(&dom0s),
        sections: of(&sized),
        dom0s,
    }
}

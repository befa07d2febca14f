//! The values read from a fabric, every default applied: its hosts (`hosts.rs`), the
//! profiles they name (`profiles.rs`) and a dom0's capacity (`capacity.rs`). `Fabric`
//! (`fabric.rs`) makes them, on first use.

mod capacity;
mod hosts;
mod profiles;

pub(crate) use capacity::{Capacity, VolumeGroup};
pub(crate) use hosts::{Disk, Dom0, Guest, HostState};
pub(crate) use profiles::{Hardware, Network, Os, Profiles};

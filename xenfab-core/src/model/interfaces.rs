//! A host's network interfaces: a dom0's NICs, bonds, VLANs and bridges, and a guest's NICs.
//!
//! A dom0 carries networks. Each network it carries is a bridge (the network's `bridge`,
//! which its guests' `vif`s join and which holds dom0's own address there) with one port: a
//! NIC or a bond, tagged with the network's VLAN id when the network has one (the port is then
//! the VLAN device `<device>.<id>`, the name ifupdown, initscripts and NetworkManager give a
//! VLAN of `<device>`). A host-only network is a bridge with no port
//! ([`super::Network::host_only`]).
//!
//! With no `nics`, `bonds` or `bridges` in the fabric file, a dom0 has what the seed's have
//! (and what every dom0 had before hosts had several NICs): one NIC `eth0` with the dom0's
//! MAC, carrying its install network untagged.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::fabric::{Dom0, Guest, HostRef, MacSource};
use super::mac::MacAddr;
use super::names::Ident;
use crate::diagnostic::FieldPath;

/// The NICs, bonds and bridges of a dom0.
#[derive(Debug, Clone, Serialize)]
pub struct Interfaces {
    /// Its physical NICs, by the name the installed system gives them (`eth0`: xenfab's dom0s
    /// boot with `net.ifnames=0`).
    pub nics: Vec<Nic>,
    /// Its bonds of NICs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bonds: Vec<Bond>,
    /// The networks it carries, each a bridge with one port, in the order of the fabric file;
    /// the install network first.
    pub bridges: Vec<Bridge>,
}

/// A physical NIC of a dom0.
#[derive(Debug, Clone, Serialize)]
pub struct Nic {
    /// Its name on the installed system (`eth0`).
    pub name: Ident,
    /// Its MAC, when known: initscripts' `HWADDR`, and the one the dom0 boots from the
    /// network with (`dom0.mac`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
}

/// A bond of NICs (the kernel's bonding driver, Documentation/networking/bonding.rst).
#[derive(Debug, Clone, Serialize)]
pub struct Bond {
    /// Its name (`bond0`).
    pub name: Ident,
    /// How it spreads and fails over traffic.
    pub mode: BondMode,
    /// Its NICs, two or more.
    pub members: Vec<Ident>,
}

/// A bonding mode, by the names the bonding driver takes (`mode=`, bonding.rst "Bonding
/// Driver Options").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum BondMode {
    /// Round robin (mode 0).
    #[serde(rename = "balance-rr")]
    BalanceRr,
    /// One active NIC, the others on standby (mode 1): needs nothing of the switch.
    #[serde(rename = "active-backup")]
    ActiveBackup,
    /// Transmit by a hash of the addresses (mode 2).
    #[serde(rename = "balance-xor")]
    BalanceXor,
    /// Everything on every NIC (mode 3).
    #[serde(rename = "broadcast")]
    Broadcast,
    /// IEEE 802.3ad link aggregation, LACP (mode 4): the switch ports must be a LAG.
    #[serde(rename = "802.3ad")]
    Ieee8023ad,
    /// Adaptive transmit load balancing (mode 5).
    #[serde(rename = "balance-tlb")]
    BalanceTlb,
    /// Adaptive load balancing (mode 6).
    #[serde(rename = "balance-alb")]
    BalanceAlb,
}

impl BondMode {
    /// The name the bonding driver, ifenslave and NetworkManager take.
    pub const fn as_str(self) -> &'static str {
        match self {
            BondMode::BalanceRr => "balance-rr",
            BondMode::ActiveBackup => "active-backup",
            BondMode::BalanceXor => "balance-xor",
            BondMode::Broadcast => "broadcast",
            BondMode::Ieee8023ad => "802.3ad",
            BondMode::BalanceTlb => "balance-tlb",
            BondMode::BalanceAlb => "balance-alb",
        }
    }

    /// The mode's number, which every bonding driver takes, the 2.6.18 one of EL5 too
    /// (bonding.txt of 2.6.18: "mode ... balance-rr or 0 ... active-backup or 1 ...").
    pub const fn number(self) -> u8 {
        match self {
            BondMode::BalanceRr => 0,
            BondMode::ActiveBackup => 1,
            BondMode::BalanceXor => 2,
            BondMode::Broadcast => 3,
            BondMode::Ieee8023ad => 4,
            BondMode::BalanceTlb => 5,
            BondMode::BalanceAlb => 6,
        }
    }
}

/// The link monitoring interval of every bond, in milliseconds: the bonding driver's own
/// advice (bonding.rst: "100 is a good starting point"); with none, it monitors nothing and
/// never fails over.
pub const BOND_MIIMON: u32 = 100;

/// A network a dom0 carries: its bridge, the bridge's port and dom0's address on it.
#[derive(Debug, Clone, Serialize)]
pub struct Bridge {
    /// The network.
    pub network: Ident,
    /// The network's bridge (`xenbr0`).
    pub bridge: Ident,
    /// The NIC or bond that carries it.
    pub device: Ident,
    /// The network's VLAN id, when it is tagged: the port is then `<device>.<vlan>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
    /// dom0's address on it; none for a network that only its guests use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<Ipv4Addr>,
}

impl Bridge {
    /// The bridge's port: the device, or its VLAN device `<device>.<vlan>`.
    pub fn port(&self) -> String {
        match self.vlan {
            Some(id) => format!("{}.{id}", self.device),
            None => self.device.to_string(),
        }
    }
}

impl Interfaces {
    /// The bond `nic` is a member of, if any.
    pub fn bond_of(&self, nic: &str) -> Option<&Bond> {
        self.bonds
            .iter()
            .find(|b| b.members.iter().any(|m| m.as_str() == nic))
    }

    /// The bridge whose port is `device` itself, untagged, if any.
    pub fn untagged_bridge(&self, device: &str) -> Option<&Bridge> {
        self.bridges
            .iter()
            .find(|b| b.device.as_str() == device && b.vlan.is_none())
    }

    /// The bridge of `network`, if dom0 carries it.
    pub fn bridge_of(&self, network: &str) -> Option<&Bridge> {
        self.bridges.iter().find(|b| b.network.as_str() == network)
    }

    /// The VLAN devices: (name, parent, id), each once, in the order of the bridges.
    pub fn vlans(&self) -> Vec<(String, &Ident, u16)> {
        let mut out: Vec<(String, &Ident, u16)> = Vec::new();
        for b in &self.bridges {
            if let Some(id) = b.vlan {
                let name = b.port();
                if !out.iter().any(|(n, ..)| *n == name) {
                    out.push((name, &b.device, id));
                }
            }
        }
        out
    }

    /// True when this is the seed's layout: one NIC, no bond, one untagged bridge. Such a
    /// dom0's files stay as they were before hosts had several NICs.
    pub fn is_single(&self) -> bool {
        self.nics.len() == 1
            && self.bonds.is_empty()
            && self.bridges.len() == 1
            && self.bridges[0].vlan.is_none()
    }
}

impl Dom0 {
    /// The NIC this dom0 boots from the network with: the one with its `mac`.
    pub fn boot_nic(&self) -> Option<&Nic> {
        self.interfaces
            .nics
            .iter()
            .find(|n| n.mac == Some(self.mac))
    }
}

/// A guest's NIC.
#[derive(Debug, Clone, Serialize)]
pub struct GuestNic {
    /// Its address.
    pub ip: Ipv4Addr,
    /// Its MAC.
    pub mac: MacAddr,
    /// Whether the MAC was given or derived, and by which scheme.
    pub mac_source: MacSource,
    /// The network it is on.
    pub network: Ident,
}

/// One NIC of a guest, the first one or another, with its index (`eth<index>` in the guest).
#[derive(Debug, Clone, Copy)]
pub struct NicRef<'a> {
    /// Its position: 0 for the first NIC (`eth0`).
    pub index: usize,
    /// Its address.
    pub ip: Ipv4Addr,
    /// Its MAC.
    pub mac: MacAddr,
    /// The network it is on.
    pub network: &'a Ident,
}

impl NicRef<'_> {
    /// The name the guest's kernel gives it (`eth1`): Xen's netfront devices are named in the
    /// order of the config's `vif` list.
    pub fn name(&self) -> String {
        format!("eth{}", self.index)
    }
}

impl Guest {
    /// Every NIC of the guest, the first (its `ip`, `mac` and `network`) first.
    pub fn nics(&self) -> impl Iterator<Item = NicRef<'_>> {
        std::iter::once(NicRef {
            index: 0,
            ip: self.ip,
            mac: self.mac,
            network: &self.network,
        })
        .chain(self.extra_nics.iter().enumerate().map(|(i, n)| NicRef {
            index: i + 1,
            ip: n.ip,
            mac: n.mac,
            network: &n.network,
        }))
    }
}

/// Where the fabric file describes a guest's NIC: its own fields for the first, an entry of
/// `extra_nics` for the others.
pub(crate) fn nic_path(guest: &FieldPath, index: usize) -> FieldPath {
    match index {
        0 => guest.clone(),
        i => guest.key("extra_nics").elem(i - 1, None),
    }
}

/// An address of a host past its first: a dom0's on another network it carries, or a guest's
/// other NIC's ([`HostRef::other_addresses`]).
#[derive(Debug, Clone, Copy)]
pub struct OtherAddress<'a> {
    /// The network it is on.
    pub network: &'a Ident,
    /// The address.
    pub ip: Ipv4Addr,
    /// Its entry: the index in a dom0's `bridges`, or a guest NIC's index (1 and up).
    place: usize,
}

impl OtherAddress<'_> {
    /// Where the fabric file gives it, for `host` (whose address it is):
    /// `dom0s[xen01].bridges[storage]`, `dom0s[xen01].guests[ullr].extra_nics[0]`.
    pub(crate) fn at(&self, host: HostRef<'_>) -> FieldPath {
        match host {
            HostRef::Dom0(d) => {
                d.at.key("bridges")
                    .elem(self.place, Some(self.network.as_str()))
            }
            HostRef::Guest(_, g) => nic_path(&g.at, self.place),
        }
    }
}

impl<'a> HostRef<'a> {
    /// The host's addresses past its first, in the order of the fabric file: a dom0's on the
    /// networks it carries beside its install network, a guest's other NICs'.
    pub fn other_addresses(self) -> Vec<OtherAddress<'a>> {
        match self {
            HostRef::Dom0(d) => d
                .interfaces
                .bridges
                .iter()
                .enumerate()
                .filter_map(|(place, b)| {
                    Some(OtherAddress {
                        network: &b.network,
                        ip: b.ip.filter(|ip| *ip != d.ip)?,
                        place,
                    })
                })
                .collect(),
            HostRef::Guest(_, g) => g
                .nics()
                .skip(1)
                .map(|n| OtherAddress {
                    network: n.network,
                    ip: n.ip,
                    place: n.index,
                })
                .collect(),
        }
    }
}

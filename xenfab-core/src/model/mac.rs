//! MAC addresses, the schemes that derive them from IPv4 addresses, and the file names network
//! boot looks them up by.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};

/// An Ethernet MAC address, shown as `00:16:3e:a8:01:02`.
///
/// Parsed from six hex octets separated by `:` or `-`, in either case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MacAddr([u8; 6]);

/// Why a MAC address could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid MAC address `{shown}`: expected six hex octets such as 00:16:3e:a8:01:02")]
pub struct MacError {
    shown: String,
}

/// The OUI that XenSource registered for Xen guests.
pub const XEN_OUI: [u8; 3] = [0x00, 0x16, 0x3e];

impl MacAddr {
    /// A MAC address from its octets.
    pub const fn new(octets: [u8; 6]) -> MacAddr {
        MacAddr(octets)
    }

    /// The six octets.
    pub const fn octets(self) -> [u8; 6] {
        self.0
    }

    /// True for a group (multicast or broadcast) address, which no NIC may use.
    pub const fn is_multicast(self) -> bool {
        self.0[0] & 1 == 1
    }

    /// True where libxl may pick the same address at random for a vif without a MAC:
    /// libxl takes `00:16:3e` and three random octets with the top bit of the fourth cleared,
    /// so `00:16:3e:00:00:00` to `00:16:3e:7f:ff:ff`.
    pub const fn in_libxl_random_range(self) -> bool {
        self.0[0] == XEN_OUI[0]
            && self.0[1] == XEN_OUI[1]
            && self.0[2] == XEN_OUI[2]
            && self.0[3] < 0x80
    }

    /// The name pxelinux looks a client's configuration up by: `01-` (the ARP type of
    /// Ethernet) and the MAC in lower-case hex, dash-separated: `01-00-16-3e-a8-01-02`.
    pub fn pxelinux_name(self) -> String {
        let o = self.0;
        format!(
            "01-{:02x}-{:02x}-{:02x}-{:02x}-{:02x}-{:02x}",
            o[0], o[1], o[2], o[3], o[4], o[5]
        )
    }
}

impl FromStr for MacAddr {
    type Err = MacError;

    fn from_str(s: &str) -> Result<MacAddr, MacError> {
        let err = || MacError {
            shown: s
                .chars()
                .take(40)
                .collect::<String>()
                .escape_debug()
                .collect(),
        };
        let sep = if s.contains('-') { '-' } else { ':' };
        let mut octets = [0u8; 6];
        let mut parts = s.split(sep);
        for octet in &mut octets {
            let part = parts.next().ok_or_else(err)?;
            if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err());
            }
            *octet = u8::from_str_radix(part, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(MacAddr(octets))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            o[0], o[1], o[2], o[3], o[4], o[5]
        )
    }
}

impl Serialize for MacAddr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// How a guest without an explicit MAC gets one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum MacScheme {
    /// The seed's scheme: Xen's OUI `00:16:3e` and the last three octets of the IPv4 address
    /// (192.168.1.2 → `00:16:3e:a8:01:02`). Two addresses that differ only in their first
    /// octet derive the same MAC, and addresses whose second octet is below 128 (all of
    /// 10.0.0.0/8) fall in the range libxl hands out at random; validation reports both.
    #[default]
    XenLast3,
    /// A locally administered prefix `02:00` and all four octets of the IPv4 address
    /// (192.168.1.2 → `02:00:c0:a8:01:02`): distinct addresses never collide.
    LocalIpv4,
    /// No derivation: every guest must give its MAC.
    Explicit,
}

impl MacScheme {
    /// The MAC this scheme derives from `ip`, or `None` for [`MacScheme::Explicit`].
    ///
    /// ```
    /// use xenfab_core::MacScheme;
    /// let mac = MacScheme::XenLast3.derive("192.168.96.43".parse().unwrap()).unwrap();
    /// assert_eq!(mac.to_string(), "00:16:3e:a8:60:2b");
    /// ```
    pub const fn derive(self, ip: Ipv4Addr) -> Option<MacAddr> {
        let [a, b, c, d] = ip.octets();
        match self {
            MacScheme::XenLast3 => Some(MacAddr([XEN_OUI[0], XEN_OUI[1], XEN_OUI[2], b, c, d])),
            MacScheme::LocalIpv4 => Some(MacAddr([0x02, 0x00, a, b, c, d])),
            MacScheme::Explicit => None,
        }
    }

    /// The name used in the fabric file.
    pub const fn as_str(self) -> &'static str {
        match self {
            MacScheme::XenLast3 => "xen-last3",
            MacScheme::LocalIpv4 => "local-ipv4",
            MacScheme::Explicit => "explicit",
        }
    }
}

impl fmt::Display for MacScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MacScheme {
    type Err = String;

    fn from_str(s: &str) -> Result<MacScheme, String> {
        match s {
            "xen-last3" => Ok(MacScheme::XenLast3),
            "local-ipv4" => Ok(MacScheme::LocalIpv4),
            "explicit" => Ok(MacScheme::Explicit),
            _ => Err(format!(
                "unknown MAC scheme `{}`: expected `xen-last3`, `local-ipv4` or `explicit`",
                s.escape_debug()
            )),
        }
    }
}

/// The name pxelinux and GRUB2 look a client's configuration up by: its IPv4 address as eight
/// upper-case hex digits (`192.168.1.2` → `C0A80102`).
pub fn hex_ip(ip: Ipv4Addr) -> String {
    format!("{:08X}", u32::from(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn seed_examples() {
        // Both examples of ../shared/seed/xen-on-centos5.txt.
        assert_eq!(
            MacScheme::XenLast3
                .derive(ip("192.168.1.2"))
                .unwrap()
                .to_string(),
            "00:16:3e:a8:01:02"
        );
        assert_eq!(
            MacScheme::XenLast3
                .derive(ip("192.168.96.43"))
                .unwrap()
                .to_string(),
            "00:16:3e:a8:60:2b"
        );
    }

    #[test]
    fn seed_scheme_trap_and_the_scheme_that_avoids_it() {
        let (a, b) = (ip("192.168.1.2"), ip("10.168.1.2"));
        assert_eq!(MacScheme::XenLast3.derive(a), MacScheme::XenLast3.derive(b));
        assert_ne!(
            MacScheme::LocalIpv4.derive(a),
            MacScheme::LocalIpv4.derive(b)
        );
        assert_eq!(
            MacScheme::LocalIpv4.derive(a).unwrap().to_string(),
            "02:00:c0:a8:01:02"
        );
        assert!(!MacScheme::LocalIpv4.derive(a).unwrap().is_multicast());
        assert_eq!(MacScheme::Explicit.derive(a), None);
    }

    #[test]
    fn libxl_random_range() {
        assert!(
            MacScheme::XenLast3
                .derive(ip("10.1.2.3"))
                .unwrap()
                .in_libxl_random_range()
        );
        assert!(
            !MacScheme::XenLast3
                .derive(ip("192.168.1.2"))
                .unwrap()
                .in_libxl_random_range()
        );
        assert!(
            !MacScheme::LocalIpv4
                .derive(ip("10.1.2.3"))
                .unwrap()
                .in_libxl_random_range()
        );
    }

    #[test]
    fn parse_and_boot_names() {
        let mac: MacAddr = "00-16-3E-A8-01-02".parse().unwrap();
        assert_eq!(mac.to_string(), "00:16:3e:a8:01:02");
        assert_eq!(mac.pxelinux_name(), "01-00-16-3e-a8-01-02");
        assert_eq!(hex_ip(ip("192.168.1.2")), "C0A80102");
        assert_eq!(hex_ip(ip("10.0.0.1")), "0A000001");
        for bad in [
            "00:16:3e:a8:01",
            "00:16:3e:a8:01:02:03",
            "00:16:3e:a8:1:02",
            "zz:16:3e:a8:01:02",
            "00:16-3e:a8:01:02",
            "",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad}");
        }
        assert!(
            "01:00:5e:00:00:01"
                .parse::<MacAddr>()
                .unwrap()
                .is_multicast()
        );
    }
}

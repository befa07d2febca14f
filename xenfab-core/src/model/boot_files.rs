//! The boot file DHCP hands a network-booting host, by the kind of client asking: a BIOS PXE
//! ROM, x86-64 UEFI PXE firmware, UEFI HTTP boot, or iPXE.
//!
//! The client says what it is in the DHCP request:
//!
//! - option 93, client system architecture (RFC 4578 §2.1), whose values IANA keeps in the
//!   "Processor Architecture Types" registry of "Dynamic Host Configuration Protocol (DHCP) and
//!   Bootstrap Protocol (BOOTP) Parameters": 0 x86 BIOS, 7 "x64 UEFI", 9 "EFI x86-64" (RFC 4578
//!   lists 9 for x86-64, while EDK2-based firmware sends 7, `NetworkPkg/UefiPxeBcDxe/PxeBcImpl.h`,
//!   `EFI_PXE_CLIENT_SYSTEM_ARCHITECTURE` 0x0007 for `MDE_CPU_X64`: both mean x86-64 UEFI), 16
//!   (0x10) "x64 UEFI HTTP";
//! - option 60, vendor class: UEFI HTTP boot clients send `HTTPClient:Arch:xxxxx:UNDI:yyyzzz`
//!   and take only an offer whose option 60 says `HTTPClient` back (UEFI specification 2.x,
//!   "HTTP Boot", DHCP4 "Device Boot Mode" section 24.7), the file being a URL;
//! - option 77, user class: iPXE sends `iPXE` (ipxe.org, "Chainloading iPXE": `if exists
//!   user-class and option user-class = "iPXE"`), so a PXE ROM that loaded iPXE is not handed
//!   iPXE again, but its script.
//!
//! [`BootFiles::rules`] is what every DHCP renderer asks: the tests in the order that makes them
//! exclusive, with the file each one gives. Only `bios` set: no rules, and the DHCP files are
//! what they were before the other kinds existed.

use serde::Serialize;

use super::names::BootPath;

/// The boot files of `[install.boot_files]`.
#[derive(Debug, Clone, Serialize)]
pub struct BootFiles {
    /// What BIOS PXE ROMs and every client that matches no other entry get (`pxelinux.0`,
    /// `install.boot_file` in the older spelling), relative to the TFTP root.
    pub bios: BootPath,
    /// What x86-64 UEFI PXE clients (option 93 = 7 or 9) get, e.g. `grub2/grubx64.efi` or
    /// `shimx64.efi`.
    pub uefi: Option<BootPath>,
    /// The URL UEFI HTTP boot clients (option 93 = 16, vendor class `HTTPClient…`) get.
    pub http: Option<HttpBootUrl>,
    /// What clients that already run iPXE (user class `iPXE`) get, e.g. `ipxe/boot.ipxe`.
    pub ipxe: Option<BootPath>,
}

/// A URL that UEFI HTTP boot loads, as DHCP hands it: `http` or `https`, no query, fragment
/// or user name, only `A-Za-z0-9-._~:/%+=@` (no `,`, which ends a dnsmasq value, no quote,
/// `;`, `}` or white space), at most 127 characters (the BOOTP `file` field's 128 bytes with
/// the NUL, RFC 2131 §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct HttpBootUrl(String);

/// The longest boot file name (a path below the TFTP root, or an HTTP boot URL) the BOOTP
/// `file` field holds: 128 octets with the terminating NUL (RFC 2131 §2, `file`; RFC 951). A
/// longer one would need option 67 and option overload, which each server handles in its own
/// way.
pub const BOOT_FILE_MAX: usize = 127;

impl HttpBootUrl {
    /// The URL, checked by the fabric file's URL rules first: `url` must already be an
    /// absolute URL without query, fragment or user name.
    ///
    /// # Errors
    ///
    /// Why the URL cannot be an HTTP boot file.
    pub fn new(url: &url::Url) -> Result<HttpBootUrl, &'static str> {
        let s = url.as_str();
        if !matches!(url.scheme(), "http" | "https") {
            Err("UEFI HTTP boot loads http or https URLs: the scheme must be http or https")
        } else if s.len() > BOOT_FILE_MAX {
            Err("longer than 127 characters, the most the BOOTP `file` field holds (RFC 2131)")
        } else if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            Err("a query, fragment or user name is not allowed")
        } else if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:/%+=@".contains(&b))
        {
            Err("only letters, digits and `-._~:/%+=@` are allowed (a `,` ends a dnsmasq value)")
        } else {
            Ok(HttpBootUrl(s.to_owned()))
        }
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A kind of network-booting client, as its DHCP request shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BootClient {
    /// iPXE: user class (option 77) `iPXE`.
    Ipxe,
    /// UEFI HTTP boot: option 93 = 16 and a vendor class (option 60) beginning with
    /// `HTTPClient`; the reply carries option 60 `HTTPClient`.
    Http,
    /// x86-64 UEFI PXE: option 93 = 7 or 9, not iPXE.
    Uefi,
}

impl BootClient {
    /// The option 93 values of the kind (IANA "Processor Architecture Types"); none for iPXE,
    /// which user class tells apart whatever its architecture.
    pub fn arches(self) -> &'static [u16] {
        match self {
            BootClient::Ipxe => &[],
            BootClient::Http => &[ARCH_X64_UEFI_HTTP],
            BootClient::Uefi => &[ARCH_X64_UEFI, ARCH_EFI_X86_64],
        }
    }
}

/// Option 93 "x64 UEFI" (IANA "Processor Architecture Types"; EDK2's x64 PXE sends it).
pub const ARCH_X64_UEFI: u16 = 7;
/// Option 93 "EFI x86-64" (RFC 4578 §2.1's table, IANA 9).
pub const ARCH_EFI_X86_64: u16 = 9;
/// Option 93 "x64 UEFI HTTP" (IANA 16, 0x10).
pub const ARCH_X64_UEFI_HTTP: u16 = 16;
/// The vendor class (option 60) prefix of UEFI HTTP boot clients, and what the reply says.
pub const HTTP_CLIENT: &str = "HTTPClient";
/// The user class (option 77) iPXE sends.
pub const IPXE_USER_CLASS: &str = "iPXE";

/// The UEFI boot file when a dom0 boots with UEFI firmware and `[install.boot_files]` names
/// none: the site's GRUB EFI netboot image (Rocky's `grubx64.efi`, Debian's
/// `grubnetx64.efi.signed`), put beside the per-host GRUB files of `grub2/`. See
/// docs/uefi.md.
pub const DEFAULT_UEFI: &str = "grub2/grubx64.efi";

/// [`DEFAULT_UEFI`] as a path.
pub(crate) fn default_uefi() -> BootPath {
    DEFAULT_UEFI
        .parse()
        .unwrap_or_else(|e| unreachable!("built-in boot path {DEFAULT_UEFI}: {e}"))
}

/// One test of [`BootFiles::rules`]: clients of `client` (and not of any kind in `unless`) get
/// `file`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BootRule {
    /// The kind of client.
    pub client: BootClient,
    /// The kinds that win over this one, among those that have a rule (iPXE before the
    /// firmware's own kinds: iPXE on UEFI sends option 93 = 7 too).
    pub unless: Vec<BootClient>,
    /// The boot file (a path below the TFTP root, or the HTTP boot URL).
    pub file: String,
}

impl BootFiles {
    /// The tests a DHCP server makes, most specific first, each with the kinds before it that
    /// exclude it; empty when only `bios` is set. Every client none of them matches gets
    /// [`BootFiles::bios`].
    pub fn rules(&self) -> Vec<BootRule> {
        let entries = [
            (BootClient::Ipxe, self.ipxe.as_ref().map(BootPath::as_str)),
            (
                BootClient::Http,
                self.http.as_ref().map(HttpBootUrl::as_str),
            ),
            (BootClient::Uefi, self.uefi.as_ref().map(BootPath::as_str)),
        ];
        let mut rules: Vec<BootRule> = Vec::new();
        for (client, file) in entries {
            if let Some(file) = file {
                rules.push(BootRule {
                    client,
                    // Only iPXE overlaps another kind (it sends option 93 as the firmware
                    // does); HTTP (16) and UEFI PXE (7, 9) differ in option 93.
                    unless: rules
                        .iter()
                        .map(|r| r.client)
                        .filter(|c| *c == BootClient::Ipxe)
                        .collect(),
                    file: file.to_owned(),
                });
            }
        }
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(uefi: bool, http: bool, ipxe: bool) -> BootFiles {
        BootFiles {
            bios: "pxelinux.0".parse().unwrap(),
            uefi: uefi.then(|| "grub2/grubx64.efi".parse().unwrap()),
            http: http.then(|| {
                HttpBootUrl::new(&"http://192.0.2.1/grubx64.efi".parse().unwrap()).unwrap()
            }),
            ipxe: ipxe.then(|| "ipxe/boot.ipxe".parse().unwrap()),
        }
    }

    #[test]
    fn bios_only_has_no_rules() {
        assert!(files(false, false, false).rules().is_empty());
    }

    #[test]
    fn ipxe_comes_first_and_excludes_the_others() {
        let rules = files(true, true, true).rules();
        let got: Vec<(BootClient, Vec<BootClient>)> =
            rules.iter().map(|r| (r.client, r.unless.clone())).collect();
        assert_eq!(
            got,
            vec![
                (BootClient::Ipxe, vec![]),
                (BootClient::Http, vec![BootClient::Ipxe]),
                (BootClient::Uefi, vec![BootClient::Ipxe]),
            ]
        );
        let rules = files(true, false, false).rules();
        assert_eq!(rules.len(), 1);
        assert!(rules[0].unless.is_empty());
        assert_eq!(rules[0].file, "grub2/grubx64.efi");
    }

    #[test]
    fn http_urls_are_checked() {
        let ok = |s: &str| HttpBootUrl::new(&s.parse().unwrap());
        assert!(ok("https://boot.example.org/efi/grubx64.efi").is_ok());
        assert!(ok("ftp://192.0.2.1/grubx64.efi").is_err());
        assert!(ok("http://192.0.2.1/a,b").is_err());
        assert!(ok("http://192.0.2.1/a?b").is_err());
        assert!(ok(&format!("http://192.0.2.1/{}", "a".repeat(120))).is_err());
        assert!(ok(&format!("http://192.0.2.1/{}", "a".repeat(107))).is_ok());
    }
}

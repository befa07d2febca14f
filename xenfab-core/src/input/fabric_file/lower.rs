//! Lowering: the fabric file as written → the fabric model, with every default applied.
//!
//! Every value is parsed into its domain type here; a value that does not parse becomes a
//! diagnostic with its path, and the host or object it belongs to is left out of the model so
//! that validation can still check everything else in the same run.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Display;
use std::net::Ipv4Addr;
use std::str::FromStr;

use ipnet::Ipv4Net;

use super::dto;
use crate::diagnostic::{Diagnostics, FieldPath};
use crate::model::{
    self as m, BUILTIN_SCHEMES, FsType, HostName, Ident, LifecycleAction, LvmName, MacSource, Role,
    Size, Toolstack, VirtMode,
};

/// The result of lowering: the model (when the site itself could be read) and what was wrong.
#[derive(Debug)]
pub struct Lowered {
    /// The fabric, without the hosts and objects whose values did not parse; `None` when the
    /// site or install server could not be read at all.
    pub fabric: Option<m::Fabric>,
    /// Every value that did not parse, and every reference that names nothing.
    pub diagnostics: Diagnostics,
}

/// The seed's defaults.
mod seed {
    use crate::model::Size;
    pub const DOM0_MEMORY: Size = Size::from_mib(512);
    pub const GUEST_MEMORY: Size = Size::from_mib(1024);
    pub const GUEST_DISK: Size = Size::from_mib(10 * 1024);
    pub const HYPERVISOR_MEMORY: Size = Size::from_mib(128);
    pub const PE_SIZE: Size = Size::from_mib(4);
    pub const TFTP_ROOT: &str = "/tftpboot";
    pub const BRIDGE: &str = "xenbr0";
    /// The one NIC of a dom0 whose fabric file names none: the seed's `ksdevice=eth0`.
    pub const NIC: &str = "eth0";
    pub const GUEST_VG: &str = "xenvg";
}

/// The longest URL accepted: far above what sites use, and bounded so that no line of an
/// artefact grows without bound (a kickstart URL must also fit the kernel command line, which
/// validation checks).
const MAX_URL: usize = 1024;

/// The most CPUs a count may name: Xen's `NR_CPUS` is at most 4095 (`xen/arch/Kconfig`,
/// `config NR_CPUS`, `range 1 4095`), so no host has more and no guest can use more.
pub(crate) const MAX_CPUS: u32 = 4095;

/// Lowers a fabric file into the fabric model.
pub fn lower(file: &dto::FabricFile) -> Lowered {
    let mut cx = Cx {
        diags: Diagnostics::new(),
        broken: HashSet::new(),
        bad_defaults: HashSet::new(),
    };
    let fabric = cx.fabric(file);
    Lowered {
        fabric,
        diagnostics: cx.diags,
    }
}

struct Cx {
    diags: Diagnostics,
    /// Objects left out because their own values were wrong: references to them are not
    /// reported again as unknown.
    broken: HashSet<(&'static str, String)>,
    /// The `[defaults]` references reported as unknown where they are written (by their
    /// key, as `defaults.dom0.os`): the hosts that take them are not told again.
    bad_defaults: HashSet<&'static str>,
}

fn root() -> FieldPath {
    FieldPath::root()
}

impl Cx {
    /// Parses `text` as a `T`, or reports why not at `path`.
    fn parse<T>(&mut self, path: &FieldPath, text: &str) -> Option<T>
    where
        T: FromStr,
        T::Err: Display,
    {
        match text.parse() {
            Ok(v) => Some(v),
            Err(e) => {
                self.diags
                    .error("invalid-value", path.clone(), e.to_string());
                None
            }
        }
    }

    /// Parses every element of a list, reporting each one that does not parse (not only the
    /// first); the list when all of them do.
    fn parse_all<T>(&mut self, path: &FieldPath, list: &[String]) -> Option<Vec<T>>
    where
        T: FromStr,
        T::Err: Display,
    {
        let parsed: Vec<Option<T>> = list
            .iter()
            .enumerate()
            .map(|(i, text)| self.parse(&path.elem(i, None), text))
            .collect();
        parsed.into_iter().collect()
    }

    /// A Linux network interface (a bridge, an interface DHCP listens on): at most 15
    /// characters (`IFNAMSIZ` is 16 with the NUL, include/uapi/linux/if.h), or the kernel,
    /// brctl and the DHCP servers refuse it.
    fn ifname(&mut self, path: &FieldPath, text: &str) -> Option<Ident> {
        let name: Ident = self.parse(path, text)?;
        if name.as_str().len() > 15 {
            self.diags.error(
                "invalid-value",
                path.clone(),
                format!(
                    "interface name `{}` is longer than 15 characters, the most Linux allows (IFNAMSIZ)",
                    shown(text)
                ),
            );
            return None;
        }
        Some(name)
    }

    /// A guest's virtual disk: `xvd`, `hd` or `sd` and one to three letters (`xvda`, `hdb`,
    /// `xvdaa`), the names xm and xl turn into a device number (libxl's
    /// `libxl__device_disk_dev_number()`, tools/libxl/libxl_internal.c).
    fn vdev(&mut self, path: &FieldPath, text: &str) -> Option<Ident> {
        let letters = ["xvd", "hd", "sd"]
            .iter()
            .find_map(|p| text.strip_prefix(p))
            .filter(|rest| {
                (1..=3).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_lowercase())
            });
        if letters.is_none() {
            self.diags.error(
                "invalid-value",
                path.clone(),
                format!(
                    "invalid virtual disk `{}`: expected `xvd`, `hd` or `sd` and one to three letters (`xvdb`)",
                    shown(text)
                ),
            );
            return None;
        }
        self.parse(path, text)
    }

    fn ipv4(&mut self, path: &FieldPath, text: &str) -> Option<Ipv4Addr> {
        if let Ok(ip) = text.parse() {
            return Some(ip);
        }
        self.diags.error(
            "invalid-value",
            path.clone(),
            format!("invalid IPv4 address `{}`", shown(text)),
        );
        None
    }

    /// A size that must be more than zero: memory, a disk, a partition, a volume.
    fn positive_size(&mut self, path: &FieldPath, text: &str) -> Option<Size> {
        let size: Size = self.parse(path, text)?;
        if size.mib() == 0 {
            self.diags
                .error("invalid-value", path.clone(), "must be more than 0");
            return None;
        }
        Some(size)
    }

    /// A size that must be more than zero, or `default` when none is given.
    fn positive_size_or(
        &mut self,
        path: &FieldPath,
        text: Option<&dto::SizeText>,
        default: Size,
    ) -> Option<Size> {
        match text {
            None => Some(default),
            Some(t) => self.positive_size(path, &t.0),
        }
    }

    /// A count of CPUs: 1 to [`MAX_CPUS`].
    fn count(&mut self, path: &FieldPath, n: Option<u32>, default: u32) -> Option<u32> {
        match n.unwrap_or(default) {
            0 => {
                self.diags
                    .error("invalid-value", path.clone(), "must be at least 1");
                None
            }
            n if n > MAX_CPUS => {
                self.diags.error(
                    "invalid-value",
                    path.clone(),
                    format!("{n} is more CPUs than Xen can run: at most {MAX_CPUS}"),
                );
                None
            }
            n => Some(n),
        }
    }

    /// A URL the install server serves: http, https, ftp or nfs, no query or fragment, and
    /// nothing that could break the line of a configuration file.
    /// `install.ack_url`: a URL as [`Self::url`] takes, and `http` (what `xenfab serve`
    /// speaks), without a path: the server's routes are at its root.
    fn ack_url(&mut self, path: &FieldPath, text: &str) -> Option<url::Url> {
        let url = self.url(path, text)?;
        let why = if url.scheme() != "http" {
            "`xenfab serve` speaks plain http: the scheme must be http"
        } else if url.path() != "/" {
            "give the server's root (`http://HOST:PORT`), without a path"
        } else {
            return Some(url);
        };
        self.diags.error(
            "invalid-value",
            path.clone(),
            format!("invalid URL `{}`: {why}", shown(text)),
        );
        None
    }

    fn url(&mut self, path: &FieldPath, text: &str) -> Option<url::Url> {
        self.url_of(path, text, false)
    }

    /// A URL as [`Self::url`] takes it, or with `file` also a `file:///` URL (no host): a
    /// Debian OS's mirror on dom0, which debootstrap reads (render/debootstrap).
    fn url_of(&mut self, path: &FieldPath, text: &str, file: bool) -> Option<url::Url> {
        let bad = |cx: &mut Cx, why: &str| {
            cx.diags.error(
                "invalid-value",
                path.clone(),
                format!("invalid URL `{}`: {why}", shown(text)),
            );
            None
        };
        // The raw text first: the url crate silently drops tabs and newlines and trims
        // control characters and spaces (the WHATWG URL standard), so they are refused
        // before it sees them, and so is anything it would percent-encode or keep as is.
        if text.len() > MAX_URL {
            return bad(self, "longer than 1024 characters");
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:/%+,=@".contains(&b))
        {
            return bad(self, "only letters, digits and `-._~:/%+,=@` are allowed");
        }
        if text.split('%').skip(1).any(|rest| {
            !rest
                .as_bytes()
                .get(..2)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
        }) {
            return bad(self, "a `%` must begin an escape of two hex digits");
        }
        let Ok(url) = url::Url::parse(text) else {
            return bad(self, "not an absolute URL");
        };
        if file && url.scheme() == "file" {
            if url.host().is_some() || !url.path().starts_with('/') {
                return bad(self, "a file URL names a folder of this host: file:///PATH");
            }
        } else if !matches!(url.scheme(), "http" | "https" | "ftp" | "nfs") {
            return bad(
                self,
                if file {
                    "the scheme must be http, https, ftp, nfs or file"
                } else {
                    "the scheme must be http, https, ftp or nfs"
                },
            );
        }
        // The host as written must be an IPv4 address or a DNS name of RFC 1123 labels: the
        // url crate takes `192.168.96..` for a domain, which no resolver answers.
        match url.host() {
            None if url.scheme() == "file" => {}
            Some(url::Host::Ipv4(_)) => {}
            Some(url::Host::Domain(d)) if d.parse::<crate::model::DomainName>().is_ok() => {}
            _ => return bad(self, "the host must be an IPv4 address or a DNS name"),
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return bad(self, "a query, fragment or user name is not allowed");
        }
        if !url
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:/%+,=@".contains(&b))
        {
            return bad(self, "only letters, digits and `-._~:/%+,=@` are allowed");
        }
        Some(url)
    }

    /// Reports a reference to an object that does not exist, unless the object exists but was
    /// left out for its own errors (already reported).
    fn known<T>(
        &mut self,
        path: &FieldPath,
        kind: &'static str,
        name: &str,
        table: &BTreeMap<String, T>,
    ) -> bool {
        if table.contains_key(name) {
            return !self.broken.contains(&(kind, name.to_owned()));
        }
        let mut known: Vec<&str> = table.keys().map(String::as_str).collect();
        if kind == "partition scheme" {
            known.extend(BUILTIN_SCHEMES);
            if BUILTIN_SCHEMES.contains(&name) {
                return true;
            }
        }
        known.sort_unstable();
        let known = if known.is_empty() {
            "none is defined".to_owned()
        } else {
            format!("known: {}", known.join(", "))
        };
        self.diags.error(
            "unknown-reference",
            path.clone(),
            format!("unknown {kind} `{}` ({known})", shown(name)),
        );
        false
    }

    fn fabric(&mut self, file: &dto::FabricFile) -> Option<m::Fabric> {
        if file.version != dto::FORMAT_VERSION {
            self.diags.error(
                "unsupported-version",
                root().key("version"),
                format!(
                    "fabric file version {} is not supported: this xenfab reads version {}",
                    file.version,
                    dto::FORMAT_VERSION
                ),
            );
        }
        let site = self.site(&file.site);
        let install = self.install(&file.install);
        let kickstart = self.kickstart(&file.kickstart);

        let boot_images = self.table(
            &file.boot_images,
            "boot_images",
            "boot image",
            Cx::boot_image,
        );
        let os = self.table(&file.os, "os", "OS release", |cx, path, os| {
            cx.os(path, os, &file.boot_images)
        });
        let networks = self.table(&file.networks, "networks", "network", Cx::network);
        let hardware = self.table(&file.hardware, "hardware", "hardware profile", Cx::hardware);
        let mut partition_schemes: BTreeMap<Ident, m::PartitionScheme> =
            m::builtin_schemes().into_iter().collect();
        for (name, scheme) in self.table(
            &file.partition_schemes,
            "partition_schemes",
            "partition scheme",
            Cx::scheme,
        ) {
            if BUILTIN_SCHEMES.contains(&name.as_str()) {
                self.diags.error(
                    "duplicate-name",
                    root().key("partition_schemes").entry(name.as_str()),
                    format!("`{name}` is a built-in partition scheme; give yours another name"),
                );
            } else {
                partition_schemes.insert(name, scheme);
            }
        }

        let defaults = self.defaults(file);
        let mut dom0s = Vec::with_capacity(file.dom0s.len());
        for (i, d) in file.dom0s.iter().enumerate() {
            let path = root().key("dom0s").elem(i, Some(&d.name));
            if let Some(dom0) = self.dom0(&path, d, file, &defaults, &hardware, &networks) {
                dom0s.push(dom0);
            }
        }

        let dns = site
            .as_ref()
            .and_then(|site| self.dns(file.dns.as_ref(), &site.domain));
        Some(m::Fabric {
            dns: dns?,
            site: site?,
            install: install?,
            kickstart: kickstart?,
            boot_images,
            os,
            networks,
            hardware,
            partition_schemes,
            dom0s,
        })
    }

    /// Lowers a table of named objects, leaving out (and remembering) those that fail.
    fn table<D, T>(
        &mut self,
        table: &BTreeMap<String, D>,
        key: &'static str,
        kind: &'static str,
        mut lower: impl FnMut(&mut Cx, &FieldPath, &D) -> Option<T>,
    ) -> BTreeMap<Ident, T> {
        let mut out = BTreeMap::new();
        for (name, item) in table {
            let path = root().key(key).entry(name);
            let ident = self.parse::<Ident>(&path, name);
            match (ident, lower(self, &path, item)) {
                (Some(ident), Some(item)) => {
                    out.insert(ident, item);
                }
                _ => {
                    self.broken.insert((kind, name.clone()));
                }
            }
        }
        out
    }

    fn site(&mut self, s: &dto::Site) -> Option<m::Site> {
        let path = root().key("site");
        let name = self.parse(&path.key("name"), &s.name);
        let domain = self.parse(&path.key("domain"), &s.domain);
        let hypervisor_memory = self.positive_size_or(
            &path.key("hypervisor_memory"),
            s.hypervisor_memory.as_ref(),
            seed::HYPERVISOR_MEMORY,
        );
        Some(m::Site {
            name: name?,
            domain: domain?,
            mac_scheme: s.mac_scheme.unwrap_or_default(),
            hypervisor_memory: hypervisor_memory?,
        })
    }

    /// The `[dns]` table, each value defaulted (`model::dns`).
    fn dns(&mut self, d: Option<&dto::Dns>, domain: &m::DomainName) -> Option<m::dns::DnsSettings> {
        let path = root().key("dns");
        let defaults = m::dns::DnsSettings::defaults(domain);
        let Some(d) = d else {
            return Some(defaults);
        };
        let ns = match &d.ns {
            None => Some(Vec::new()),
            Some(list) if list.is_empty() => {
                self.diags.error(
                    "invalid-value",
                    path.key("ns"),
                    "an empty list: name at least one name server, or leave `ns` out for the default",
                );
                None
            }
            Some(list) => self.parse_all(&path.key("ns"), list),
        };
        let hostmaster = match &d.hostmaster {
            None => Some(defaults.hostmaster.clone()),
            Some(text) => {
                let name: Option<m::DomainName> = self.parse(&path.key("hostmaster"), text);
                // RNAME's first label is the mailbox's local part: a bare label has no domain.
                name.filter(|n| {
                    let dotted = n.as_str().contains('.');
                    if !dotted {
                        self.diags.error(
                            "invalid-value",
                            path.key("hostmaster"),
                            format!(
                                "`{}` has no domain: write the mailbox as a domain name, `{n}.{domain}` for {n}@{domain}",
                                shown(text)
                            ),
                        );
                    }
                    dotted
                })
            }
        };
        // RFC 2181 section 8: a TTL is at most 2^31 - 1, and BIND 9.18 reads a larger `$TTL`
        // as 0 (named-checkzone: "$TTL 4294967295 > MAXTTL, setting $TTL to 0"). The SOA
        // timers are 32-bit fields (RFC 1035 section 3.3.13) held to the same bound: a timer
        // of 68 years is a typo.
        let mut seconds = |key: &'static str, value: Option<u32>, default: u32| -> Option<u32> {
            let v = value.unwrap_or(default);
            if v == 0 || v > i32::MAX as u32 {
                self.diags.error(
                    "invalid-value",
                    path.key(key),
                    format!("{v} seconds: give 1 to 2147483647 (RFC 2181 section 8)"),
                );
                return None;
            }
            Some(v)
        };
        let ttl = seconds("ttl", d.ttl, defaults.ttl);
        let refresh = seconds("refresh", d.refresh, defaults.refresh);
        let retry = seconds("retry", d.retry, defaults.retry);
        let expire = seconds("expire", d.expire, defaults.expire);
        let minimum = seconds("minimum", d.minimum, defaults.minimum);
        Some(m::dns::DnsSettings {
            ns: ns?,
            hostmaster: hostmaster?,
            ttl: ttl?,
            refresh: refresh?,
            retry: retry?,
            expire: expire?,
            minimum: minimum?,
        })
    }

    fn install(&mut self, s: &dto::Install) -> Option<m::InstallServer> {
        let path = root().key("install");
        let next_server = s
            .next_server
            .as_ref()
            .map(|t| self.ipv4(&path.key("next_server"), t));
        let boot_files = self.boot_files(s);
        let dhcp_interfaces: Option<Vec<Ident>> = match &s.dhcp_interfaces {
            None => Some(Vec::new()),
            Some(list) => {
                let names: Vec<Option<Ident>> = list
                    .iter()
                    .enumerate()
                    .map(|(i, n)| self.ifname(&path.key("dhcp_interfaces").elem(i, None), n))
                    .collect();
                names.into_iter().collect()
            }
        };
        let tftp_root = self.parse(
            &path.key("tftp_root"),
            s.tftp_root.as_deref().unwrap_or(seed::TFTP_ROOT),
        );
        let kickstart_url = self.url(&path.key("kickstart_url"), &s.kickstart_url);
        let ack_url = match &s.ack_url {
            None => Some(None),
            Some(text) => self.ack_url(&path.key("ack_url"), text).map(Some),
        };
        Some(m::InstallServer {
            next_server: next_server.map_or(Some(None), |s| s.map(Some))?,
            boot_files: boot_files?,
            dhcp_interfaces: dhcp_interfaces?,
            tftp_root: tftp_root?,
            kickstart_url: kickstart_url?,
            ack_url: ack_url?,
        })
    }

    /// `[install.boot_files]`, with `install.boot_file` as the older spelling of its `bios`.
    fn boot_files(&mut self, s: &dto::Install) -> Option<m::boot_files::BootFiles> {
        let path = root().key("install");
        let table = s.boot_files.clone().unwrap_or_default();
        let tpath = path.key("boot_files");
        let (bios_path, bios_text, twice) = match (&s.boot_file, &table.bios) {
            (Some(_), Some(f)) => {
                // Reported, and the other entries checked all the same.
                self.diags.error(
                    "invalid-value",
                    path.key("boot_file"),
                    "give the BIOS boot file once: `install.boot_file` is the older spelling of `install.boot_files.bios`",
                );
                (tpath.key("bios"), f.as_str(), true)
            }
            (Some(f), None) => (path.key("boot_file"), f.as_str(), false),
            (None, Some(f)) => (tpath.key("bios"), f.as_str(), false),
            (None, None) => (path.key("boot_file"), "pxelinux.0", false),
        };
        let bios = self
            .tftp_boot_file(&bios_path, bios_text)
            .filter(|_| !twice);
        let file = |cx: &mut Cx, key: &'static str, text: &Option<String>| match text {
            None => Some(None),
            Some(t) => cx.tftp_boot_file(&tpath.key(key), t).map(Some),
        };
        let uefi = file(self, "uefi", &table.uefi);
        let ipxe = file(self, "ipxe", &table.ipxe);
        let http = match &table.http {
            None => Some(None),
            Some(text) => {
                let p = tpath.key("http");
                self.url(&p, text)
                    .and_then(|u| match m::boot_files::HttpBootUrl::new(&u) {
                        Ok(u) => Some(Some(u)),
                        Err(why) => {
                            self.diags.error(
                                "invalid-value",
                                p,
                                format!("invalid URL `{}`: {why}", shown(text)),
                            );
                            None
                        }
                    })
            }
        };
        Some(m::boot_files::BootFiles {
            bios: bios?,
            uefi: uefi?,
            http: http?,
            ipxe: ipxe?,
        })
    }

    /// A boot file below the TFTP root that DHCP hands out.
    fn tftp_boot_file(&mut self, path: &FieldPath, text: &str) -> Option<m::BootPath> {
        let file: m::BootPath = self.parse(path, text)?;
        // The BOOTP `file` field that PXE ROMs read the boot file from is 128 bytes with its
        // NUL (RFC 951, `file`; RFC 2131 §2).
        if file.as_str().len() > m::boot_files::BOOT_FILE_MAX {
            self.diags.error(
                "invalid-value",
                path.clone(),
                "longer than 127 characters, the most the BOOTP `file` field holds (RFC 951)",
            );
            return None;
        }
        Some(file)
    }

    fn kickstart(&mut self, k: &dto::Kickstart) -> Option<m::KickstartSettings> {
        let path = root().key("kickstart");
        let root_password = self.parse(&path.key("root_password"), &k.root_password);
        let timezone = self.parse(
            &path.key("timezone"),
            k.timezone.as_deref().unwrap_or("UTC"),
        );
        let lang = self.parse(
            &path.key("lang"),
            k.lang.as_deref().unwrap_or("en_US.UTF-8"),
        );
        let keyboard = self.parse(&path.key("keyboard"), k.keyboard.as_deref().unwrap_or("us"));
        // A bad repository, package or hook is reported and left out: the rest of the
        // fabric is still checked in the same run.
        let repos = self.repos(&path.key("repos"), &k.repos);
        // Both roles are read before any `?`, so that their errors are reported too.
        let dom0 = self.kickstart_role(&path.key("dom0"), &k.dom0);
        let guest = self.kickstart_role(&path.key("guest"), &k.guest);
        Some(m::KickstartSettings {
            root_password: root_password?,
            timezone: timezone?,
            lang: lang?,
            keyboard: keyboard?,
            resolvedeps: k.resolvedeps,
            repos,
            dom0,
            guest,
            allow_default_password: k.allow_default_password,
        })
    }

    /// Installer repositories; a bad one is reported and left out.
    fn repos(&mut self, path: &FieldPath, list: &[dto::Repo]) -> Vec<m::Repo> {
        let mut repos = Vec::new();
        for (i, r) in list.iter().enumerate() {
            let rp = path.elem(i, Some(&r.name));
            let name = self.parse(&rp.key("name"), &r.name);
            let baseurl = self.url(&rp.key("baseurl"), &r.baseurl);
            if let (Some(name), Some(baseurl)) = (name, baseurl) {
                repos.push(m::Repo { name, baseurl });
            }
        }
        repos
    }

    /// Kickstart settings of an OS or a host (`path` is its `kickstart` table), parsed by the
    /// same word types as the site's; a bad value is reported and left out.
    fn kickstart_override(
        &mut self,
        path: &FieldPath,
        k: &dto::KickstartOverride,
    ) -> m::KickstartOverride {
        let root_password = k
            .root_password
            .as_ref()
            .and_then(|v| self.parse(&path.key("root_password"), v));
        let timezone = k
            .timezone
            .as_ref()
            .and_then(|v| self.parse(&path.key("timezone"), v));
        let lang = k
            .lang
            .as_ref()
            .and_then(|v| self.parse(&path.key("lang"), v));
        let keyboard = k
            .keyboard
            .as_ref()
            .and_then(|v| self.parse(&path.key("keyboard"), v));
        let repos = k.repos.as_ref().map(|r| self.repos(&path.key("repos"), r));
        let packages = k.packages.as_ref().map(|list| {
            list.iter()
                .enumerate()
                .filter_map(|(i, p)| self.parse(&path.key("packages").elem(i, None), p))
                .collect()
        });
        let post = k.post.as_ref().map(|list| {
            list.iter()
                .enumerate()
                .filter_map(|(i, p)| self.parse(&path.key("post").elem(i, None), p))
                .collect()
        });
        let pre = k.pre.as_ref().map(|list| {
            list.iter()
                .enumerate()
                .filter_map(|(i, p)| self.parse(&path.key("pre").elem(i, None), p))
                .collect()
        });
        let sp = path.key("services");
        let services = m::ServicesOverride {
            enabled: k
                .services
                .enabled
                .as_ref()
                .map(|list| self.parse_list(&sp.key("enabled"), list)),
            disabled: k
                .services
                .disabled
                .as_ref()
                .map(|list| self.parse_list(&sp.key("disabled"), list)),
        };
        m::KickstartOverride {
            root_password,
            timezone,
            lang,
            keyboard,
            repos,
            packages,
            post,
            pre,
            services,
        }
    }

    /// A host's own kickstart settings, when it has any.
    fn host_kickstart(
        &mut self,
        path: &FieldPath,
        k: Option<&dto::KickstartOverride>,
    ) -> Option<Box<m::KickstartOverride>> {
        let k = self.kickstart_override(&path.key("kickstart"), k?);
        (!k.is_empty()).then(|| Box::new(k))
    }

    fn kickstart_role(&mut self, path: &FieldPath, r: &dto::KickstartRole) -> m::RoleSettings {
        let packages = r.packages.as_ref().map(|list| {
            list.iter()
                .enumerate()
                .filter_map(|(i, p)| self.parse(&path.key("packages").elem(i, None), p))
                .collect()
        });
        let post = r
            .post
            .iter()
            .enumerate()
            .filter_map(|(i, p)| self.parse(&path.key("post").elem(i, None), p))
            .collect();
        let pre = r
            .pre
            .iter()
            .enumerate()
            .filter_map(|(i, p)| self.parse(&path.key("pre").elem(i, None), p))
            .collect();
        let sp = path.key("services");
        let services = m::Services {
            enabled: self.parse_list(&sp.key("enabled"), &r.services.enabled),
            disabled: self.parse_list(&sp.key("disabled"), &r.services.disabled),
        };
        m::RoleSettings {
            packages,
            post,
            pre,
            services,
        }
    }

    /// A list of words (`services.enabled`), each parsed at its own index; a bad one is
    /// reported and left out.
    fn parse_list<T>(&mut self, path: &FieldPath, list: &[String]) -> Vec<T>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        list.iter()
            .enumerate()
            .filter_map(|(i, v)| self.parse(&path.elem(i, None), v))
            .collect()
    }

    fn boot_image(&mut self, path: &FieldPath, b: &dto::BootImage) -> Option<m::BootImage> {
        let kernel = self.parse(&path.key("kernel"), &b.kernel);
        let initrd = self.parse(&path.key("initrd"), &b.initrd);
        let append = self.parse_all(&path.key("append"), &b.append);
        Some(m::BootImage {
            kernel: kernel?,
            initrd: initrd?,
            append: append?,
        })
    }

    fn os(
        &mut self,
        path: &FieldPath,
        o: &dto::Os,
        images: &BTreeMap<String, dto::BootImage>,
    ) -> Option<m::OsRelease> {
        // A Debian OS may name a mirror on dom0 (file:///…), which its guests' debootstrap reads.
        let install_url = self.url_of(
            &path.key("install_url"),
            &o.install_url,
            o.family == m::OsFamily::Debian,
        );
        let boot_image = self.parse(&path.key("boot_image"), &o.boot_image);
        let known = self.known(&path.key("boot_image"), "boot image", &o.boot_image, images);
        if !known {
            return None;
        }
        let kernel_version =
            self.opt_ident(&path.key("kernel_version"), o.kernel_version.as_deref());
        let installer = self.release(&path.key("release"), o.family, o.release.as_deref());
        let arch = o.arch.unwrap_or_default();
        let xen_repo = match o.xen_repo.as_deref() {
            Some(text) => self.url(&path.key("xen_repo"), text).map(Some),
            None => Some(None),
        };
        let debootstrap_tarball = match o.debootstrap_tarball.as_deref() {
            Some(text) => self.parse(&path.key("debootstrap_tarball"), text).map(Some),
            None => Some(None),
        };
        let kernel_version = match (kernel_version, installer) {
            (Some(k), Some(info)) => self.kernel_version(
                &path.key("kernel_version"),
                o.family,
                o.release.is_some().then_some(info.release),
                arch,
                k,
            ),
            (k, _) => k,
        };
        let kickstart = o
            .kickstart
            .as_ref()
            .map(|k| self.kickstart_override(&path.key("kickstart"), k))
            .filter(|k| !k.is_empty());
        Some(m::OsRelease {
            family: o.family,
            release: installer?.release,
            installer: installer?,
            install_url: install_url?,
            boot_image: boot_image?,
            kernel_version: kernel_version?,
            arch,
            xen_repo: xen_repo?,
            debootstrap_tarball: debootstrap_tarball?,
            kickstart,
        })
    }

    /// An OS's Xen kernel version: the one its install tree installs (the release table's)
    /// when not given; one that differs from it is refused when the release is named, as the
    /// hypervisor's boot entry would load files the install does not write (`2.6.18-92.1.6.el5`,
    /// an update, on a 5.2 tree that installs `2.6.18-92.el5`). Without a named release the
    /// version given is kept (the family's first release is only assumed), and none is made
    /// up. `Some(None)` when there is none, `None` when refused (reported), as `opt_ident`.
    #[allow(clippy::option_option)]
    fn kernel_version(
        &mut self,
        path: &FieldPath,
        family: m::OsFamily,
        named: Option<m::release::Release>,
        arch: m::Arch,
        given: Option<m::Ident>,
    ) -> Option<Option<m::Ident>> {
        let Some(release) = named else {
            return Some(given);
        };
        let installed = m::release::kernel_files(family, release, arch.libvirt());
        match (given, installed) {
            (None, Some(k)) => Some(k.parse().ok()),
            (Some(k), Some(installed)) if k.as_str() != installed => {
                self.diags.error(
                    "kernel-not-installed",
                    path.clone(),
                    format!(
                        "the {release} install tree installs kernel {installed}, not {}: the hypervisor's boot entry would load files that do not exist; write kernel_version = \"{installed}\" or leave it out",
                        shown(k.as_str())
                    ),
                );
                None
            }
            (given, _) => Some(given),
        }
    }

    /// An OS's release, looked up in the release table: the family's first when not given.
    fn release(
        &mut self,
        path: &FieldPath,
        family: m::OsFamily,
        text: Option<&str>,
    ) -> Option<m::release::ReleaseInfo> {
        use m::release;
        let Some(text) = text else {
            return release::info(family, release::default_release(family));
        };
        // Debian numbers its releases by their major (12 is bookworm, 12.5 its fifth point
        // release): a bare major is its first point release.
        let parsed = match text.parse::<u8>() {
            Ok(major) if family == m::OsFamily::Debian && !text.starts_with('0') => {
                Ok(release::Release::new(major, 0))
            }
            _ => text.parse::<release::Release>(),
        };
        let Ok(r) = parsed else {
            let expected = if family == m::OsFamily::Debian {
                "a Debian release, such as 12 or 12.5"
            } else {
                "major.minor, such as 5.2 or 9.4"
            };
            self.diags.error(
                "invalid-value",
                path.clone(),
                format!("invalid release `{}`: expected {expected}", shown(text)),
            );
            return None;
        };
        let found = release::info(family, r);
        if found.is_none() {
            self.diags.error(
                "unknown-release",
                path.clone(),
                format!(
                    "release {r} is not a release of {} that xenfab knows ({}): name the release the install tree holds",
                    family_name(family),
                    release::known_range(family)
                ),
            );
        }
        found
    }

    fn network(&mut self, path: &FieldPath, n: &dto::Network) -> Option<m::Network> {
        let subnet = match n.subnet.parse::<Ipv4Net>() {
            Ok(net) if net.trunc() == net => Some(net),
            Ok(net) => {
                self.diags.error(
                    "invalid-value",
                    path.key("subnet"),
                    format!(
                        "subnet `{net}` has host bits set: did you mean `{}`?",
                        net.trunc()
                    ),
                );
                None
            }
            Err(_) => {
                self.diags.error(
                    "invalid-value",
                    path.key("subnet"),
                    format!(
                        "invalid subnet `{}`: expected an IPv4 network such as 192.168.96.0/24",
                        shown(&n.subnet)
                    ),
                );
                None
            }
        };
        let gateway = self.ipv4(&path.key("gateway"), &n.gateway);
        let dns: Vec<_> = n
            .dns
            .iter()
            .enumerate()
            .map(|(i, d)| self.ipv4(&path.key("dns").elem(i, None), d))
            .collect();
        let bridge = self.ifname(
            &path.key("bridge"),
            n.bridge.as_deref().unwrap_or(seed::BRIDGE),
        );
        let next_server = n
            .next_server
            .as_ref()
            .map(|s| self.ipv4(&path.key("next_server"), s));
        let vlan = match n.vlan {
            None => Some(None),
            // IEEE 802.1Q: 0 means "no VLAN" (priority tag) and 4095 is reserved; the kernel's
            // `ip link add … type vlan id` refuses ids above 4094 (net/8021q, VLAN_N_VID).
            Some(id) => {
                if let Ok(v @ 1..=4094) = u16::try_from(id) {
                    Some(Some(v))
                } else {
                    self.diags.error(
                        "invalid-value",
                        path.key("vlan"),
                        format!("VLAN id {id} is out of range: IEEE 802.1Q ids are 1 to 4094"),
                    );
                    None
                }
            }
        };
        Some(m::Network {
            subnet: subnet?,
            gateway: gateway?,
            dns: dns.into_iter().collect::<Option<_>>()?,
            bridge: bridge?,
            next_server: next_server.map_or(Some(None), |s| s.map(Some))?,
            host_only: n.host_only.unwrap_or(false),
            vlan: vlan?,
        })
    }

    /// A serial console: its speed one of [`m::SerialConsole::SPEEDS`] (115200 when not
    /// given).
    fn serial_console(
        &mut self,
        path: &FieldPath,
        c: dto::SerialConsole,
    ) -> Option<m::SerialConsole> {
        let (port, speed) = match c {
            dto::SerialConsole::Port(port) => (port, None),
            dto::SerialConsole::Line(line) => (line.port, line.speed),
        };
        let speed = speed.unwrap_or(m::SerialConsole::DEFAULT_SPEED);
        if !m::SerialConsole::SPEEDS.contains(&speed) {
            let speeds: Vec<String> = m::SerialConsole::SPEEDS
                .iter()
                .map(ToString::to_string)
                .collect();
            self.diags.error(
                "invalid-value",
                path.key("speed"),
                format!(
                    "{speed} baud is not a speed GRUB and pxelinux can set: use one of {}",
                    speeds.join(", ")
                ),
            );
            return None;
        }
        Some(m::SerialConsole { port, speed })
    }

    fn hardware(&mut self, path: &FieldPath, h: &dto::Hardware) -> Option<m::Hardware> {
        // As for a dom0: reported, and the profile kept without it.
        let serial_console = h
            .serial_console
            .and_then(|c| self.serial_console(&path.key("serial_console"), c));
        let ram = self.positive_size(&path.key("ram"), &h.ram.0);
        let cpus = self.count(&path.key("cpus"), Some(h.cpus), 1);
        if h.disks.is_empty() {
            self.diags.error(
                "invalid-value",
                path.key("disks"),
                "a hardware profile needs at least one disk",
            );
        }
        let mut seen = HashSet::new();
        let mut disks = Vec::new();
        for (i, d) in h.disks.iter().enumerate() {
            let dpath = path.key("disks").elem(i, Some(&d.name));
            let name = self.parse::<Ident>(&dpath.key("name"), &d.name);
            let size = self.positive_size(&dpath.key("size"), &d.size.0);
            if !seen.insert(d.name.as_str()) {
                self.diags.error(
                    "duplicate-name",
                    dpath.key("name"),
                    format!("disk `{}` is listed twice", shown(&d.name)),
                );
            }
            disks.push(name.zip(size).map(|(name, size)| m::Disk { name, size }));
        }
        Some(m::Hardware {
            ram: ram?,
            cpus: cpus?,
            raid: h.raid.unwrap_or(m::HardwareRaid::None),
            disks: disks
                .into_iter()
                .collect::<Option<_>>()
                .filter(|d: &Vec<_>| !d.is_empty())?,
            serial_console,
            firmware: h.firmware.unwrap_or_default(),
        })
    }

    /// What a partition or array holds: `mount` (a mount point or `swap`) or `use`.
    fn role(
        &mut self,
        path: &FieldPath,
        mount: Option<&str>,
        fstype: Option<FsType>,
        role: Option<dto::Use>,
    ) -> Option<Role> {
        match (mount, role) {
            (Some(_), Some(_)) | (None, None) => {
                self.diags.error(
                    "invalid-value",
                    path.clone(),
                    "give either `mount` or `use`, not both or neither",
                );
                None
            }
            (Some("swap"), None) => Some(Role::Swap),
            (Some(mount), None) => Some(Role::Mount {
                mount: self.parse(&path.key("mount"), mount)?,
                fstype: fstype.unwrap_or(FsType::Ext3),
            }),
            (None, Some(dto::Use::Raid)) => Some(Role::RaidMember),
            (None, Some(dto::Use::Pv)) => Some(Role::PhysicalVolume),
        }
    }

    /// An optional name: `Some(None)` when not given, `None` when given but invalid (reported).
    #[allow(clippy::option_option)]
    fn opt_ident(&mut self, path: &FieldPath, text: Option<&str>) -> Option<Option<Ident>> {
        match text {
            None => Some(None),
            Some(t) => self.parse(path, t).map(Some),
        }
    }

    fn scheme(&mut self, path: &FieldPath, s: &dto::PartitionScheme) -> Option<m::PartitionScheme> {
        let mut ok = true;
        let mut partitions = Vec::new();
        for (i, p) in s.partitions.iter().enumerate() {
            let pp = path.key("partitions").elem(i, p.id.as_deref());
            let id = self.opt_ident(&pp.key("id"), p.id.as_deref());
            let disk = self.parse(&pp.key("disk"), &p.disk);
            let size = self.positive_size(&pp.key("size"), &p.size.0);
            let role = self.role(&pp, p.mount.as_deref(), p.fstype, p.role);
            match (id, disk, size, role) {
                (Some(id), Some(disk), Some(size), Some(role)) => {
                    partitions.push(m::Partition {
                        id,
                        disk,
                        size,
                        grow: p.grow,
                        primary: p.primary,
                        role,
                    });
                }
                _ => ok = false,
            }
        }
        let mut raids = Vec::new();
        for (i, r) in s.raids.iter().enumerate() {
            let rp = path.key("raids").elem(i, Some(&r.device));
            let id = self.opt_ident(&rp.key("id"), r.id.as_deref());
            let device = self.parse(&rp.key("device"), &r.device);
            let members = self.parse_all(&rp.key("members"), &r.members);
            if r.role == Some(dto::Use::Raid) {
                self.diags.error(
                    "invalid-value",
                    rp.key("use"),
                    "an array cannot be a member of another array",
                );
                ok = false;
            }
            let role = self.role(&rp, r.mount.as_deref(), r.fstype, r.role);
            match (id, device, members, role) {
                (Some(id), Some(device), Some(members), Some(role)) => {
                    raids.push(m::RaidArray {
                        id,
                        device,
                        level: r.level,
                        members,
                        role,
                    });
                }
                _ => ok = false,
            }
        }
        let mut volume_groups = Vec::new();
        for (i, v) in s.volume_groups.iter().enumerate() {
            let vp = path.key("volume_groups").elem(i, Some(&v.name));
            let name = self.parse(&vp.key("name"), &v.name);
            let pvs = self.parse_all(&vp.key("pvs"), &v.pvs);
            let pe_size =
                self.positive_size_or(&vp.key("pe_size"), v.pe_size.as_ref(), seed::PE_SIZE);
            match (name, pvs, pe_size) {
                (Some(name), Some(pvs), Some(pe_size)) => {
                    volume_groups.push(m::VolumeGroup { name, pvs, pe_size });
                }
                _ => ok = false,
            }
        }
        let mut logical_volumes = Vec::new();
        for (i, l) in s.logical_volumes.iter().enumerate() {
            let lp = path.key("logical_volumes").elem(i, Some(&l.name));
            let name = self.parse(&lp.key("name"), &l.name);
            let vg = self.parse(&lp.key("vg"), &l.vg);
            let size = self.positive_size(&lp.key("size"), &l.size.0);
            let role = self.role(&lp, Some(&l.mount), l.fstype, None);
            match (name, vg, size, role) {
                (Some(name), Some(vg), Some(size), Some(role)) => {
                    logical_volumes.push(m::LogicalVolume {
                        name,
                        vg,
                        size,
                        grow: l.grow,
                        role,
                    });
                }
                _ => ok = false,
            }
        }
        ok.then_some(m::PartitionScheme {
            partitions,
            raids,
            volume_groups,
            logical_volumes,
            label: s.disk_label.unwrap_or_default(),
        })
    }

    /// The `[defaults]` values checked where they are written, so that a bad one is reported
    /// once, at its own line, and not again at every host that takes it. A bad value is
    /// left out of the copy returned (the fabric has an error and renders nothing anyway).
    fn defaults(&mut self, file: &dto::FabricFile) -> dto::Defaults {
        let d = &file.defaults;
        let path = root().key("defaults");
        let mut out = d.clone();
        let dom0 = path.key("dom0");
        if let Some(m) = &d.dom0.memory {
            if self.positive_size(&dom0.key("memory"), &m.0).is_none() {
                out.dom0.memory = None;
            }
        }
        if d.dom0.vcpus.is_some() && self.count(&dom0.key("vcpus"), d.dom0.vcpus, 1).is_none() {
            out.dom0.vcpus = None;
        }
        let guest = path.key("guest");
        if let Some(m) = &d.guest.memory {
            if self.positive_size(&guest.key("memory"), &m.0).is_none() {
                out.guest.memory = None;
            }
        }
        if d.guest.vcpus.is_some() && self.count(&guest.key("vcpus"), d.guest.vcpus, 1).is_none() {
            out.guest.vcpus = None;
        }
        if let Some(size) = &d.guest.disk_size {
            if self
                .positive_size(&guest.key("disk_size"), &size.0)
                .is_none()
            {
                out.guest.disk_size = None;
            }
        }
        if let Some(vg) = &d.guest.vg {
            if self.parse::<LvmName>(&guest.key("vg"), vg).is_none() {
                out.guest.vg = None;
            }
        }
        // References, checked here too: an unknown `os` or `network` is one mistake, at its
        // line, not one more error at every `[[dom0s]]` or guest header that takes it.
        if let Some(os) = &d.dom0.os {
            if !self.known(&dom0.key("os"), "OS release", os, &file.os) {
                self.bad_defaults.insert("defaults.dom0.os");
                out.dom0.os = None;
            }
        }
        if let Some(network) = &d.dom0.network {
            if !self.known(&dom0.key("network"), "network", network, &file.networks) {
                self.bad_defaults.insert("defaults.dom0.network");
                out.dom0.network = None;
            }
        }
        if let Some(os) = &d.guest.os {
            if !self.known(&guest.key("os"), "OS release", os, &file.os) {
                self.bad_defaults.insert("defaults.guest.os");
                out.guest.os = None;
            }
        }
        out
    }

    fn dom0(
        &mut self,
        path: &FieldPath,
        d: &dto::Dom0,
        file: &dto::FabricFile,
        all_defaults: &dto::Defaults,
        hardware: &BTreeMap<Ident, m::Hardware>,
        networks: &BTreeMap<Ident, m::Network>,
    ) -> Option<m::Dom0> {
        let defaults = &all_defaults.dom0;
        let name = self.parse::<HostName>(&path.key("name"), &d.name);
        let ip = self.ipv4(&path.key("ip"), &d.ip);
        let mac = self.parse(&path.key("mac"), &d.mac);
        let hw_ok = self.known(
            &path.key("hardware"),
            "hardware profile",
            &d.hardware,
            &file.hardware,
        );
        let hw_name = self.parse::<Ident>(&path.key("hardware"), &d.hardware);
        let network = self.network_ref(
            &path.key("network"),
            d.network.as_deref().or(defaults.network.as_deref()),
            file,
        );
        let os_family =
            d.os.as_deref()
                .or(defaults.os.as_deref())
                .and_then(|o| file.os.get(o))
                .map(|o| o.family);
        let os = self.required_ref(
            &path.key("os"),
            d.os.as_deref().or(defaults.os.as_deref()),
            "OS release",
            "defaults.dom0.os",
            &file.os,
        );
        let memory = self.positive_size_or(
            &path.key("memory"),
            d.memory.as_ref().or(defaults.memory.as_ref()),
            seed::DOM0_MEMORY,
        );
        let vcpus = self.count(&path.key("vcpus"), d.vcpus.or(defaults.vcpus), 1);

        // The seed's layouts by default: software RAID-1 over two disks, or one disk as a
        // hardware RAID controller shows it.
        let visible = hw_name
            .as_ref()
            .and_then(|h| hardware.get(h))
            .map(|h| h.visible_disks().len());
        let partitioning = match (&d.partitioning, visible) {
            (Some(p), _) => {
                let known = self.known(
                    &path.key("partitioning"),
                    "partition scheme",
                    p,
                    &file.partition_schemes,
                );
                self.parse::<Ident>(&path.key("partitioning"), p)
                    .filter(|_| known)
            }
            (None, Some(n)) => self.parse(
                &path.key("partitioning"),
                if n >= 2 {
                    "seed-softraid1"
                } else {
                    "seed-hwraid10"
                },
            ),
            (None, None) => None,
        };

        let interfaces = match (mac.as_ref(), network.as_ref(), ip) {
            (Some(mac), Some(network), Some(ip)) => {
                self.interfaces(path, d, (*mac, ip), network, file, networks)
            }
            _ => None,
        };
        // A bad speed is reported and the dom0 kept without it: its other values still count.
        let serial_console = d
            .serial_console
            .and_then(|c| self.serial_console(&path.key("serial_console"), c));
        let kickstart = self.host_kickstart(path, d.kickstart.as_ref());
        let mut guests = Vec::with_capacity(d.guests.len());
        for (i, g) in d.guests.iter().enumerate() {
            // A guest with bad values is left out; its dom0 and the other guests still count.
            let gpath = path.key("guests").elem(i, Some(&g.name));
            guests.extend(self.guest(&gpath, g, network.as_ref(), file, &all_defaults.guest));
        }

        Some(m::Dom0 {
            name: name?,
            ip: ip?,
            mac: mac?,
            network: network?,
            interfaces: interfaces?,
            hardware: hw_name.filter(|_| hw_ok)?,
            os: os?,
            memory: memory?,
            vcpus: vcpus?,
            balloon: d.balloon.or(defaults.balloon).unwrap_or(false),
            // A Debian dom0 has only xl (no xend since Xen 4.5); the others keep the seed's xm.
            toolstack: d.toolstack.or(defaults.toolstack).unwrap_or(
                if os_family == Some(m::OsFamily::Debian) {
                    Toolstack::Xl
                } else {
                    Toolstack::Xm
                },
            ),
            serial_console,
            firmware: d.firmware,
            partitioning: partitioning?,
            state: d.state.or(defaults.state).unwrap_or_default(),
            wipe_guests: d.wipe_guests.unwrap_or(false),
            kickstart,
            guests,
            at: path.clone(),
        })
    }

    /// A dom0's NICs, bonds and bridges; the seed's one NIC `eth0` carrying its install network
    /// when the fabric file gives none. What refers to what is checked here (a bond's member,
    /// a bridge's device and network must exist); how they fit together (a NIC in two bonds,
    /// two bridges on one network) is validation's (`validate/interfaces.rs`).
    fn interfaces(
        &mut self,
        path: &FieldPath,
        d: &dto::Dom0,
        (mac, ip): (m::MacAddr, Ipv4Addr),
        network: &Ident,
        file: &dto::FabricFile,
        networks: &BTreeMap<Ident, m::Network>,
    ) -> Option<m::Interfaces> {
        let mut ok = true;
        let nics: Vec<m::Nic> = if d.nics.is_empty() {
            vec![m::Nic {
                name: self.ifname(path, seed::NIC)?,
                mac: Some(mac),
            }]
        } else {
            let mut nics = Vec::new();
            for (i, n) in d.nics.iter().enumerate() {
                let at = path.key("nics").elem(i, Some(&n.name));
                let name = self.ifname(&at.key("name"), &n.name);
                let nic_mac = match &n.mac {
                    Some(m) => self.parse(&at.key("mac"), m).map(Some),
                    None => Some(None),
                };
                match (name, nic_mac) {
                    (Some(name), Some(mac)) => nics.push(m::Nic { name, mac }),
                    _ => ok = false,
                }
            }
            nics
        };
        let mut bonds = Vec::new();
        for (i, b) in d.bonds.iter().enumerate() {
            let at = path.key("bonds").elem(i, Some(&b.name));
            let name = self.ifname(&at.key("name"), &b.name);
            let mut members = Vec::new();
            for (j, member) in b.members.iter().enumerate() {
                let mpath = at.key("members").elem(j, None);
                if nics.iter().any(|n| n.name.as_str() == member) {
                    members.extend(self.parse::<Ident>(&mpath, member));
                } else {
                    self.diags.error(
                        "unknown-reference",
                        mpath,
                        format!("`{}` is none of this dom0's nics", shown(member)),
                    );
                    ok = false;
                }
            }
            match name {
                Some(name) => bonds.push(m::Bond {
                    name,
                    mode: b.mode,
                    members,
                }),
                None => ok = false,
            }
        }
        let default_device = || {
            bonds
                .first()
                .map(|b: &m::Bond| b.name.clone())
                .or_else(|| nics.first().map(|n| n.name.clone()))
        };
        let mut bridges = Vec::new();
        if d.bridges.is_empty() {
            // A network that failed to lower has been reported.
            let net = networks.get(network)?;
            bridges.push(m::Bridge {
                network: network.clone(),
                bridge: net.bridge.clone(),
                device: default_device()?,
                vlan: net.vlan,
                ip: Some(ip),
            });
        }
        for (i, b) in d.bridges.iter().enumerate() {
            let at = path.key("bridges").elem(i, Some(&b.network));
            let known = self.known(&at.key("network"), "network", &b.network, &file.networks);
            let net_name = self.parse::<Ident>(&at.key("network"), &b.network);
            let device_known = nics.iter().any(|n| n.name.as_str() == b.device)
                || bonds.iter().any(|n| n.name.as_str() == b.device);
            if !device_known {
                self.diags.error(
                    "unknown-reference",
                    at.key("device"),
                    format!(
                        "`{}` is none of this dom0's nics and bonds",
                        shown(&b.device)
                    ),
                );
            }
            let device = self.parse::<Ident>(&at.key("device"), &b.device);
            let own = net_name.as_ref() == Some(network);
            let bridge_ip = match (&b.ip, own) {
                (Some(text), _) => self.ipv4(&at.key("ip"), text).map(Some),
                (None, true) => Some(Some(ip)),
                (None, false) => Some(None),
            };
            if own && bridge_ip.is_some_and(|b| b != Some(ip)) {
                self.diags.error(
                    "invalid-value",
                    at.key("ip"),
                    format!("the bridge of the install network `{network}` has the dom0's own ip {ip}: leave `ip` out here"),
                );
                ok = false;
                continue;
            }
            let net = net_name.as_ref().and_then(|n| networks.get(n));
            let bridge_name = net.map(|n| n.bridge.clone());
            let vlan = net.and_then(|n| n.vlan);
            match (
                known && device_known,
                net_name,
                device,
                bridge_name,
                bridge_ip,
            ) {
                (true, Some(network), Some(device), Some(bridge), Some(ip)) => {
                    bridges.push(m::Bridge {
                        network,
                        bridge,
                        device,
                        vlan,
                        ip,
                    });
                }
                _ => ok = false,
            }
        }
        if ok && !bridges.iter().any(|b| &b.network == network) {
            self.diags.error(
                "missing-value",
                path.key("bridges"),
                format!("no bridge carries the install network `{network}`, which the dom0 boots and is installed through: add `{{ network = \"{network}\", device = … }}`"),
            );
            return None;
        }
        ok.then_some(m::Interfaces {
            nics,
            bonds,
            bridges,
        })
    }

    /// A host's network: the one given, or the site's only one.
    fn network_ref(
        &mut self,
        path: &FieldPath,
        given: Option<&str>,
        file: &dto::FabricFile,
    ) -> Option<Ident> {
        match given {
            Some(n) => {
                let known = self.known(path, "network", n, &file.networks);
                self.parse(path, n).filter(|_| known)
            }
            // The default was unknown, and reported where it is written.
            None if self.bad_defaults.contains("defaults.dom0.network") => None,
            None if file.networks.len() == 1 => {
                let only = file.networks.keys().next()?;
                if self.broken.contains(&("network", only.clone())) {
                    return None;
                }
                self.parse(path, only)
            }
            None => {
                self.diags.error(
                    "missing-value",
                    path.clone(),
                    format!("no network given and the site has {} networks: set it here or in defaults.dom0.network", file.networks.len()),
                );
                None
            }
        }
    }

    fn required_ref<T>(
        &mut self,
        path: &FieldPath,
        given: Option<&str>,
        kind: &'static str,
        default_key: &str,
        table: &BTreeMap<String, T>,
    ) -> Option<Ident> {
        let Some(name) = given else {
            if !self.bad_defaults.contains(default_key) {
                self.diags.error(
                    "missing-value",
                    path.clone(),
                    format!("no {kind} given: set it here or in {default_key}"),
                );
            }
            return None;
        };
        let known = self.known(path, kind, name, table);
        self.parse(path, name).filter(|_| known)
    }

    fn guest(
        &mut self,
        path: &FieldPath,
        g: &dto::Guest,
        dom0_network: Option<&Ident>,
        file: &dto::FabricFile,
        defaults: &dto::GuestDefaults,
    ) -> Option<m::Guest> {
        let name = self.parse::<HostName>(&path.key("name"), &g.name);
        let ip = self.ipv4(&path.key("ip"), &g.ip);
        let (mac, mac_source) = self.guest_mac(path, g.mac.as_deref(), ip, file);
        let network = match &g.network {
            Some(_) => self.network_ref(&path.key("network"), g.network.as_deref(), file),
            None => dom0_network.cloned(),
        };
        let extra_nics: Option<Vec<m::GuestNic>> = g
            .extra_nics
            .iter()
            .enumerate()
            .map(|(i, n)| self.guest_nic(&path.key("extra_nics").elem(i, None), n, file))
            .collect::<Vec<_>>()
            .into_iter()
            .collect();
        let memory = self.positive_size_or(
            &path.key("memory"),
            g.memory.as_ref().or(defaults.memory.as_ref()),
            seed::GUEST_MEMORY,
        );
        let vcpus = self.count(&path.key("vcpus"), g.vcpus.or(defaults.vcpus), 1);
        let mode = g.mode.or(defaults.mode).unwrap_or(VirtMode::PvPypxeboot);
        let os_name = g.os.as_deref().or(defaults.os.as_deref());
        let os = self.required_ref(
            &path.key("os"),
            os_name,
            "OS release",
            "defaults.guest.os",
            &file.os,
        );
        let boot_image = match (&g.boot_image, os_name.and_then(|o| file.os.get(o))) {
            (Some(b), _) => {
                let known = self.known(&path.key("boot_image"), "boot image", b, &file.boot_images);
                self.parse::<Ident>(&path.key("boot_image"), b)
                    .filter(|_| known)
            }
            (None, Some(os)) => self.parse::<Ident>(&path.key("boot_image"), &os.boot_image),
            (None, None) => None,
        };
        let disks = self.guest_disks(path, g, mode, defaults);
        let kickstart = self.host_kickstart(path, g.kickstart.as_ref());
        let direct_boot = match &g.direct_boot {
            Some(b) => self.direct_boot(&path.key("direct_boot"), b).map(Some),
            None => Some(None),
        };

        Some(m::Guest {
            name: name?,
            ip: ip?,
            mac: mac?,
            mac_source,
            network: network?,
            extra_nics: extra_nics?,
            memory: memory?,
            vcpus: vcpus?,
            disks: disks?,
            mode,
            direct_boot: direct_boot?,
            os: os?,
            boot_image: boot_image?,
            on_poweroff: g
                .on_poweroff
                .or(defaults.on_poweroff)
                .unwrap_or(LifecycleAction::Destroy),
            on_reboot: g
                .on_reboot
                .or(defaults.on_reboot)
                .unwrap_or(LifecycleAction::Restart),
            on_crash: g
                .on_crash
                .or(defaults.on_crash)
                .unwrap_or(LifecycleAction::Restart),
            state: g.state.or(defaults.state).unwrap_or_default(),
            kickstart,
            at: path.clone(),
        })
    }

    /// Another NIC of a guest: its MAC given, or derived from its address as the first's is.
    fn guest_nic(
        &mut self,
        path: &FieldPath,
        n: &dto::GuestNic,
        file: &dto::FabricFile,
    ) -> Option<m::GuestNic> {
        let network = self.network_ref(&path.key("network"), Some(&n.network), file);
        let ip = self.ipv4(&path.key("ip"), &n.ip);
        let (mac, mac_source) = self.guest_mac(path, n.mac.as_deref(), ip, file);
        Some(m::GuestNic {
            ip: ip?,
            mac: mac?,
            mac_source,
            network: network?,
        })
    }

    /// A guest NIC's MAC: the one given, or the site's scheme's from its address.
    fn guest_mac(
        &mut self,
        path: &FieldPath,
        given: Option<&str>,
        ip: Option<Ipv4Addr>,
        file: &dto::FabricFile,
    ) -> (Option<m::MacAddr>, MacSource) {
        let scheme = file.site.mac_scheme.unwrap_or_default();
        match (given, ip) {
            (Some(mac), _) => (self.parse(&path.key("mac"), mac), MacSource::Explicit),
            (None, Some(ip)) => {
                if let Some(mac) = scheme.derive(ip) {
                    (Some(mac), MacSource::Derived(scheme))
                } else {
                    self.diags.error(
                        "missing-value",
                        path.key("mac"),
                        "the site's mac_scheme is `explicit`: every guest needs a `mac`",
                    );
                    (None, MacSource::Explicit)
                }
            }
            (None, None) => (None, MacSource::Derived(scheme)),
        }
    }

    /// A guest's direct boot: absolute paths and command-line words that xl's config and the
    /// guest's kernel read as they are.
    fn direct_boot(&mut self, path: &FieldPath, b: &dto::DirectBoot) -> Option<m::DirectBoot> {
        let kernel = self.parse(&path.key("kernel"), &b.kernel);
        let ramdisk = self.parse(&path.key("ramdisk"), &b.ramdisk);
        let cmdline = self.parse_all(&path.key("cmdline"), &b.cmdline);
        Some(m::DirectBoot {
            kernel: kernel?,
            ramdisk: ramdisk?,
            cmdline: cmdline?,
        })
    }

    /// A guest's disks: logical volume `<name>` for the first, `<name>-<vdev>` after it, in
    /// the default volume group, seen as `xvda`, `xvdb`, … (`hda`, … for HVM guests).
    fn guest_disks(
        &mut self,
        path: &FieldPath,
        g: &dto::Guest,
        mode: VirtMode,
        defaults: &dto::GuestDefaults,
    ) -> Option<Vec<m::GuestDisk>> {
        let default_size = defaults
            .disk_size
            .clone()
            .unwrap_or_else(|| dto::SizeText(seed::GUEST_DISK.to_string()));
        let one = [dto::GuestDisk {
            size: default_size,
            vg: None,
            lv: None,
            vdev: None,
        }];
        let disks = g.disks.as_deref().unwrap_or(&one);
        if disks.is_empty() {
            self.diags.error(
                "invalid-value",
                path.key("disks"),
                "a guest needs at least one disk",
            );
            return None;
        }
        if disks.len() > 26 {
            self.diags.error(
                "invalid-value",
                path.key("disks"),
                "a guest can have at most 26 disks",
            );
            return None;
        }
        let prefix = if mode.emulated_disks() { "hd" } else { "xvd" };
        let mut out = Vec::with_capacity(disks.len());
        let mut ok = true;
        for (i, d) in disks.iter().enumerate() {
            let dp = path.key("disks").elem(i, None);
            let letter = char::from(b'a' + u8::try_from(i).unwrap_or(0));
            let vdev_text = d
                .vdev
                .clone()
                .unwrap_or_else(|| format!("{prefix}{letter}"));
            let vdev = self.vdev(&dp.key("vdev"), &vdev_text);
            let lv_text = match (&d.lv, i) {
                (Some(lv), _) => lv.clone(),
                (None, 0) => g.name.clone(),
                (None, _) => format!("{}-{vdev_text}", g.name),
            };
            // A volume named after an invalid guest name is not reported twice.
            let lv = match &d.lv {
                None if g.name.parse::<HostName>().is_err() => None,
                _ => self.parse::<LvmName>(&dp.key("lv"), &lv_text),
            };
            let vg = self.parse::<LvmName>(
                &dp.key("vg"),
                d.vg.as_deref()
                    .or(defaults.vg.as_deref())
                    .unwrap_or(seed::GUEST_VG),
            );
            let size = self.positive_size(&dp.key("size"), &d.size.0);
            match (vg, lv, size, vdev) {
                (Some(vg), Some(lv), Some(size), Some(vdev)) => {
                    out.push(m::GuestDisk { vg, lv, size, vdev });
                }
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }
}

pub(crate) use crate::diagnostic::shown;

/// A family as the fabric file spells it.
fn family_name(family: m::OsFamily) -> &'static str {
    family.as_str()
}

#[cfg(test)]
mod tests {
    /// The diagnostics of the example with `install.ack_url = url`.
    fn ack_url_errors(url: &str) -> Vec<String> {
        let text = crate::EXAMPLE.replacen(
            "kickstart_url = ",
            &format!("ack_url = \"{url}\"\nkickstart_url = "),
            1,
        );
        match crate::load(&text, "f.toml") {
            Ok(_) => Vec::new(),
            Err(crate::Error::Invalid(diags)) => diags.iter().map(|d| d.message.clone()).collect(),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn ack_url_is_the_root_of_an_http_server() {
        assert!(ack_url_errors("http://192.168.96.1:8140").is_empty());
        assert!(ack_url_errors("http://192.168.96.1:8140/").is_empty());
        assert!(ack_url_errors("http://install.example.org").is_empty());
        assert_eq!(
            ack_url_errors("http://192.168.96.1:8140/ack"),
            [
                "invalid URL `http://192.168.96.1:8140/ack`: give the server's root (`http://HOST:PORT`), without a path"
            ]
        );
        assert_eq!(
            ack_url_errors("https://192.168.96.1"),
            [
                "invalid URL `https://192.168.96.1`: `xenfab serve` speaks plain http: the scheme must be http"
            ]
        );
        // what any URL is refused for comes first
        assert_eq!(
            ack_url_errors("http://x/'$(reboot)'"),
            [
                "invalid URL `http://x/\\'$(reboot)\\'`: only letters, digits and `-._~:/%+,=@` are allowed"
            ]
        );
    }

    #[test]
    fn mac_scheme_default_is_the_seeds() {
        assert_eq!(
            crate::model::MacScheme::default(),
            crate::model::MacScheme::XenLast3
        );
    }
}

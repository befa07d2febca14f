//! From compiled Quattor profiles to a fabric file: the paths Quattor sites already use.
//!
//! | fabric | profile paths |
//! |---|---|
//! | site domain | `/system/network/domainname` |
//! | install server | `/system/aii/dhcp/tftpserver`, `/system/aii/dhcp/filename`, the directory of `/system/aii/nbp/pxelinux/kslocation` |
//! | boot image | `/system/aii/nbp/pxelinux/{kernel,initrd,append}` |
//! | OS release | `/system/aii/osinstall/ks/{version,installtype}` (anaconda's version gives the family, and from 11.1.2.197 release 5.5), `/system/kernel/version`, `/hardware/cpu/0/arch` |
//! | kickstart | `/system/aii/osinstall/ks/{rootpw,timezone,lang,keyboard,packages,packages_args}` |
//! | network | `/system/network/{interfaces,default_gateway,nameserver}`, the bridge from `/software/components/xen/network/bridges` |
//! | hardware | `/hardware/harddisks/*/capacity`, `/hardware/ram/*/size`, `/hardware/cpu/*/cores` |
//! | partition scheme | `/system/blockdevices/{partitions,md,volume_groups,logical_volumes}`, `/system/filesystems` |
//! | dom0 | `/hardware/cards/nic/*/{hwaddr,boot}`, `dom0_mem` and `dom0_max_vcpus` from `/software/components/grub/kernels/*/mbargs` |
//! | guests | `/software/components/xen/domains/*/options` (ncm-xen: `memory`, `vcpus`, `vif`, `disk`, `bootloader`, `builder`, `on_*`) and each guest's own profile |
//!
//! A profile that binds xenfab's own schema at `/software/components/xenfab/fabric` (see
//! `schemas/pan/`) is read as a fabric file as it stands.
//!
//! Unknown paths are ignored. A missing required path is an error that names the profile and
//! the path; every such error of the whole profile set is reported at once.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use super::profile::Value;
use crate::diagnostic::{Diagnostics, FieldPath};
use crate::input::fabric_file::dto;

/// One compiled profile, with the name it is reported by.
#[derive(Debug)]
pub struct Profile {
    /// Its file name (`xen-host.example.org.xml`).
    pub name: String,
    /// Its contents.
    pub root: Value,
}

/// Where xenfab's own schema is bound in a profile.
pub const FABRIC_PATH: &str = "/software/components/xenfab/fabric";

/// Maps a set of profiles onto one fabric file, or reports every missing or wrong path.
pub fn fabric_file(profiles: &[Profile]) -> Result<dto::FabricFile, Diagnostics> {
    let mut cx = Cx {
        diags: Diagnostics::new(),
    };
    // A site that writes xenfab's own description in pan: take it as it is.
    if let Some((p, v)) = profiles
        .iter()
        .find_map(|p| p.root.get_path(FABRIC_PATH).map(|v| (p, v)))
    {
        let json = to_json(v);
        return serde_json::from_value(json).map_err(|e| {
            let mut d = Diagnostics::new();
            d.error(
                "quattor-invalid",
                FieldPath::root(),
                format!("{}: {FABRIC_PATH}: {e}", p.name),
            );
            d
        });
    }
    let file = cx.site(profiles);
    if cx.diags.has_errors() {
        return Err(cx.diags);
    }
    file.ok_or(cx.diags)
}

/// A pan value as JSON, for serde.
fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Nlist(n) => {
            serde_json::Value::Object(n.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
        Value::List(l) => serde_json::Value::Array(l.iter().map(to_json).collect()),
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Long(n) => serde_json::Value::from(*n),
        Value::Double(f) => serde_json::Value::from(*f),
        Value::Boolean(b) => serde_json::Value::Bool(*b),
    }
}

struct Cx {
    diags: Diagnostics,
}

/// A profile while it is read: its name for messages.
struct P<'a> {
    name: &'a str,
    root: &'a Value,
}

impl<'a> P<'a> {
    fn get(&self, path: &str) -> Option<&'a Value> {
        self.root.get_path(path)
    }

    fn str(&self, path: &str) -> Option<&'a str> {
        self.get(path).and_then(Value::as_str)
    }

    fn nlist(&self, path: &str) -> Vec<(&'a str, &'a Value)> {
        match self.get(path).and_then(Value::as_nlist) {
            Some(n) => n.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            None => Vec::new(),
        }
    }

    fn list(&self, path: &str) -> &'a [Value] {
        self.get(path).and_then(Value::as_list).unwrap_or(&[])
    }

    /// The strings of the list at `path` (other elements left out), owned.
    fn strings(&self, path: &str) -> Vec<String> {
        self.list(path)
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    }
}

impl Cx {
    fn missing(&mut self, p: &P<'_>, path: &str, what: &str) {
        self.diags.error(
            "quattor-missing",
            FieldPath::root(),
            format!("{}: {path}: missing ({what})", p.name),
        );
    }

    fn invalid(&mut self, p: &P<'_>, path: &str, why: &str) {
        self.diags.error(
            "quattor-invalid",
            FieldPath::root(),
            format!("{}: {path}: {why}", p.name),
        );
    }

    fn need_str<'a>(&mut self, p: &P<'a>, path: &str, what: &str) -> Option<&'a str> {
        let v = p.str(path);
        if v.is_none() {
            self.missing(p, path, what);
        }
        v
    }

    fn site(&mut self, profiles: &[Profile]) -> Option<dto::FabricFile> {
        let ps: Vec<P<'_>> = profiles
            .iter()
            .map(|p| P {
                name: &p.name,
                root: &p.root,
            })
            .collect();
        let fqdn_of = |p: &P<'_>| -> Option<String> {
            Some(format!(
                "{}.{}",
                p.str("/system/network/hostname")?,
                p.str("/system/network/domainname")?
            ))
        };
        let by_fqdn: BTreeMap<String, &P<'_>> = ps
            .iter()
            .filter_map(|p| fqdn_of(p).map(|f| (f, p)))
            .collect();
        let dom0s: Vec<&P<'_>> = ps
            .iter()
            .filter(|p| !p.nlist("/software/components/xen/domains").is_empty())
            .collect();
        if dom0s.is_empty() {
            self.diags.error(
                "quattor-missing",
                FieldPath::root(),
                "no profile describes a dom0: none has guests under /software/components/xen/domains",
            );
            return None;
        }

        let first = dom0s[0];
        let domain = self
            .need_str(first, "/system/network/domainname", "the site's domain")?
            .to_owned();
        // Missing site-wide paths are reported, and every host is still read for its own.
        let install = self.install(first);
        let kickstart = self.kickstart(first, true);
        let mut file = dto::FabricFile {
            version: dto::FORMAT_VERSION,
            site: dto::Site {
                name: "quattor".to_owned(),
                domain: domain.clone(),
                mac_scheme: Some(crate::model::MacScheme::Explicit),
                hypervisor_memory: None,
            },
            install: install.clone().unwrap_or_else(|| dto::Install {
                next_server: None,
                boot_file: None,
                boot_files: None,
                dhcp_interfaces: None,
                tftp_root: None,
                kickstart_url: String::new(),
                ack_url: None,
            }),
            kickstart: kickstart.clone().unwrap_or_else(|| dto::Kickstart {
                root_password: String::new(),
                timezone: None,
                lang: None,
                keyboard: None,
                resolvedeps: false,
                repos: Vec::new(),
                dom0: dto::KickstartRole::default(),
                guest: dto::KickstartRole::default(),
                allow_default_password: false,
            }),
            boot_images: BTreeMap::new(),
            os: BTreeMap::new(),
            networks: BTreeMap::new(),
            hardware: BTreeMap::new(),
            partition_schemes: BTreeMap::new(),
            defaults: dto::Defaults::default(),
            dom0s: Vec::new(),
            dns: None,
        };
        let mut guest_packages: Option<Vec<String>> = None;

        for p in &dom0s {
            if p.str("/system/network/domainname") != Some(domain.as_str()) {
                self.invalid(
                    p,
                    "/system/network/domainname",
                    &format!("every host of a fabric is in one domain, `{domain}`"),
                );
            }
            // Everything of the dom0 and of each guest is read, so that every missing path is
            // reported in one run; the dom0 joins the fabric only when all of it is there.
            let host = self.host(p, &mut file);
            let hw = self.hardware(p);
            let scheme = self.scheme(p);
            let mut guests = Vec::new();
            for (key, domain_value) in p.nlist("/software/components/xen/domains") {
                // Only for messages: a hostile key is shown escaped and cut short.
                let base = format!(
                    "/software/components/xen/domains/{}",
                    crate::input::fabric_file::shown(key)
                );
                let Some(guest_profile) = by_fqdn
                    .get(key)
                    .copied()
                    .or_else(|| by_fqdn.get(&format!("{key}.{domain}")).copied())
                else {
                    self.diags.error(
                        "quattor-missing",
                        FieldPath::root(),
                        format!("{}: {base}: no profile of guest `{}` in the profile set: its address and OS are unknown", p.name, crate::input::fabric_file::shown(key)),
                    );
                    continue;
                };
                if let Some(mut g) = self.guest(p, &base, domain_value, guest_profile, &mut file) {
                    if guest_packages.is_none() {
                        guest_packages = self
                            .kickstart(guest_profile, false)
                            .and_then(|k| k.guest.packages);
                    }
                    g.kickstart = host_kickstart(guest_profile, &file.kickstart);
                    guests.push(g);
                }
            }
            let (memory, vcpus) = self.dom0_resources(p);
            let (Some(host), Some(hw), Some(scheme)) = (host, hw, scheme) else {
                continue;
            };
            let hw_name = format!("hw-{}", host.name);
            let scheme_name = format!("layout-{}", host.name);
            // A profile whose layout has an EFI System Partition installs a UEFI machine: AII
            // has no firmware setting of its own (its ks hook and grub2-efi netboot follow how
            // the machine started), and a site lays out an ESP only for UEFI.
            let firmware = scheme
                .partitions
                .iter()
                .any(|q| q.mount.as_deref() == Some(crate::model::ESP_MOUNT))
                .then_some(crate::model::Firmware::Uefi);
            file.hardware.insert(hw_name.clone(), hw);
            file.partition_schemes.insert(scheme_name.clone(), scheme);
            let family = file.os.get(&host.os).map(|o| o.family);
            let kickstart = host_kickstart(p, &file.kickstart)
                .map(|mut k| {
                    if k.packages == file.kickstart.dom0.packages {
                        k.packages = None;
                    }
                    k
                })
                .filter(|k| *k != dto::KickstartOverride::default());
            file.dom0s.push(dto::Dom0 {
                name: host.name.clone(),
                ip: host.ip,
                mac: host.mac,
                hardware: hw_name,
                network: Some(host.network),
                nics: Vec::new(),
                bonds: Vec::new(),
                bridges: Vec::new(),
                os: Some(host.os),
                memory,
                vcpus,
                balloon: None,
                toolstack: Some(if family == Some(crate::model::OsFamily::El9) {
                    crate::model::Toolstack::Xl
                } else {
                    crate::model::Toolstack::Xm
                }),
                partitioning: Some(scheme_name),
                serial_console: None,
                firmware,
                state: None,
                wipe_guests: None,
                kickstart,
                guests,
            });
        }
        // A guest's own packages are its override only where they differ from the site's
        // (the first guest's).
        for g in file.dom0s.iter_mut().flat_map(|d| d.guests.iter_mut()) {
            if let Some(k) = &mut g.kickstart {
                if k.packages == guest_packages {
                    k.packages = None;
                }
            }
            if g.kickstart.as_ref() == Some(&dto::KickstartOverride::default()) {
                g.kickstart = None;
            }
        }
        file.kickstart.guest.packages = guest_packages;
        (install.is_some() && kickstart.is_some()).then_some(file)
    }

    fn install(&mut self, p: &P<'_>) -> Option<dto::Install> {
        let next_server = p.str("/system/aii/dhcp/tftpserver").map(str::to_owned);
        let ks = self.need_str(
            p,
            "/system/aii/nbp/pxelinux/kslocation",
            "where kickstart files are served",
        )?;
        let base = if has_control(ks) {
            Some((ks, ""))
        } else {
            ks.rsplit_once('/')
        };
        let Some((base, _file)) = base else {
            self.invalid(p, "/system/aii/nbp/pxelinux/kslocation", "not a URL");
            return None;
        };
        Some(dto::Install {
            next_server,
            boot_file: p.str("/system/aii/dhcp/filename").map(str::to_owned),
            boot_files: None,
            dhcp_interfaces: None,
            tftp_root: None,
            kickstart_url: base.to_owned(),
            // AII's own `ks/ackurl` names its CGI script, not a `xenfab serve`: not mapped.
            ack_url: None,
        })
    }

    fn kickstart(&mut self, p: &P<'_>, dom0: bool) -> Option<dto::Kickstart> {
        const KS: &str = "/system/aii/osinstall/ks";
        let root_password = self
            .need_str(p, &format!("{KS}/rootpw"), "the crypted root password")?
            .to_owned();
        let packages = p.strings(&format!("{KS}/packages"));
        let resolvedeps = p
            .list(&format!("{KS}/packages_args"))
            .iter()
            .any(|a| a.as_str() == Some("--resolvedeps"));
        let role = dto::KickstartRole {
            packages: (!packages.is_empty()).then_some(packages),
            ..dto::KickstartRole::default()
        };
        Some(dto::Kickstart {
            root_password,
            timezone: p.str(&format!("{KS}/timezone")).map(str::to_owned),
            lang: p.str(&format!("{KS}/lang")).map(str::to_owned),
            keyboard: p.str(&format!("{KS}/keyboard")).map(str::to_owned),
            resolvedeps,
            repos: Vec::new(),
            dom0: if dom0 {
                role.clone()
            } else {
                dto::KickstartRole::default()
            },
            guest: if dom0 {
                dto::KickstartRole::default()
            } else {
                role
            },
            allow_default_password: false,
        })
    }

    /// What every host profile gives: its name, address, MAC, network, OS and boot image.
    fn host(&mut self, p: &P<'_>, file: &mut dto::FabricFile) -> Option<Host> {
        let name = self
            .need_str(p, "/system/network/hostname", "the host name")?
            .to_owned();
        // The interface that boots: the NIC marked `boot`, else the one with an address.
        let nics = p.nlist("/hardware/cards/nic");
        let boot_nic = nics
            .iter()
            .find(|(_, v)| v.get_path("/boot").and_then(Value::as_bool) == Some(true))
            .or_else(|| {
                nics.iter().find(|(k, _)| {
                    p.str(&format!("/system/network/interfaces/{k}/ip"))
                        .is_some()
                })
            })
            .map(|(k, _)| *k);
        let Some(nic) = boot_nic else {
            self.missing(
                p,
                "/hardware/cards/nic",
                "a NIC marked `boot`, with its `hwaddr`",
            );
            return None;
        };
        let mac = self
            .need_str(
                p,
                &format!("/hardware/cards/nic/{nic}/hwaddr"),
                "the MAC of the boot NIC",
            )?
            .to_owned();
        let ip = self
            .need_str(
                p,
                &format!("/system/network/interfaces/{nic}/ip"),
                "the address of the boot NIC",
            )?
            .to_owned();
        let netmask = self.need_str(
            p,
            &format!("/system/network/interfaces/{nic}/netmask"),
            "the netmask of the boot NIC",
        )?;
        let gateway = self
            .need_str(p, "/system/network/default_gateway", "the default gateway")?
            .to_owned();
        let (Ok(address), Ok(mask)) = (ip.parse::<Ipv4Addr>(), netmask.parse::<Ipv4Addr>()) else {
            self.invalid(
                p,
                &format!("/system/network/interfaces/{nic}"),
                "ip or netmask is not an IPv4 address",
            );
            return None;
        };
        let Ok(net) = ipnet::Ipv4Net::with_netmask(address, mask) else {
            self.invalid(
                p,
                &format!("/system/network/interfaces/{nic}/netmask"),
                "not a netmask",
            );
            return None;
        };
        let subnet = net.trunc();
        let bridge = p
            .nlist("/software/components/xen/network/bridges")
            .into_iter()
            .find(|(_, b)| b.get_path("/netdev").and_then(Value::as_str) == Some(nic))
            .map(|(k, _)| k.to_owned());
        let network = format!("net-{}", subnet.network()).replace('.', "-");
        let dns = p.strings("/system/network/nameserver");
        let entry = file
            .networks
            .entry(network.clone())
            .or_insert_with(|| dto::Network {
                subnet: subnet.to_string(),
                vlan: None,
                gateway: gateway.clone(),
                dns: dns.clone(),
                bridge: None,
                next_server: None,
                host_only: None,
            });
        if entry.bridge.is_none() {
            entry.bridge = bridge;
        }

        let os = self.os(p, file)?;
        Some(Host {
            name,
            ip,
            mac,
            network,
            os,
        })
    }

    /// The OS release of a profile, by anaconda's version, with its boot image.
    fn os(&mut self, p: &P<'_>, file: &mut dto::FabricFile) -> Option<String> {
        const KS: &str = "/system/aii/osinstall/ks";
        let version = self.need_str(
            p,
            &format!("{KS}/version"),
            "anaconda's version, which gives the kickstart dialect",
        )?;
        let major: u32 = version
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        let family = match major {
            9 => crate::model::OsFamily::El3,
            10 => crate::model::OsFamily::El4,
            11 => crate::model::OsFamily::El5,
            34 => crate::model::OsFamily::El9,
            _ => {
                self.invalid(p, &format!("{KS}/version"), &format!("anaconda {version} is not one xenfab writes kickstart files for (EL3 to EL5: 9 to 11, EL9: 34)"));
                return None;
            }
        };
        let installtype = self.need_str(
            p,
            &format!("{KS}/installtype"),
            "the installation tree (`url --url …`)",
        )?;
        let url = if has_control(installtype) {
            Some(installtype)
        } else {
            installtype.split_whitespace().find(|w| w.contains("://"))
        };
        let Some(install_url) = url else {
            self.invalid(p, &format!("{KS}/installtype"), "no URL in it");
            return None;
        };
        let kernel = self.need_str(
            p,
            "/system/aii/nbp/pxelinux/kernel",
            "the installer's kernel",
        )?;
        let initrd = self.need_str(
            p,
            "/system/aii/nbp/pxelinux/initrd",
            "the installer's initrd",
        )?;
        let image = kernel
            .rsplit_once('/')
            .map_or(kernel, |(dir, _)| dir)
            .replace('/', "-");
        let append: Vec<String> = p
            .str("/system/aii/nbp/pxelinux/append")
            .map(|a| a.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        file.boot_images
            .entry(image.clone())
            .or_insert_with(|| dto::BootImage {
                kernel: kernel.to_owned(),
                initrd: initrd.to_owned(),
                append,
            });
        // EL5 names Xen's files after the kernel without its `xen` suffix.
        let kernel_version = p
            .str("/system/kernel/version")
            .map(|v| v.strip_suffix("xen").unwrap_or(v).to_owned());
        let arch = match p.str("/hardware/cpu/0/arch") {
            Some("i386" | "i486" | "i586" | "i686") => Some(crate::model::Arch::I386),
            _ => None,
        };
        let name = format!("{image}-{}", family.as_str());
        let release = release_of_anaconda(version);
        let entry = file.os.entry(name.clone()).or_insert_with(|| dto::Os {
            family,
            release,
            install_url: install_url.to_owned(),
            boot_image: image,
            kernel_version: None,
            arch,
            xen_repo: None,
            debootstrap_tarball: None,
            kickstart: None,
        });
        if entry.kernel_version.is_none() {
            entry.kernel_version = kernel_version;
        }
        Some(name)
    }

    fn hardware(&mut self, p: &P<'_>) -> Option<dto::Hardware> {
        let disks: Vec<dto::Disk> = p
            .nlist("/hardware/harddisks")
            .into_iter()
            .filter_map(|(name, d)| {
                d.get_path("/capacity")
                    .and_then(Value::as_i64)
                    .map(|c| dto::Disk {
                        name: name.to_owned(),
                        size: dto::SizeText(c.to_string()),
                    })
            })
            .collect();
        if disks.is_empty() {
            self.missing(
                p,
                "/hardware/harddisks",
                "the disks and their capacity in MB",
            );
            return None;
        }
        // Sums of values from the profile: checked, so that hostile sizes cannot overflow.
        let sizes: Vec<i64> = p
            .list("/hardware/ram")
            .iter()
            .filter_map(|r| r.get_path("/size").and_then(Value::as_i64))
            .collect();
        if sizes.is_empty() {
            self.missing(
                p,
                "/hardware/ram",
                "the memory modules and their size in MB",
            );
            return None;
        }
        let ram = sizes.iter().try_fold(0_i64, |sum, &s| {
            (s > 0).then(|| sum.checked_add(s)).flatten()
        });
        let Some(ram) = ram else {
            self.invalid(
                p,
                "/hardware/ram",
                "every module's size must be a number of MB above 0, and their sum a size",
            );
            return None;
        };
        let cpus = p
            .list("/hardware/cpu")
            .iter()
            .map(|c| c.get_path("/cores").and_then(Value::as_i64).unwrap_or(1))
            .try_fold(0_u32, |sum, cores| {
                u32::try_from(cores)
                    .ok()
                    .filter(|&c| c > 0)
                    .and_then(|c| sum.checked_add(c))
            });
        let Some(cpus) = cpus else {
            self.invalid(
                p,
                "/hardware/cpu",
                "every CPU's `cores` must be a count above 0, and their sum a count",
            );
            return None;
        };
        Some(dto::Hardware {
            ram: dto::SizeText(ram.to_string()),
            cpus: cpus.max(1),
            raid: None,
            disks,
            serial_console: None,
            firmware: None,
        })
    }

    /// dom0's memory and vCPUs from the hypervisor's line in ncm-grub (`mbargs`).
    fn dom0_resources(&mut self, p: &P<'_>) -> (Option<dto::SizeText>, Option<u32>) {
        let mbargs: Vec<&str> = p
            .list("/software/components/grub/kernels")
            .iter()
            .find_map(|k| k.get_path("/mbargs").and_then(Value::as_str))
            .map(|a| a.split_whitespace().collect())
            .unwrap_or_default();
        let arg = |key: &str| mbargs.iter().find_map(|a| a.strip_prefix(key));
        // `dom0_mem=1024M` or `dom0_mem=1024M,max:1024M`: the first value.
        let memory =
            arg("dom0_mem=").map(|m| dto::SizeText(m.split(',').next().unwrap_or(m).to_owned()));
        let vcpus = arg("dom0_max_vcpus=").and_then(|v| {
            let n = v.parse().ok();
            if n.is_none() {
                self.invalid(
                    p,
                    "/software/components/grub/kernels",
                    &format!(
                        "`dom0_max_vcpus={}` in mbargs is not a count",
                        crate::input::fabric_file::shown(v)
                    ),
                );
            }
            n
        });
        (memory, vcpus)
    }

    /// The partition scheme of `/system/blockdevices` and `/system/filesystems`.
    fn scheme(&mut self, p: &P<'_>) -> Option<dto::PartitionScheme> {
        const BD: &str = "/system/blockdevices";
        if p.get(BD).is_none() {
            self.missing(p, BD, "the partitions, arrays and volumes of dom0's disks");
            return None;
        }
        // What each block device is used as: a file system (by `/system/filesystems`), a RAID
        // member (by an `md` device list), a physical volume (by a volume group's device list).
        let mut mounts: BTreeMap<String, (String, Option<crate::model::FsType>)> = BTreeMap::new();
        for fs in p.list("/system/filesystems") {
            let (Some(dev), Some(mount)) = (
                fs.get_path("/block_device").and_then(Value::as_str),
                fs.get_path("/mountpoint").and_then(Value::as_str),
            ) else {
                continue;
            };
            let fstype = match fs.get_path("/type").and_then(Value::as_str) {
                Some("ext2") => Some(crate::model::FsType::Ext2),
                Some("ext4") => Some(crate::model::FsType::Ext4),
                Some("xfs") => Some(crate::model::FsType::Xfs),
                // AII's ESP: `vfat` at /boot/efi (xenfab's `efi`, docs/uefi.md)
                Some("vfat" | "efi") if mount == crate::model::ESP_MOUNT => {
                    Some(crate::model::FsType::Efi)
                }
                _ => None,
            };
            mounts.insert(dev.to_owned(), (mount.to_owned(), fstype));
        }
        let members: BTreeSet<String> = p
            .nlist(&format!("{BD}/md"))
            .into_iter()
            .flat_map(|(_, md)| device_list(md).map(str::to_owned))
            .collect();
        let pvs: BTreeSet<String> = p
            .nlist(&format!("{BD}/volume_groups"))
            .into_iter()
            .flat_map(|(_, vg)| device_list(vg).map(str::to_owned))
            .collect();
        let role = |dev: &str| -> (
            Option<String>,
            Option<crate::model::FsType>,
            Option<dto::Use>,
        ) {
            if let Some((mount, fstype)) = mounts.get(dev) {
                (Some(mount.clone()), *fstype, None)
            } else if members.contains(dev) {
                (None, None, Some(dto::Use::Raid))
            } else if pvs.contains(dev) {
                (None, None, Some(dto::Use::Pv))
            } else {
                (None, None, None)
            }
        };
        let mut scheme = dto::PartitionScheme::default();
        for (name, part) in p.nlist(&format!("{BD}/partitions")) {
            let dev = format!("partitions/{name}");
            let (mount, fstype, used) = role(&dev);
            if mount.is_none() && used.is_none() {
                continue; // a partition nothing uses: not xenfab's business
            }
            let Some(disk) = part.get_path("/holding_dev").and_then(Value::as_str) else {
                self.missing(
                    p,
                    &format!("{BD}/partitions/{name}/holding_dev"),
                    "the disk the partition is on",
                );
                continue;
            };
            let size = part.get_path("/size").and_then(Value::as_i64);
            scheme.partitions.push(dto::Partition {
                id: Some(name.to_owned()),
                disk: disk.to_owned(),
                size: dto::SizeText(size.unwrap_or(1).to_string()),
                grow: size.is_none(),
                primary: part.get_path("/type").and_then(Value::as_str) != Some("logical"),
                mount,
                fstype,
                role: used,
            });
        }
        // AII's partition table of a disk (`physical_devs/<disk>/label`): a GPT one makes the
        // scheme's `disk_label = "gpt"`
        let gpt = p
            .nlist(&format!("{BD}/physical_devs"))
            .into_iter()
            .any(|(disk, d)| {
                d.get_path("/label").and_then(Value::as_str) == Some("gpt")
                    && scheme.partitions.iter().any(|q| q.disk == disk)
            });
        if gpt {
            scheme.disk_label = Some(crate::model::DiskLabel::Gpt);
        }
        for (name, md) in p.nlist(&format!("{BD}/md")) {
            let dev = format!("md/{name}");
            let (mount, fstype, used) = role(&dev);
            let level = match md
                .get_path("/raid_level")
                .and_then(Value::as_str)
                .map(str::to_ascii_uppercase)
                .as_deref()
            {
                Some("RAID0") => crate::model::RaidLevel::Raid0,
                Some("RAID1") => crate::model::RaidLevel::Raid1,
                Some("RAID5") => crate::model::RaidLevel::Raid5,
                Some("RAID6") => crate::model::RaidLevel::Raid6,
                Some("RAID10") => crate::model::RaidLevel::Raid10,
                _ => {
                    self.invalid(
                        p,
                        &format!("{BD}/md/{name}/raid_level"),
                        "expected RAID0, RAID1, RAID5, RAID6 or RAID10",
                    );
                    continue;
                }
            };
            let members = device_list(md)
                .map(|m| m.strip_prefix("partitions/").unwrap_or(m).to_owned())
                .collect();
            scheme.raids.push(dto::Raid {
                id: (used == Some(dto::Use::Pv)).then(|| name.to_owned()),
                device: name.to_owned(),
                level,
                members,
                mount,
                fstype,
                role: used,
            });
        }
        for (name, vg) in p.nlist(&format!("{BD}/volume_groups")) {
            let pvs = device_list(vg)
                .map(|d| d.rsplit('/').next().unwrap_or(d).to_owned())
                .collect();
            scheme.volume_groups.push(dto::VolumeGroup {
                name: name.to_owned(),
                pvs,
                pe_size: None,
            });
        }
        for (name, lv) in p.nlist(&format!("{BD}/logical_volumes")) {
            let dev = format!("logical_volumes/{name}");
            let Some((mount, fstype)) = mounts.get(&dev).cloned() else {
                continue;
            };
            let (Some(vg), Some(size)) = (
                lv.get_path("/volume_group").and_then(Value::as_str),
                lv.get_path("/size").and_then(Value::as_i64),
            ) else {
                self.missing(
                    p,
                    &format!("{BD}/logical_volumes/{name}"),
                    "its volume_group and size",
                );
                continue;
            };
            scheme.logical_volumes.push(dto::LogicalVolume {
                name: name.to_owned(),
                vg: vg.to_owned(),
                size: dto::SizeText(size.to_string()),
                grow: false,
                mount,
                fstype,
            });
        }
        Some(scheme)
    }

    /// A guest from its dom0's ncm-xen entry and its own profile.
    fn guest(
        &mut self,
        dom0: &P<'_>,
        base: &str,
        entry: &Value,
        own: &P<'_>,
        file: &mut dto::FabricFile,
    ) -> Option<dto::Guest> {
        let opt = |key: &str| entry.get_path(&format!("/options/{key}"));
        let host = self.host(own, file)?;
        // The MAC ncm-xen gives the vif must be the NIC the guest's own profile describes.
        let vif = opt("vif")
            .and_then(Value::as_list)
            .and_then(|l| l.first())
            .and_then(Value::as_str);
        let vif_mac = vif.and_then(|v| v.split(',').find_map(|kv| kv.trim().strip_prefix("mac=")));
        if let Some(m) = vif_mac {
            if !m.eq_ignore_ascii_case(&host.mac) {
                self.invalid(
                    dom0,
                    &format!("{base}/options/vif/0"),
                    &format!(
                        "MAC {} is not the MAC {} that {}'s own profile gives its NIC",
                        crate::input::fabric_file::shown(m),
                        crate::input::fabric_file::shown(&host.mac),
                        own.name
                    ),
                );
            }
        }
        let mode = match (
            opt("builder").and_then(Value::as_str),
            opt("type").and_then(Value::as_str),
            opt("bootloader").and_then(Value::as_str),
        ) {
            (Some("hvm"), _, _) | (_, Some("hvm"), _) => crate::model::VirtMode::Hvm,
            (_, Some("pvh"), _) => crate::model::VirtMode::Pvh,
            (_, _, Some(b)) if b.ends_with("pypxeboot") => crate::model::VirtMode::PvPypxeboot,
            _ => crate::model::VirtMode::PvPygrub,
        };
        let mut disks = Vec::new();
        for (i, d) in opt("disk")
            .and_then(Value::as_list)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let at = format!("{base}/options/disk/{i}");
            match d {
                Value::Nlist(_) => {
                    let field = |k: &str| d.get_path(&format!("/{k}"));
                    if field("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t != "lvm")
                    {
                        self.invalid(
                            dom0,
                            &format!("{at}/type"),
                            "only `lvm` disks are xenfab's: a guest disk is a logical volume",
                        );
                        continue;
                    }
                    let (Some(vg), Some(lv), Some(size)) = (
                        field("hostdevice").and_then(Value::as_str),
                        field("hostvol").and_then(Value::as_str),
                        field("size").and_then(Value::as_i64),
                    ) else {
                        self.missing(dom0, &at, "hostdevice (the volume group), hostvol and size");
                        continue;
                    };
                    disks.push(dto::GuestDisk {
                        size: dto::SizeText(size.to_string()),
                        vg: Some(vg.to_owned()),
                        lv: Some(lv.to_owned()),
                        vdev: field("guestdevice")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                    });
                }
                _ => self.invalid(
                    dom0,
                    &at,
                    "expected ncm-xen's disk nlist (type, hostdevice, hostvol, size, guestdevice)",
                ),
            }
        }
        if disks.is_empty() {
            self.missing(dom0, &format!("{base}/options/disk"), "the guest's disks");
            return None;
        }
        let mut action = |key: &str| -> Option<crate::model::LifecycleAction> {
            let text = opt(key)?.as_str();
            let action = text
                .and_then(|a| serde_json::from_value(serde_json::Value::String(a.to_owned())).ok());
            if action.is_none() {
                self.invalid(
                    dom0,
                    &format!("{base}/options/{key}"),
                    "expected destroy, restart, preserve, rename-restart, coredump-destroy or coredump-restart",
                );
            }
            action
        };
        let on_poweroff = action("on_poweroff");
        let on_reboot = action("on_reboot");
        let on_crash = action("on_crash");
        let vcpus = match opt("vcpus") {
            None => None,
            Some(v) => {
                let n = v.as_i64().and_then(|n| u32::try_from(n).ok());
                if n.is_none() {
                    self.invalid(
                        dom0,
                        &format!("{base}/options/vcpus"),
                        "expected a count of vCPUs",
                    );
                }
                n
            }
        };
        let memory = match opt("memory") {
            None => None,
            Some(v) => {
                if v.as_i64().is_none() {
                    self.invalid(
                        dom0,
                        &format!("{base}/options/memory"),
                        "expected a number of MB",
                    );
                }
                v.as_i64().map(|m| dto::SizeText(m.to_string()))
            }
        };
        Some(dto::Guest {
            name: host.name,
            ip: host.ip,
            mac: Some(vif_mac.map_or(host.mac, str::to_owned)),
            network: Some(host.network),
            extra_nics: Vec::new(),
            memory,
            vcpus,
            disks: Some(disks),
            mode: Some(mode),
            direct_boot: None,
            os: Some(host.os),
            boot_image: None,
            on_poweroff,
            on_reboot,
            on_crash,
            state: None,
            kickstart: None,
        })
    }
}

/// The devices an `md` array or a volume group lists (`partitions/sda1`, `md/md1`).
fn device_list(v: &Value) -> impl Iterator<Item = &str> {
    v.get_path("/device_list")
        .and_then(Value::as_list)
        .unwrap_or(&[])
        .iter()
        .filter_map(Value::as_str)
}

/// What xenfab needs of any host's profile.
struct Host {
    name: String,
    ip: String,
    mac: String,
    network: String,
    os: String,
}

/// Whether a string holds a control character or a line separator. The mapping takes some
/// strings apart itself (the URL in `installtype`, the directory of `kslocation`), which
/// could drop such a character silently: those are passed on whole instead, so that lowering
/// refuses them at the field they become.
fn has_control(text: &str) -> bool {
    text.chars()
        .any(|c| (c.is_control() && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}'))
}

/// The release a profile's anaconda version (`/system/aii/osinstall/ks/version`) tells apart
/// from its family's first, for what the release table decides: anaconda 11.1.2.197 and later
/// is RHEL 5.5 or later (its changelog adds `bootloader --hvargs` there, rhbz#501438). Other
/// versions leave the family's first release, which writes nothing an older installer refuses.
fn release_of_anaconda(version: &str) -> Option<String> {
    let parts: Vec<u32> = version.split('.').map_while(|p| p.parse().ok()).collect();
    (parts.first() == Some(&11) && parts.as_slice() >= [11, 1, 2, 197].as_slice())
        .then(|| "5.5".to_owned())
}

/// A host profile's own `/system/aii/osinstall/ks/*` (AII renders each host's kickstart from
/// its own profile): where its root password, time zone, language, keyboard or packages differ
/// from the site's (the first dom0's), they become the host's kickstart settings. A path the
/// profile lacks is the site's; packages are compared by the caller, who knows the role's.
fn host_kickstart(p: &P<'_>, site: &dto::Kickstart) -> Option<dto::KickstartOverride> {
    const KS: &str = "/system/aii/osinstall/ks";
    let differs = |key: &str, site: Option<&str>| {
        p.str(&format!("{KS}/{key}"))
            .filter(|v| Some(*v) != site)
            .map(str::to_owned)
    };
    let packages = p.strings(&format!("{KS}/packages"));
    let k = dto::KickstartOverride {
        root_password: differs("rootpw", Some(&site.root_password)),
        timezone: differs("timezone", site.timezone.as_deref()),
        lang: differs("lang", site.lang.as_deref()),
        keyboard: differs("keyboard", site.keyboard.as_deref()),
        repos: None,
        packages: (!packages.is_empty()).then_some(packages),
        post: None,
        // AII's `pre_install_script`/`post_install_script` name scripts by URL
        // (aii-ks's schema: `type_absoluteURI`), not their text: not mapped.
        pre: None,
        services: dto::ServicesOverride {
            enabled: services(p, "enable_service"),
            disabled: services(p, "disable_service"),
        },
    };
    (k != dto::KickstartOverride::default()).then_some(k)
}

/// A host profile's `/system/aii/osinstall/ks/enable_service` or `disable_service` (lists of
/// names in aii-ks's ks schema; aii@942f8054's `kickstart_pre_blocksize` fixture, compiled in
/// quattor-samples, has both), as the host's own `services.enabled` or `services.disabled`
/// when it lists any: AII renders each host's kickstart from its own profile, so every host
/// keeps its own lists. Strings only, as for `packages`.
fn services(p: &P<'_>, key: &str) -> Option<Vec<String>> {
    let list = p.strings(&format!("/system/aii/osinstall/ks/{key}"));
    (!list.is_empty()).then_some(list)
}

#[cfg(test)]
mod release_tests {
    use super::release_of_anaconda;

    #[test]
    fn anaconda_versions_give_releases() {
        assert_eq!(release_of_anaconda("11.1.2.197").as_deref(), Some("5.5"));
        assert_eq!(release_of_anaconda("11.1.2.259").as_deref(), Some("5.5"));
        assert_eq!(release_of_anaconda("11.1.2.113"), None);
        assert_eq!(release_of_anaconda("11"), None);
        assert_eq!(release_of_anaconda("10.1.1.63"), None);
        assert_eq!(release_of_anaconda("34.25.4.9"), None);
    }
}

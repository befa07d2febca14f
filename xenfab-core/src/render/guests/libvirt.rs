//! The libvirt domain XML of a guest: what `virsh define` takes on a dom0 whose guests are run
//! by libvirt's Xen (libxl) driver, the successor of the seed's `/etc/xen/<guest>` xm files.
//!
//! The caller builds a [`DomainView`] from its model; [`domain_xml`] prints it, escaping every
//! value, as `<domain type="xen">` with two-space indentation and a final newline, and no XML
//! declaration (libvirt reads the document either way). The same view always gives the same
//! bytes.
//!
//! The three kinds of guest ([`Boot`]) differ in their `<os>` and devices:
//!
//! | kind | `<os>` | disks | NIC | console |
//! |---|---|---|---|---|
//! | PV | `<type machine="xenpv">linux</type>`, `<bootloader>` (pygrub or pypxeboot) and `<bootloader_args>` | `bus="xen"` | `<script path="vif-bridge"/>` | `<console type="pty">` |
//! | PVH | `<type machine="xenpvh">xenpvh</type>` (the os type libvirt's libxl driver advertises for PVH), `<bootloader>` | `bus="xen"` | `<script path="vif-bridge"/>` | `<console type="pty">` |
//! | HVM | `<type machine="xenfv">hvm</type>`, hvmloader, `<boot dev="network"/>` before `<boot dev="hd"/>` when installing | `bus="ide"` | `<model type="rtl8139"/>` (its PXE ROM network-installs the guest) | VNC on 127.0.0.1, `<serial type="pty"/>` |
//! | PV or PVH installer | the type of PV or PVH, then `<kernel>`, `<initrd>` and `<cmdline>` (direct kernel boot) | `bus="xen"` | `<script path="vif-bridge"/>` | `<console type="pty">` |
//!
//! Memory is written in KiB without a `unit` attribute: `unit` came with libvirt 0.9.11
//! (formatdomain.html, "Memory Allocation": "unit ... since 0.9.11"), and RHEL 5's libvirt
//! (0.8.2) reads `<memory>` as a plain number of KiB; every later libvirt defaults to KiB.
//!
//! Checked by the real consumer in the test suite: `tests/validators/check_libvirt_domain.sh`
//! runs libvirt's Relax NG schema (`virt-xml-validate`) and its domain parser
//! (`virsh -c test:///default define`).

use std::io;

use quick_xml::Writer;
use quick_xml::events::BytesText;

/// Where the hvmloader firmware of HVM guests lives on a dom0 (libxl's `LIBXL_FIRMWARE_DIR`).
const HVMLOADER: &str = "/usr/lib/xen/boot/hvmloader";

/// The emulated NIC of HVM guests; its PXE ROM lets the guest network-install itself.
const HVM_NIC_MODEL: &str = "rtl8139";

/// What libvirt accepts in `<on_poweroff>` and `<on_reboot>` (its schema's `offOptions`).
const OFF_ACTIONS: &[&str] = &["destroy", "restart", "preserve", "rename-restart"];

/// What libvirt accepts in `<on_crash>` (its schema's `crashOptions`).
const CRASH_ACTIONS: &[&str] = &[
    "destroy",
    "restart",
    "preserve",
    "rename-restart",
    "coredump-destroy",
    "coredump-restart",
];

/// A guest as libvirt's Xen driver describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DomainView {
    /// The domain name, a validated RFC 1123 label (`ullr`).
    pub name: String,
    /// Free text for `<description>`, e.g. `ullr.example.org on xen01.example.org, generated
    /// by xenfab from the fabric file`.
    pub description: String,
    /// Memory at boot and at most, in MiB.
    pub memory_mib: u64,
    /// Number of virtual CPUs.
    pub vcpus: u32,
    /// Guest architecture: `x86_64` or `i686`.
    pub arch: String,
    /// How the guest boots.
    pub boot: Boot,
    /// Action when the guest powers off: `destroy`, `restart`, `preserve` or `rename-restart`.
    pub on_poweroff: String,
    /// Action when the guest reboots: `destroy`, `restart`, `preserve` or `rename-restart`.
    pub on_reboot: String,
    /// Action when the guest crashes: as for `on_poweroff`, or `coredump-destroy` or
    /// `coredump-restart`.
    pub on_crash: String,
    /// Block devices of dom0 given to the guest, in order.
    pub disks: Vec<DiskView>,
    /// Network interfaces bridged in dom0, in order.
    pub nics: Vec<NicView>,
}

/// One disk: a block device of dom0 (a logical volume) seen by the guest as `target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiskView {
    /// The block device in dom0, e.g. `/dev/xenvg/ullr`.
    pub source: String,
    /// The device in the guest: `xvda` (PV, PVH) or `hda` (HVM).
    pub target: String,
}

/// One network interface, bridged in dom0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NicView {
    /// The MAC address, `00:16:3e:a8:60:2b`.
    pub mac: String,
    /// The bridge in dom0, e.g. `xenbr0`.
    pub bridge: String,
}

/// How a guest boots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Boot {
    /// PV, booted by a bootloader in dom0: pygrub (`pygrub`, which libxl finds in its own
    /// folder, or `/usr/bin/pygrub` for xend), or the seed's pypxeboot
    /// with its arguments (libvirt's `<bootloader_args>`, xm's `bootargs`:
    /// `--pygrub-image=… mac=…`).
    Pv {
        /// Path of the bootloader in dom0.
        bootloader: String,
        /// Arguments of the bootloader, if any.
        bootloader_args: Option<String>,
    },
    /// PVH, booted by a bootloader (pygrub).
    Pvh {
        /// Path of the bootloader in dom0.
        bootloader: String,
    },
    /// PV or PVH, booting a kernel and initrd of dom0 directly: the installer of a pygrub or
    /// PVH guest.
    Direct {
        /// PVH rather than PV.
        pvh: bool,
        /// The kernel in dom0.
        kernel: String,
        /// The initrd in dom0.
        initrd: String,
        /// The kernel command line.
        cmdline: String,
    },
    /// HVM with hvmloader, an emulated NIC (so the guest's PXE ROM can network-install it) and
    /// emulated IDE disks; boot order network then disk when `network_first`, else disk only.
    Hvm {
        /// Whether the guest boots from the network before its disk.
        network_first: bool,
    },
}

/// An error printing a libvirt domain.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LibvirtError {
    /// The XML writer failed (it writes into memory, so this is not expected in practice).
    #[error("cannot write the libvirt domain of `{name}`")]
    Write {
        /// The domain.
        name: String,
        /// What the writer reported.
        #[source]
        source: io::Error,
    },
    /// A lifecycle action that libvirt does not accept for this event.
    #[error(
        "cannot write the libvirt domain of `{name}`: `{action}` is not a libvirt action for `{event}`"
    )]
    Action {
        /// The domain.
        name: String,
        /// The element: `on_poweroff`, `on_reboot` or `on_crash`.
        event: &'static str,
        /// The action given.
        action: String,
    },
}

/// The XML writer used throughout: indented by two spaces, into memory.
type Xml = Writer<Vec<u8>>;

/// Prints the libvirt domain XML of `v`: starts with `<domain`, ends with a newline.
pub(crate) fn domain_xml(v: &DomainView) -> Result<String, LibvirtError> {
    let lifecycle = [
        ("on_poweroff", v.on_poweroff.as_str(), OFF_ACTIONS),
        ("on_reboot", v.on_reboot.as_str(), OFF_ACTIONS),
        ("on_crash", v.on_crash.as_str(), CRASH_ACTIONS),
    ];
    if let Some(&(event, action, _)) = lifecycle
        .iter()
        .find(|(_, action, allowed)| !allowed.contains(action))
    {
        return Err(LibvirtError::Action {
            name: v.name.clone(),
            event,
            action: action.to_owned(),
        });
    }
    let write_error = |source| LibvirtError::Write {
        name: v.name.clone(),
        source,
    };
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    write_domain(&mut w, v, &lifecycle).map_err(write_error)?;
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    String::from_utf8(bytes).map_err(|e| write_error(io::Error::new(io::ErrorKind::InvalidData, e)))
}

/// Writes the `<domain>` element.
fn write_domain(
    w: &mut Xml,
    v: &DomainView,
    lifecycle: &[(&str, &str, &[&str])],
) -> io::Result<()> {
    w.create_element("domain")
        .with_attribute(("type", "xen"))
        .write_inner_content(|w| {
            text(w, "name", &v.name)?;
            text(w, "description", &v.description)?;
            let memory_kib = v.memory_mib.saturating_mul(1024).to_string();
            for element in ["memory", "currentMemory"] {
                text(w, element, &memory_kib)?;
            }
            text(w, "vcpu", &v.vcpus.to_string())?;
            match &v.boot {
                Boot::Pv {
                    bootloader,
                    bootloader_args,
                } => {
                    text(w, "bootloader", bootloader)?;
                    if let Some(args) = bootloader_args {
                        text(w, "bootloader_args", args)?;
                    }
                    write_os(w, &v.arch, "xenpv", "linux", |_| Ok(()))?;
                }
                Boot::Pvh { bootloader } => {
                    text(w, "bootloader", bootloader)?;
                    write_os(w, &v.arch, "xenpvh", "xenpvh", |_| Ok(()))?;
                }
                Boot::Direct {
                    pvh,
                    kernel,
                    initrd,
                    cmdline,
                } => {
                    let (machine, os_type) = if *pvh {
                        ("xenpvh", "xenpvh")
                    } else {
                        ("xenpv", "linux")
                    };
                    write_os(w, &v.arch, machine, os_type, |w| {
                        text(w, "kernel", kernel)?;
                        text(w, "initrd", initrd)?;
                        text(w, "cmdline", cmdline)
                    })?;
                }
                Boot::Hvm { network_first } => {
                    write_os(w, &v.arch, "xenfv", "hvm", |w| {
                        w.create_element("loader")
                            .with_attribute(("type", "rom"))
                            .write_text_content(BytesText::new(HVMLOADER))?;
                        if *network_first {
                            empty(w, "boot", &[("dev", "network")])?;
                        }
                        empty(w, "boot", &[("dev", "hd")])
                    })?;
                    w.create_element("features").write_inner_content(|w| {
                        for feature in ["acpi", "apic", "pae"] {
                            empty(w, feature, &[])?;
                        }
                        Ok(())
                    })?;
                }
            }
            for (event, action, _) in lifecycle {
                text(w, event, action)?;
            }
            w.create_element("devices")
                .write_inner_content(|w| write_devices(w, v))?;
            Ok(())
        })?;
    Ok(())
}

/// Writes `<os>`: its `<type>`, then what `rest` adds (loader and boot order).
fn write_os(
    w: &mut Xml,
    arch: &str,
    machine: &str,
    os_type: &str,
    rest: impl FnOnce(&mut Xml) -> io::Result<()>,
) -> io::Result<()> {
    w.create_element("os").write_inner_content(|w| {
        w.create_element("type")
            .with_attribute(("arch", arch))
            .with_attribute(("machine", machine))
            .write_text_content(BytesText::new(os_type))?;
        rest(w)
    })?;
    Ok(())
}

/// Writes the children of `<devices>`: disks, interfaces, then console or graphics and serial.
fn write_devices(w: &mut Xml, v: &DomainView) -> io::Result<()> {
    let hvm = matches!(v.boot, Boot::Hvm { .. });
    let bus = if hvm { "ide" } else { "xen" };
    for disk in &v.disks {
        w.create_element("disk")
            .with_attribute(("type", "block"))
            .with_attribute(("device", "disk"))
            .write_inner_content(|w| {
                empty(w, "driver", &[("name", "phy")])?;
                empty(w, "source", &[("dev", &disk.source)])?;
                empty(w, "target", &[("dev", &disk.target), ("bus", bus)])
            })?;
    }
    for nic in &v.nics {
        w.create_element("interface")
            .with_attribute(("type", "bridge"))
            .write_inner_content(|w| {
                empty(w, "mac", &[("address", &nic.mac)])?;
                empty(w, "source", &[("bridge", &nic.bridge)])?;
                if hvm {
                    empty(w, "model", &[("type", HVM_NIC_MODEL)])
                } else {
                    empty(w, "script", &[("path", "vif-bridge")])
                }
            })?;
    }
    if hvm {
        empty(
            w,
            "graphics",
            &[
                ("type", "vnc"),
                ("port", "-1"),
                ("autoport", "yes"),
                ("listen", "127.0.0.1"),
            ],
        )?;
        empty(w, "serial", &[("type", "pty")])?;
    } else {
        w.create_element("console")
            .with_attribute(("type", "pty"))
            .write_inner_content(|w| empty(w, "target", &[("type", "xen"), ("port", "0")]))?;
    }
    Ok(())
}

/// Writes `<name>value</name>`, escaped.
fn text(w: &mut Xml, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(value))?;
    Ok(())
}

/// Writes `<name a="…" …/>`, the values escaped.
fn empty(w: &mut Xml, name: &str, attributes: &[(&str, &str)]) -> io::Result<()> {
    w.create_element(name)
        .with_attributes(attributes.iter().copied())
        .write_empty()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed's pypxeboot PV guest.
    fn ullr() -> DomainView {
        DomainView {
            name: "ullr".into(),
            description:
                "ullr.example.org on xen01.example.org, generated by xenfab from the fabric file"
                    .into(),
            memory_mib: 1024,
            vcpus: 1,
            arch: "i686".into(),
            boot: Boot::Pv {
                bootloader: "/usr/bin/pypxeboot".into(),
                bootloader_args: Some(
                    "--pygrub-image=/dev/xenvg/ullr mac=00:16:3e:a8:60:2b".into(),
                ),
            },
            on_poweroff: "destroy".into(),
            on_reboot: "restart".into(),
            on_crash: "restart".into(),
            disks: vec![DiskView {
                source: "/dev/xenvg/ullr".into(),
                target: "xvda".into(),
            }],
            nics: vec![NicView {
                mac: "00:16:3e:a8:60:2b".into(),
                bridge: "xenbr0".into(),
            }],
        }
    }

    /// A pygrub PV guest with two disks.
    fn vali() -> DomainView {
        DomainView {
            name: "vali".into(),
            description:
                "vali.example.org on xen01.example.org, generated by xenfab from the fabric file"
                    .into(),
            memory_mib: 2048,
            vcpus: 2,
            arch: "x86_64".into(),
            boot: Boot::Pv {
                bootloader: "/usr/bin/pygrub".into(),
                bootloader_args: None,
            },
            on_crash: "coredump-restart".into(),
            disks: vec![
                DiskView {
                    source: "/dev/xenvg/vali".into(),
                    target: "xvda".into(),
                },
                DiskView {
                    source: "/dev/xenvg/vali-data".into(),
                    target: "xvdb".into(),
                },
            ],
            nics: vec![NicView {
                mac: "00:16:3e:a8:60:2c".into(),
                bridge: "xenbr0".into(),
            }],
            ..ullr()
        }
    }

    /// A PVH guest booted by pygrub.
    fn bragi() -> DomainView {
        DomainView {
            name: "bragi".into(),
            description:
                "bragi.example.org on xen02.example.org, generated by xenfab from the fabric file"
                    .into(),
            arch: "x86_64".into(),
            boot: Boot::Pvh {
                bootloader: "pygrub".into(),
            },
            disks: vec![DiskView {
                source: "/dev/xenvg/bragi".into(),
                target: "xvda".into(),
            }],
            nics: vec![NicView {
                mac: "00:16:3e:a8:60:2d".into(),
                bridge: "xenbr1".into(),
            }],
            ..ullr()
        }
    }

    /// An HVM guest, booting from the network first (being installed) or from disk only.
    fn heimdall(network_first: bool) -> DomainView {
        DomainView {
            name: "heimdall".into(),
            description: "heimdall.example.org on xen03.example.org, generated by xenfab from the fabric file".into(),
            memory_mib: 512,
            arch: "x86_64".into(),
            boot: Boot::Hvm { network_first },
            disks: vec![DiskView {
                source: "/dev/xenvg/heimdall".into(),
                target: "hda".into(),
            }],
            nics: vec![NicView {
                mac: "00:16:3e:a8:60:2e".into(),
                bridge: "xenbr0".into(),
            }],
            ..ullr()
        }
    }

    #[test]
    fn pypxeboot_pv_guest() {
        let expected = r#"<domain type="xen">
  <name>ullr</name>
  <description>ullr.example.org on xen01.example.org, generated by xenfab from the fabric file</description>
  <memory>1048576</memory>
  <currentMemory>1048576</currentMemory>
  <vcpu>1</vcpu>
  <bootloader>/usr/bin/pypxeboot</bootloader>
  <bootloader_args>--pygrub-image=/dev/xenvg/ullr mac=00:16:3e:a8:60:2b</bootloader_args>
  <os>
    <type arch="i686" machine="xenpv">linux</type>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>restart</on_crash>
  <devices>
    <disk type="block" device="disk">
      <driver name="phy"/>
      <source dev="/dev/xenvg/ullr"/>
      <target dev="xvda" bus="xen"/>
    </disk>
    <interface type="bridge">
      <mac address="00:16:3e:a8:60:2b"/>
      <source bridge="xenbr0"/>
      <script path="vif-bridge"/>
    </interface>
    <console type="pty">
      <target type="xen" port="0"/>
    </console>
  </devices>
</domain>
"#;
        assert_eq!(domain_xml(&ullr()).unwrap(), expected);
    }

    #[test]
    fn hvm_guest_booting_from_the_network() {
        let expected = r#"<domain type="xen">
  <name>heimdall</name>
  <description>heimdall.example.org on xen03.example.org, generated by xenfab from the fabric file</description>
  <memory>524288</memory>
  <currentMemory>524288</currentMemory>
  <vcpu>1</vcpu>
  <os>
    <type arch="x86_64" machine="xenfv">hvm</type>
    <loader type="rom">/usr/lib/xen/boot/hvmloader</loader>
    <boot dev="network"/>
    <boot dev="hd"/>
  </os>
  <features>
    <acpi/>
    <apic/>
    <pae/>
  </features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>restart</on_crash>
  <devices>
    <disk type="block" device="disk">
      <driver name="phy"/>
      <source dev="/dev/xenvg/heimdall"/>
      <target dev="hda" bus="ide"/>
    </disk>
    <interface type="bridge">
      <mac address="00:16:3e:a8:60:2e"/>
      <source bridge="xenbr0"/>
      <model type="rtl8139"/>
    </interface>
    <graphics type="vnc" port="-1" autoport="yes" listen="127.0.0.1"/>
    <serial type="pty"/>
  </devices>
</domain>
"#;
        assert_eq!(domain_xml(&heimdall(true)).unwrap(), expected);
    }

    #[test]
    fn hvm_guest_booting_from_disk_only() {
        let xml = domain_xml(&heimdall(false)).unwrap();
        assert!(
            xml.contains("</loader>\n    <boot dev=\"hd\"/>\n  </os>\n"),
            "{xml}"
        );
        assert!(!xml.contains("network"), "{xml}");
    }

    #[test]
    fn pvh_guest() {
        let xml = domain_xml(&bragi()).unwrap();
        assert!(
            xml.contains(
                "  <bootloader>pygrub</bootloader>\n  <os>\n    <type arch=\"x86_64\" machine=\"xenpvh\">xenpvh</type>\n  </os>\n"
            ),
            "{xml}"
        );
        assert!(!xml.contains("bootloader_args"), "{xml}");
        assert!(xml.contains("<target dev=\"xvda\" bus=\"xen\"/>"), "{xml}");
        assert!(xml.contains("<script path=\"vif-bridge\"/>"), "{xml}");
        assert!(xml.contains("<target type=\"xen\" port=\"0\"/>"), "{xml}");
    }

    #[test]
    fn pygrub_pv_guest_keeps_disks_in_order() {
        let xml = domain_xml(&vali()).unwrap();
        let first = xml.find("<target dev=\"xvda\" bus=\"xen\"/>").unwrap();
        let second = xml.find("<target dev=\"xvdb\" bus=\"xen\"/>").unwrap();
        assert!(first < second, "{xml}");
        assert!(
            xml.contains("<on_crash>coredump-restart</on_crash>"),
            "{xml}"
        );
        assert!(!xml.contains("bootloader_args"), "{xml}");
    }

    /// skadi being installed: PV, booting the installer's kernel from dom0.
    fn skadi_installing(pvh: bool) -> DomainView {
        DomainView {
            name: "skadi".into(),
            arch: "x86_64".into(),
            boot: Boot::Direct {
                pvh,
                kernel: "/var/lib/xen/boot/c5-xen/vmlinuz".into(),
                initrd: "/var/lib/xen/boot/c5-xen/initrd.img".into(),
                cmdline: "ks=http://192.168.96.1/ks/skadi.example.org.ks ksdevice=eth0".into(),
            },
            on_reboot: "destroy".into(),
            ..vali()
        }
    }

    #[test]
    fn installer_booted_directly() {
        let xml = domain_xml(&skadi_installing(false)).unwrap();
        assert!(
            xml.contains(
                "  <os>\n    <type arch=\"x86_64\" machine=\"xenpv\">linux</type>\n    <kernel>/var/lib/xen/boot/c5-xen/vmlinuz</kernel>\n    <initrd>/var/lib/xen/boot/c5-xen/initrd.img</initrd>\n    <cmdline>ks=http://192.168.96.1/ks/skadi.example.org.ks ksdevice=eth0</cmdline>\n  </os>\n"
            ),
            "{xml}"
        );
        assert!(!xml.contains("bootloader"), "{xml}");
        assert!(xml.contains("<on_reboot>destroy</on_reboot>"), "{xml}");
        let pvh = domain_xml(&skadi_installing(true)).unwrap();
        assert!(
            pvh.contains("<type arch=\"x86_64\" machine=\"xenpvh\">xenpvh</type>\n    <kernel>"),
            "{pvh}"
        );
    }

    #[test]
    fn memory_in_kib_without_unit() {
        // libvirt 0.8.2 (RHEL 5) has no `unit` attribute; KiB is every release's unit.
        let xml = domain_xml(&vali()).unwrap();
        assert!(
            xml.contains("  <memory>2097152</memory>\n  <currentMemory>2097152</currentMemory>\n"),
            "{xml}"
        );
        assert!(!xml.contains("unit="), "{xml}");
    }

    #[test]
    fn output_is_deterministic() {
        for view in [
            ullr(),
            vali(),
            bragi(),
            heimdall(true),
            heimdall(false),
            skadi_installing(false),
        ] {
            let first = domain_xml(&view).unwrap();
            assert_eq!(domain_xml(&view.clone()).unwrap(), first);
            assert!(first.starts_with("<domain type=\"xen\">\n"), "{first}");
            assert!(first.ends_with("</domain>\n"), "{first}");
            assert!(!first.ends_with("\n\n"), "{first}");
        }
    }

    #[test]
    fn escapes_text_and_attributes() {
        let view = DomainView {
            description: r#"a <b> & 'c' "d""#.into(),
            boot: Boot::Pv {
                bootloader: "/usr/bin/pypxeboot".into(),
                bootloader_args: Some("mac=<&'\">".into()),
            },
            nics: vec![NicView {
                mac: "00:16:3e:a8:60:2b".into(),
                bridge: "br\"<&'>".into(),
            }],
            ..ullr()
        };
        let xml = domain_xml(&view).unwrap();
        assert!(
            xml.contains(
                "<description>a &lt;b&gt; &amp; &apos;c&apos; &quot;d&quot;</description>"
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<bootloader_args>mac=&lt;&amp;&apos;&quot;&gt;</bootloader_args>"),
            "{xml}"
        );
        assert!(
            xml.contains("<source bridge=\"br&quot;&lt;&amp;&apos;&gt;\"/>"),
            "{xml}"
        );
    }

    #[test]
    fn refuses_actions_libvirt_does_not_know() {
        let view = DomainView {
            on_reboot: "coredump-restart".into(),
            ..ullr()
        };
        let err = domain_xml(&view).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot write the libvirt domain of `ullr`: `coredump-restart` is not a libvirt action for `on_reboot`"
        );
        let view = DomainView {
            on_poweroff: "halt".into(),
            ..ullr()
        };
        assert!(matches!(
            domain_xml(&view),
            Err(LibvirtError::Action {
                event: "on_poweroff",
                ..
            })
        ));
    }

    /// With `XENFAB_LIBVIRT_OUT=DIR`, writes one domain of each kind into DIR for
    /// `tests/validators/check_libvirt_domain.sh`, plus `bad-duplicate-target.xml`, which the
    /// checker must refuse; without it, does nothing.
    #[test]
    fn writes_samples_for_the_checker() {
        let Some(dir) = std::env::var_os("XENFAB_LIBVIRT_OUT") else {
            return;
        };
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut duplicate = vali();
        duplicate.name = "dup".into();
        duplicate.disks[1].target = "xvda".into();
        let samples = [
            ("pv-pypxeboot.xml", ullr()),
            ("pv-pygrub.xml", vali()),
            ("pvh.xml", bragi()),
            ("hvm-network-first.xml", heimdall(true)),
            ("hvm-disk.xml", heimdall(false)),
            ("pv-installer.xml", skadi_installing(false)),
            ("pvh-installer.xml", skadi_installing(true)),
            ("bad-duplicate-target.xml", duplicate),
        ];
        for (file, view) in samples {
            std::fs::write(dir.join(file), domain_xml(&view).unwrap()).unwrap();
        }
    }
}

//! The hypervisor's boot entry of each dom0: dom0's memory and vCPUs on Xen's command line.
//!
//! - EL3 to EL5 dom0s (GRUB legacy): `dom0s/<fqdn>/grub/menu.lst`, the seed's stanza: `kernel
//!   /xen.gz-<version> dom0_mem=…`, the dom0 kernel as a `module` with its `root=`, the initrd
//!   as a module.
//! - EL9 dom0s (GRUB2): `dom0s/<fqdn>/grub/default-grub`, the `GRUB_CMDLINE_XEN_DEFAULT` line
//!   for `/etc/default/grub`, and `dom0s/<fqdn>/grub/grub.cfg`, the same entry in grub.cfg
//!   syntax (`multiboot2`, `module2`).
//!
//! The seed held dom0 to one CPU with `nosmp` on dom0's kernel; the hypervisor's own
//! `dom0_max_vcpus=N dom0_vcpus_pin` does that without crippling the kernel.

use serde::Serialize;

use super::kickstart::{boot_fstype, root_device};
use super::{lookup, templates};
use crate::error::RenderError;
use crate::model::{
    DiskLabel, Dom0, Fabric, FsType, Hardware, Holder, OsFamily, PartitionScheme, SerialConsole,
};
use crate::output::Tree;
use crate::render::Part;

pub(crate) fn render(
    fabric: &Fabric,
    part: Part,
    env: &minijinja::Environment<'_>,
    tree: &mut Tree,
) -> Result<(), RenderError> {
    for dom0 in part.dom0s(fabric) {
        let fqdn = fabric.fqdn(&dom0.name);
        let os = lookup::os(fabric, &dom0.os)?;
        // Debian's entry is render/debian's.
        if os.family == OsFamily::Debian {
            continue;
        }
        let version = os
            .kernel_version
            .as_ref()
            .ok_or_else(|| lookup::missing("kernel_version of OS release", &dom0.os))?;
        let hw = lookup::hardware(fabric, dom0)?;
        // the layout the installer made: on GPT, behind an ESP or a BIOS boot partition
        let scheme = &*lookup::layout(fabric, dom0)?;
        let (disk, part) = boot_partition(scheme, hw)
            .ok_or_else(|| lookup::missing("primary /boot partition of", &dom0.partitioning))?;
        let prefix = if scheme.holder("/boot").is_some() {
            ""
        } else {
            "/boot"
        };
        let legacy = os.family != OsFamily::El9;
        let serial = fabric.serial_console(dom0);
        let view = EntryView {
            fqdn: fqdn.clone(),
            title: format!("{} ({version}{})", dom0.os, if legacy { "xen" } else { "" }),
            xen_args: xen_args(dom0, serial, !legacy),
            kernel_args: serial
                .map_or_else(String::new, |_| format!(" {}", dom0_console(os.family))),
            serial_command: serial.map(SerialConsole::grub_serial),
            root_device: root_device(scheme),
            grub_root: format!("(hd{disk},{})", part - 1),
            // GRUB2's partition names: `msdos<n>` or `gpt<n>` (its part_msdos and part_gpt
            // modules, grub-core/partmap/)
            grub2_root: format!("hd{disk},{}{part}", scheme.label.as_str()),
            part_module: match scheme.label {
                DiskLabel::Msdos => "part_msdos",
                DiskLabel::Gpt => "part_gpt",
            },
            insmod_fs: match boot_fstype(scheme) {
                FsType::Xfs => "xfs",
                FsType::Ext2 | FsType::Ext3 | FsType::Ext4 => "ext2",
                // never /boot's (validation: `esp-unusable`)
                FsType::Efi => "fat",
            },
            xen: if legacy {
                format!("{prefix}/xen.gz-{version}")
            } else {
                format!("{prefix}/xen.gz")
            },
            kernel: if legacy {
                format!("{prefix}/vmlinuz-{version}xen")
            } else {
                format!("{prefix}/vmlinuz-{version}")
            },
            initrd: if legacy {
                format!("{prefix}/initrd-{version}xen.img")
            } else {
                format!("{prefix}/initramfs-{version}.img")
            },
            memory: dom0.memory.to_string(),
            vcpus: dom0.vcpus,
        };
        if legacy {
            tree.insert_file(
                &format!("dom0s/{fqdn}/grub/menu.lst"),
                templates::render(env, "menu.lst.j2", &view)?,
            )?;
        } else {
            tree.insert_file(
                &format!("dom0s/{fqdn}/grub/default-grub"),
                templates::render(env, "default-grub.j2", &view)?,
            )?;
            tree.insert_file(
                &format!("dom0s/{fqdn}/grub/grub.cfg"),
                templates::render(env, "grub.cfg.j2", &view)?,
            )?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct EntryView {
    fqdn: String,
    title: String,
    xen_args: String,
    /// dom0's console on Xen's (` console=hvc0`, with the space that parts it from the
    /// arguments before it), when it has a serial console; else empty.
    kernel_args: String,
    /// GRUB's serial terminal (`serial --unit=0 --speed=115200`), when it has one.
    serial_command: Option<String>,
    root_device: String,
    grub_root: String,
    grub2_root: String,
    /// GRUB2's module for the partition table: `part_msdos` or `part_gpt`.
    part_module: &'static str,
    insmod_fs: &'static str,
    xen: String,
    kernel: String,
    initrd: String,
    memory: String,
    vcpus: u32,
}

/// Xen's command line for a dom0: its memory, its vCPUs pinned, and its serial console
/// ([`SerialConsole::xen_args`]: `com1=115200,8n1 console=com1,vga`) if it has one.
///
/// Without ballooning dom0 keeps exactly its memory: current Xen says so with
/// `dom0_mem=X,max:X`; the seed's Xen 3 took `dom0_mem=X` and xend's
/// `(enable-dom0-ballooning no)`.
pub(crate) fn xen_args(dom0: &Dom0, serial: Option<SerialConsole>, current: bool) -> String {
    // In MiB, as the seed (`512M`) and Quattor profiles write it.
    let mem = format!("{}M", dom0.memory.mib());
    let dom0_mem = if current && !dom0.balloon {
        format!("dom0_mem={mem},max:{mem}")
    } else {
        format!("dom0_mem={mem}")
    };
    let mut args = format!("{dom0_mem} dom0_max_vcpus={} dom0_vcpus_pin", dom0.vcpus);
    if let Some(serial) = serial {
        args.push(' ');
        args.push_str(&serial.xen_args());
    }
    args
}

/// dom0's kernel argument that puts its console on Xen's, which Xen sends to the serial port.
///
/// - pvops kernels (EL9's, Debian's): `console=hvc0`, the Xen console driver's device
///   (drivers/tty/hvc/hvc_xen.c; xen-hypervisor-common's /etc/default/grub.d/xen.cfg: "the
///   usual ttyS0 will not be available" to dom0, Xen owns the port).
/// - EL5's 2.6.18-xen kernel: `console=ttyS0`. Its Xen console driver
///   (linux-2.6.18-xen drivers/xen/console/console.c, "Modes": `xencons=ttyS` is
///   `XC_SERIAL`, "Console attached to '/dev/ttyS[0-9]+'", and "[XC_DEFAULT]: DOM0 ->
///   XC_SERIAL") names Xen's console `ttyS0` in dom0 whichever port Xen drives; `xvc0` is
///   the name of its `xencons=xvc` mode, the PV guests' console.
pub(crate) fn dom0_console(family: OsFamily) -> &'static str {
    match family {
        OsFamily::El3 | OsFamily::El4 | OsFamily::El5 => "console=ttyS0",
        OsFamily::El9 | OsFamily::Debian => "console=hvc0",
    }
}

/// The disk (its index among those the BIOS sees) and partition number (from 1) that hold
/// `/boot`, or `/` when there is no `/boot`; for a RAID-1, its first member.
pub(crate) fn boot_partition(scheme: &PartitionScheme, hw: &Hardware) -> Option<(usize, u32)> {
    let index = match scheme.holder("/boot").or_else(|| scheme.holder("/"))? {
        Holder::Partition(i) => i,
        Holder::Raid(r) => scheme.partition_by_id(r.members.first()?)?.0,
        Holder::LogicalVolume(_) => return None,
    };
    let number = scheme.partition_number(index)?;
    let disk = &scheme.partitions[index].disk;
    let position = hw
        .visible_disks()
        .iter()
        .position(|(d, _)| *d == disk.as_str())?;
    Some((position, number))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BootState, HardwareRaid, Size, Toolstack};

    fn dom0(memory: u64, vcpus: u32, balloon: bool) -> Dom0 {
        Dom0 {
            name: "xen01".parse().unwrap(),
            ip: "192.168.96.11".parse().unwrap(),
            mac: "00:1e:c9:2a:11:01".parse().unwrap(),
            network: "public".parse().unwrap(),
            interfaces: crate::model::Interfaces {
                nics: vec![crate::model::Nic {
                    name: "eth0".parse().unwrap(),
                    mac: Some("00:1e:c9:2a:11:01".parse().unwrap()),
                }],
                bonds: Vec::new(),
                bridges: vec![crate::model::Bridge {
                    network: "public".parse().unwrap(),
                    bridge: "xenbr0".parse().unwrap(),
                    device: "eth0".parse().unwrap(),
                    vlan: None,
                    ip: Some("192.168.96.11".parse().unwrap()),
                }],
            },
            hardware: "pe1950".parse().unwrap(),
            os: "c5".parse().unwrap(),
            memory: Size::from_mib(memory),
            vcpus,
            balloon,
            toolstack: Toolstack::Xm,
            partitioning: "seed-softraid1".parse().unwrap(),
            serial_console: None,
            firmware: None,
            state: BootState::Localboot,
            wipe_guests: false,
            kickstart: None,
            guests: Vec::new(),
            at: crate::FieldPath::root(),
        }
    }

    #[test]
    fn xen_command_lines() {
        assert_eq!(
            xen_args(&dom0(512, 1, false), None, false),
            "dom0_mem=512M dom0_max_vcpus=1 dom0_vcpus_pin"
        );
        assert_eq!(
            xen_args(&dom0(4096, 4, false), None, true),
            "dom0_mem=4096M,max:4096M dom0_max_vcpus=4 dom0_vcpus_pin"
        );
        assert_eq!(
            xen_args(&dom0(4096, 2, true), None, true),
            "dom0_mem=4096M dom0_max_vcpus=2 dom0_vcpus_pin"
        );
        let idrac = SerialConsole {
            port: crate::model::SerialPort::Com2,
            speed: 57600,
        };
        assert_eq!(
            xen_args(&dom0(512, 1, false), Some(idrac), false),
            "dom0_mem=512M dom0_max_vcpus=1 dom0_vcpus_pin com2=57600,8n1 console=com2,vga"
        );
    }

    #[test]
    fn boot_partitions_of_the_seed_layouts() {
        let schemes: std::collections::BTreeMap<_, _> =
            crate::model::builtin_schemes().into_iter().collect();
        let two = Hardware {
            ram: Size::from_mib(16384),
            cpus: 8,
            raid: HardwareRaid::None,
            disks: vec![
                crate::model::Disk {
                    name: "sda".parse().unwrap(),
                    size: Size::from_mib(476_837),
                },
                crate::model::Disk {
                    name: "sdb".parse().unwrap(),
                    size: Size::from_mib(476_837),
                },
            ],
            serial_console: None,
            firmware: crate::model::Firmware::Bios,
        };
        let soft = &schemes[&"seed-softraid1".parse().unwrap()];
        assert_eq!(boot_partition(soft, &two), Some((0, 1)));
        assert_eq!(root_device(soft), "/dev/md1");
        let hw = &schemes[&"seed-hwraid10".parse().unwrap()];
        assert_eq!(
            boot_partition(
                hw,
                &Hardware {
                    raid: HardwareRaid::Raid10,
                    ..two
                }
            ),
            Some((0, 1))
        );
        assert_eq!(root_device(hw), "/dev/systemvg/sysroot");
    }
}

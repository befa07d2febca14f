"""Type stubs of the native module ``xenfab._xenfab``; use it through :mod:`xenfab`."""

import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal, final, overload


__all__ = [
    "derive_mac",
    "hex_ip",
    "pxelinux_name",
    "example",
    "ks_reinstall",
    "Diagnostic",
    "Link",
    "File",
    "WriteResult",
    "Disk",
    "Hardware",
    "Os",
    "Network",
    "VolumeGroup",
    "Capacity",
    "HostState",
    "Guest",
    "Dom0",
    "Fabric",
    "__version__",
]

__version__: str

@final
class Diagnostic:
    """One problem with a fabric: an error (nothing renders) or a warning."""

    @property
    def severity(self) -> Literal["error", "warning"]:
        """``"error"`` stops rendering; ``"warning"`` does not."""
    @property
    def code(self) -> str:
        """The stable, kebab-case name of the rule, such as ``"ip-outside-network"``."""
    @property
    def path(self) -> str:
        """The field it is about, such as ``"dom0s[xen01].guests[ullr].ip"``; ``""`` for the whole fabric."""
    @property
    def message(self) -> str:
        """What is wrong, in lower case."""
    @property
    def file(self) -> str | None:
        """The file, as it was named, or ``None`` where the field was not located."""
    @property
    def line(self) -> int | None:
        """The line, counted from 1, or ``None`` where unknown."""
    @property
    def column(self) -> int | None:
        """The column in characters, counted from 1, or ``None`` where unknown."""
    def __str__(self) -> str:
        """The diagnostic on one line, as ``xenfab validate`` prints it."""

@final
class Link:
    """A symbolic link of the rendered tree."""

    def __new__(cls, target: str) -> Link: ...
    @property
    def target(self) -> str:
        """The target, relative to the link's own directory."""

@final
class File:
    """A file of the rendered tree with its mode (``render(files=True)``); ``str()`` is its text."""

    def __new__(cls, contents: str, mode: int) -> File: ...
    @property
    def contents(self) -> str:
        """The file's text."""
    @property
    def mode(self) -> int:
        """Its permission bits as written: ``0o755`` for a script, ``0o644`` otherwise."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class WriteResult:
    """What :meth:`Fabric.write` did (or, with ``dry_run``, would do)."""

    @property
    def created(self) -> list[str]:
        """Paths written that were not there."""
    @property
    def changed(self) -> list[str]:
        """Paths whose contents (or mode, or target) changed."""
    @property
    def unchanged(self) -> list[str]:
        """Paths that were already right and were not touched. Those the write left as they
        are (``hosts``, ``no_dhcp``, ``no_tftp``) are in none of the lists."""
    @property
    def removed(self) -> list[str]:
        """Paths xenfab wrote earlier that the fabric no longer has."""
    @property
    def diff(self) -> str | None:
        """The changes as a unified diff (``""`` when there are none), or ``None`` when it was
        not asked for: :meth:`Fabric.write` makes it for a dry run, or with ``diff=True``."""
    @property
    def left_behind(self) -> tuple[str | None, ...]:
        """The parts of the tree whose entries this write left as they are (``hosts``,
        ``no_dhcp``, ``no_tftp``) while the fabric now makes them differently from what xenfab
        last wrote there: ``None`` for the site's part (the files that list every host), then
        the name of each dom0 whose part (its own files and its guests') is behind, in the
        fabric's order. A later write that leaves nothing brings them up to date. Empty when
        nothing was left behind. With ``hosts``, a part with none of them is not rendered: it
        counts when its inputs or its files on disk changed; in a part rendered, a file edited
        by hand does not count."""
    @property
    def changed_anything(self) -> bool:
        """True when anything was (or would be) created, changed or removed."""

@final
class Disk:
    """A logical volume of a guest."""

    @property
    def vg(self) -> str:
        """The volume group, on the guest's dom0."""
    @property
    def lv(self) -> str:
        """The logical volume."""
    @property
    def vdev(self) -> str:
        """The device the guest sees it as (``xvda``, ``hda``)."""
    @property
    def size_mib(self) -> int:
        """Its size in MiB."""

@final
class Hardware:
    """A hardware profile: what one model of server has."""

    @property
    def name(self) -> str:
        """Its name, a key of the fabric file's ``hardware`` table."""
    @property
    def ram_mib(self) -> int:
        """Installed memory in MiB."""
    @property
    def cpus(self) -> int:
        """Physical CPUs (cores) the hypervisor can schedule."""
    @property
    def raid(self) -> Literal["none", "raid1", "raid5", "raid10"]:
        """How a RAID controller combines the disks: ``none``, ``raid1``, ``raid5``, ``raid10``."""
    @property
    def disks(self) -> tuple[tuple[str, int], ...]:
        """The physical disks: a tuple of ``(name, size_mib)`` pairs."""

@final
class Os:
    """An operating system release that hosts are installed with."""

    @property
    def name(self) -> str:
        """Its name, a key of the fabric file's ``os`` table."""
    @property
    def family(self) -> Literal["el3", "el4", "el5", "el9", "debian"]:
        """Its installer family: ``el3``, ``el4``, ``el5``, ``el9`` or ``debian``."""
    @property
    def release(self) -> str:
        """The release, such as ``"5.2"``."""
    @property
    def arch(self) -> Literal["x86_64", "i386"]:
        """Its architecture: ``x86_64`` or ``i386``."""
    @property
    def install_url(self) -> str:
        """The installation tree."""
    @property
    def boot_image(self) -> str:
        """The boot image that starts its installer."""
    @property
    def kernel_version(self) -> str | None:
        """The version of its Xen kernel (``2.6.18-92.el5``), or ``None``."""

@final
class Network:
    """An IPv4 network that hosts live on."""

    @property
    def name(self) -> str:
        """Its name, a key of the fabric file's ``networks`` table."""
    @property
    def subnet(self) -> str:
        """The subnet, such as ``"192.168.96.0/24"``."""
    @property
    def gateway(self) -> str:
        """The default gateway."""
    @property
    def dns(self) -> tuple[str, ...]:
        """Its DNS servers, in order: a tuple of addresses."""
    @property
    def bridge(self) -> str:
        """The bridge on each dom0 that guests on this network attach to."""
    @property
    def next_server(self) -> str | None:
        """The TFTP server of hosts on it, when it is not the site's install server."""
    @property
    def host_only(self) -> bool:
        """True for a network inside each dom0, with no uplink."""
    @property
    def vlan(self) -> int | None:
        """Its 802.1Q VLAN id, or ``None`` when untagged."""

@final
class VolumeGroup:
    """A volume group of a dom0's partition scheme and what takes its space."""

    @property
    def name(self) -> str:
        """Its name (``xenvg``)."""
    @property
    def size_mib(self) -> int:
        """Its usable size in MiB: its physical volumes rounded down to whole extents."""
    @property
    def system_mib(self) -> int:
        """What dom0's own logical volumes take, in MiB (all of it when one of them grows)."""
    @property
    def guests_mib(self) -> int:
        """What the guests' disks take, in MiB."""
    @property
    def available_mib(self) -> int:
        """The space for guests, in MiB: the size less dom0's own volumes."""
    @property
    def free_mib(self) -> int:
        """The space still free after the guests' disks, in MiB."""

@final
class Capacity:
    """What a dom0 has and what its guests take, as ``xenfab report`` shows it; sizes in MiB."""

    @property
    def ram_mib(self) -> int:
        """Installed memory."""
    @property
    def hypervisor_memory_mib(self) -> int:
        """Memory kept by the hypervisor."""
    @property
    def dom0_memory_mib(self) -> int:
        """Memory given to dom0."""
    @property
    def guest_memory_mib(self) -> int:
        """Memory of all its guests together."""
    @property
    def memory_used_mib(self) -> int:
        """Memory the hypervisor, dom0 and the guests take together."""
    @property
    def memory_free_mib(self) -> int:
        """Memory left: ``ram_mib`` less ``memory_used_mib`` (0 when overcommitted)."""
    @property
    def cpus(self) -> int:
        """Physical CPUs."""
    @property
    def dom0_vcpus(self) -> int:
        """dom0's vCPUs."""
    @property
    def guest_vcpus(self) -> int:
        """vCPUs of all its guests together."""
    @property
    def volume_groups(self) -> tuple[VolumeGroup, ...]:
        """Each volume group of its partition scheme, a tuple of :class:`VolumeGroup`."""
    @property
    def save_area_mount(self) -> str | None:
        """The mount point of the file system that holds the save area
        (``/var/lib/xen/save``), or ``None`` when none does."""
    @property
    def save_area_mib(self) -> int | None:
        """The size of that file system in MiB, or ``None`` when it grows or there is none."""

_BootState = Literal["localboot", "install", "reinstall", "rescue"]

@final
class HostState:
    """What network boot gives a host next, and where that comes from: a row of ``xenfab status``."""

    @property
    def host(self) -> str:
        """The host's FQDN."""
    @property
    def dom0(self) -> str | None:
        """The FQDN of a guest's dom0; ``None`` for a dom0."""
    @property
    def state(self) -> _BootState:
        """``localboot``, ``install``, ``reinstall`` or ``rescue``."""
    @property
    def recorded(self) -> bool:
        """True when ``xenfab boot`` recorded it in the output tree; false when it is the fabric's."""

@final
class Guest:
    """A guest (domU) of a dom0, every default applied; get one with :meth:`Fabric.guest`,
    :meth:`Dom0.guest` or :attr:`Dom0.guests`.

    Frozen. Two guests are equal when their :meth:`to_dict` is. Pickled as its name and its
    fabric."""

    @property
    def name(self) -> str:
        """Its host name."""
    @property
    def fqdn(self) -> str:
        """Its fully qualified name."""
    @property
    def dom0(self) -> str:
        """The name of its dom0 (``fabric.dom0(guest.dom0)`` is the :class:`Dom0`)."""
    @property
    def ip(self) -> str:
        """Its IPv4 address."""
    @property
    def mac(self) -> str:
        """Its MAC address (given, or derived from ``ip``)."""
    @property
    def mac_source(self) -> str:
        """Where its MAC comes from: ``"explicit"``, or ``"derived:<scheme>"`` (as in ``inventory/hosts.csv``)."""
    @property
    def network(self) -> Network:
        """The network of its first NIC."""
    @property
    def mode(self) -> str:
        """How it is virtualised and booted: ``pv-pypxeboot``, ``pv-pygrub``, ``hvm``, ``pvh``, ``pv-kernel``, ``pvh-kernel``."""
    @property
    def os(self) -> Os:
        """The OS release it is installed with."""
    @property
    def boot_image(self) -> str:
        """The boot image its network install uses."""
    @property
    def state(self) -> _BootState:
        """What network boot gives it next, as the fabric says: ``localboot``, ``install``,
        ``reinstall`` or ``rescue``."""
    @property
    def memory_mib(self) -> int:
        """Its memory in MiB."""
    @property
    def vcpus(self) -> int:
        """Its virtual CPUs."""
    @property
    def disks(self) -> tuple[Disk, ...]:
        """Its logical volumes, a tuple of :class:`Disk`."""
    def to_dict(self) -> dict[str, Any]:
        """What ``inventory/hosts/<fqdn>.json`` holds of it: a plain, JSON-able dict with
        every default applied, sizes in MiB, its dom0 as an FQDN."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, tuple[Fabric, str]]:
        """Pickled as ``Fabric.guest(fabric, name)``: the fabric pickles its source."""

@final
class Dom0:
    """A Xen host and its guests, every default applied; get one with :meth:`Fabric.dom0` or
    :attr:`Fabric.dom0s`.

    Frozen. Two dom0s are equal when their :meth:`to_dict` and their guests are. Pickled as
    its name and its fabric."""

    @property
    def name(self) -> str:
        """Its host name."""
    @property
    def fqdn(self) -> str:
        """Its fully qualified name."""
    @property
    def ip(self) -> str:
        """Its IPv4 address."""
    @property
    def mac(self) -> str:
        """Its MAC address."""
    @property
    def network(self) -> Network:
        """The network it installs through."""
    @property
    def hardware(self) -> Hardware:
        """Its hardware profile."""
    @property
    def os(self) -> Os:
        """The OS release it is installed with."""
    @property
    def partitioning(self) -> str:
        """The partition scheme of its disks."""
    @property
    def state(self) -> _BootState:
        """What network boot gives it next, as the fabric says: ``localboot``, ``install``,
        ``reinstall`` or ``rescue``."""
    @property
    def memory_mib(self) -> int:
        """dom0's own memory in MiB."""
    @property
    def vcpus(self) -> int:
        """dom0's virtual CPUs."""
    @property
    def balloon(self) -> bool:
        """Whether dom0 may balloon down to make room for guests."""
    @property
    def toolstack(self) -> str:
        """Its Xen toolstack: ``xm`` or ``xl``."""
    @property
    def guests(self) -> tuple[Guest, ...]:
        """Its guests, a tuple of :class:`Guest`."""
    @property
    def capacity(self) -> Capacity:
        """Its memory, CPUs and volume groups, and what its guests take of them: what
        ``xenfab report`` shows. Computed once."""
    @property
    def volume_groups(self) -> tuple[VolumeGroup, ...]:
        """Each volume group of its partition scheme: ``capacity.volume_groups``."""
    def guest(self, name: str) -> Guest:
        """Its guest ``name``; ``KeyError`` when it has none of that name."""
    def to_dict(self) -> dict[str, Any]:
        """What ``inventory/hosts/<fqdn>.json`` holds of it: a plain, JSON-able dict with
        every default applied and its capacity, sizes in MiB, its guests by name."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, tuple[Fabric, str]]:
        """Pickled as ``Fabric.dom0(fabric, name)``: the fabric pickles its source."""

@final
class Fabric:
    """A fabric description, read and checked; nothing is rendered until asked."""

    @classmethod
    def from_toml(cls, text: str, origin: str = "<string>") -> Fabric: ...
    @classmethod
    def from_json(cls, text: str, origin: str = "<string>") -> Fabric: ...
    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Fabric: ...
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], origin: str = "<dict>") -> Fabric: ...
    @classmethod
    def from_quattor(cls, directory: str | os.PathLike[str]) -> Fabric: ...
    def validate(self) -> list[Diagnostic]: ...
    @overload
    def render(self, *, files: Literal[False] = False) -> dict[str, str | Link]: ...
    @overload
    def render(self, *, files: Literal[True]) -> dict[str, File | Link]: ...
    @overload
    def show(self, host: str, *, files: Literal[False] = False) -> dict[str, str | Link]: ...
    @overload
    def show(self, host: str, *, files: Literal[True]) -> dict[str, File | Link]: ...
    def write(
        self,
        directory: str | os.PathLike[str],
        dry_run: bool = False,
        force: bool = False,
        diff: bool | None = None,
        *,
        no_dhcp: bool = False,
        no_tftp: bool = False,
        hosts: Sequence[str] | None = None,
    ) -> WriteResult: ...
    @property
    def dom0s(self) -> tuple[Dom0, ...]:
        """The dom0s and their guests, with every default filled in and every MAC derived:
        a tuple of :class:`Dom0`, made on first use and kept."""
    @property
    def guests(self) -> tuple[Guest, ...]:
        """Every guest, dom0 by dom0: the :class:`Guest` objects of :attr:`dom0s`."""
    def dom0(self, name: str) -> Dom0:
        """The dom0 ``name`` (its host name); ``KeyError`` when there is none."""
    def guest(self, name: str) -> Guest:
        """The guest ``name`` (its host name), on whichever dom0; ``KeyError`` when there is none."""
    def host(self, name: str) -> Dom0 | Guest:
        """The host ``name``, a :class:`Dom0` or a :class:`Guest`, by its host name or its FQDN
        in either case, as ``xenfab boot`` and :meth:`write`'s ``hosts`` find hosts;
        ``KeyError`` when there is none."""
    def to_dict(self) -> dict[str, Any]:
        """The whole model as plain, JSON-able values, every default applied, sizes in MiB."""
    def report(self) -> list[dict[str, Any]]:
        """The capacity of every dom0, as ``xenfab report --json`` prints it."""
    def boot_states(self, directory: str | os.PathLike[str]) -> list[HostState]:
        """Every host's boot state in the output tree ``directory``, as ``xenfab status`` lists them."""
    def boot(
        self,
        host: str,
        state: _BootState,
        directory: str | os.PathLike[str],
        *,
        wipe_guests: bool = False,
        dry_run: bool = False,
    ) -> HostState:
        """Switch what network boot gives ``host`` next in the output tree ``directory``, as ``xenfab boot`` does.

        With ``dry_run=True`` nothing is written: the state returned is the one the host would
        get, with ``recorded`` false."""
    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled as its source."""
    @property
    def domain(self) -> str:
        """The site's DNS domain."""

def derive_mac(ip: str, scheme: Literal["xen-last3", "local-ipv4"] = "xen-last3") -> str: ...
def hex_ip(ip: str) -> str: ...
def pxelinux_name(mac: str) -> str: ...
def example() -> str: ...
def ks_reinstall(text: str, keep_vgs: Sequence[str] | None = None) -> str: ...

"""Type stubs of the native module ``xenfab._xenfab``; use it through :mod:`xenfab`."""

import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal, final


__all__ = [
    "derive_mac",
    "hex_ip",
    "pxelinux_name",
    "example",
    "ks_reinstall",
    "Diagnostic",
    "Link",
    "WriteResult",
    "Disk",
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
        """Paths that were already right and were not touched."""
    @property
    def removed(self) -> list[str]:
        """Paths xenfab wrote earlier that the fabric no longer has."""
    @property
    def diff(self) -> str | None:
        """The changes as a unified diff (``""`` when there are none), or ``None`` when it was
        not asked for: :meth:`Fabric.write` makes it for a dry run, or with ``diff=True``."""
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
class Guest:
    """A guest (domU) of a dom0."""

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
        """Its MAC address (given, or derived from ``ip``)."""
    @property
    def mode(self) -> str:
        """How it is virtualised and booted: ``pv-pypxeboot``, ``pv-pygrub``, ``hvm``, ``pvh``, ``pv-kernel``, ``pvh-kernel``."""
    @property
    def memory_mib(self) -> int:
        """Its memory in MiB."""
    @property
    def vcpus(self) -> int:
        """Its virtual CPUs."""
    @property
    def disks(self) -> list[Disk]:
        """Its logical volumes."""

@final
class Dom0:
    """A Xen host and its guests."""

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
    def memory_mib(self) -> int:
        """dom0's own memory in MiB."""
    @property
    def vcpus(self) -> int:
        """dom0's virtual CPUs."""
    @property
    def toolstack(self) -> str:
        """Its Xen toolstack: ``xm`` or ``xl``."""
    @property
    def guests(self) -> list[Guest]:
        """Its guests."""

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
    def render(self) -> dict[str, str | Link]: ...
    def write(
        self,
        directory: str | os.PathLike[str],
        dry_run: bool = False,
        force: bool = False,
        diff: bool | None = None,
    ) -> WriteResult: ...
    @property
    def dom0s(self) -> list[Dom0]:
        """The dom0s and their guests, with every default filled in and every MAC derived."""
    @property
    def domain(self) -> str:
        """The site's DNS domain."""

def derive_mac(ip: str, scheme: Literal["xen-last3", "local-ipv4"] = "xen-last3") -> str: ...
def hex_ip(ip: str) -> str: ...
def pxelinux_name(mac: str) -> str: ...
def example() -> str: ...
def ks_reinstall(text: str, keep_vgs: Sequence[str] | None = None) -> str: ...

"""xenfab renders Xen provisioning configs from one fabric description.

A typed Python API over the ``xenfab-core`` Rust crate:

>>> import xenfab
>>> fabric = xenfab.Fabric.from_toml(xenfab.example(), "site.toml")
>>> fabric.validate()
[]
>>> [g.mac for d in fabric.dom0s for g in d.guests if g.name == "ullr"]
['00:16:3e:a8:60:2b']
>>> ullr = fabric.guest("ullr")
>>> ullr.dom0, ullr.os.family, fabric.dom0(ullr.dom0).capacity.cpus
('xen01', 'el4', 8)
>>> tree = fabric.render()
>>> "inventory/hosts.csv" in tree
True
>>> xenfab.derive_mac("192.168.96.43")
'00:16:3e:a8:60:2b'

Reading a fabric: :meth:`Fabric.from_toml`, :meth:`Fabric.from_json`,
:meth:`Fabric.from_file`, :meth:`Fabric.from_dict`, :meth:`Fabric.from_quattor`. Using it:
:meth:`Fabric.validate` (a list of :class:`Diagnostic`), :meth:`Fabric.render` (path ->
contents or :class:`Link`), :meth:`Fabric.write` (a :class:`WriteResult`),
:meth:`Fabric.report`, :meth:`Fabric.boot_states` (:class:`HostState`), :meth:`Fabric.boot`,
and the model, :attr:`Fabric.dom0s`, :attr:`Fabric.guests`, :meth:`Fabric.dom0`,
:meth:`Fabric.guest` (:class:`Dom0`, :class:`Guest`, :class:`Disk`, :class:`Hardware`, :class:`Os`,
:class:`Network`, :class:`Capacity`, :class:`VolumeGroup`): frozen, made once, picklable.

Helpers: :func:`derive_mac`, :func:`hex_ip`, :func:`pxelinux_name`, :func:`ks_reinstall`,
:func:`example`.

Errors: :class:`XenfabError`, and below it :class:`ParseError` (also a :class:`ValueError`,
with ``.line``, ``.column`` and ``.path``), :class:`ValidationError` (also a :class:`ValueError`, with
``.diagnostics``) and :class:`RenderError`. A bad address
or MAC given to a helper raises :class:`ValueError`; a file that cannot be read,
:class:`OSError`.
"""

from ._exceptions import ParseError, RenderError, ValidationError, XenfabError
from ._xenfab import (
    Capacity,
    Diagnostic,
    Disk,
    Dom0,
    Fabric,
    File,
    Guest,
    Hardware,
    HostState,
    Link,
    Network,
    Os,
    VolumeGroup,
    WriteResult,
    __version__,
    derive_mac,
    example,
    hex_ip,
    ks_reinstall,
    pxelinux_name,
)

__all__ = [
    "Capacity",
    "Diagnostic",
    "Disk",
    "Dom0",
    "Fabric",
    "File",
    "Guest",
    "Hardware",
    "HostState",
    "Link",
    "Network",
    "Os",
    "ParseError",
    "RenderError",
    "ValidationError",
    "VolumeGroup",
    "WriteResult",
    "XenfabError",
    "__version__",
    "derive_mac",
    "example",
    "hex_ip",
    "ks_reinstall",
    "pxelinux_name",
]

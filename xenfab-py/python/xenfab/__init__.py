"""xenfab renders Xen provisioning configs from one fabric description.

This is the minimal Python API, backed by the ``xenfab-core`` Rust crate:

>>> import xenfab
>>> xenfab.derive_mac("192.168.96.43")
'00:16:3e:a8:60:2b'
>>> xenfab.pxelinux_name("00:16:3e:a8:60:2b")
'01-00-16-3e-a8-60-2b'
>>> xenfab.hex_ip("192.168.1.2")
'C0A80102'
>>> xenfab.validate(xenfab.example())
[]

Functions:

- :func:`derive_mac` -- the MAC address a scheme derives from an IPv4 address.
- :func:`hex_ip` -- an IPv4 address as the hex name pxelinux and GRUB2 look up.
- :func:`pxelinux_name` -- the pxelinux configuration file name of a MAC address.
- :func:`example` -- the built-in example fabric, as TOML.
- :func:`validate` -- the diagnostics of a fabric file, as dicts.

Invalid input raises :class:`ValueError`.
"""

from typing import TYPE_CHECKING

from ._xenfab import (
    __version__,
    derive_mac,
    example,
    hex_ip,
    pxelinux_name,
    validate,
)

if TYPE_CHECKING:
    # Only a type: validate() returns plain dicts of this shape.
    from ._xenfab import Diagnostic as Diagnostic

__all__ = [
    "__version__",
    "derive_mac",
    "example",
    "hex_ip",
    "pxelinux_name",
    "validate",
]

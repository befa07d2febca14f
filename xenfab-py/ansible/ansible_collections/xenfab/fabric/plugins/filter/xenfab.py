# -*- coding: utf-8 -*-
# Copyright: xenfab contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filters of the xenfab.fabric collection: xenfab's MAC derivation and boot names."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

try:
    import xenfab
except ImportError:
    xenfab = None


def _call(name, fn, *args):
    if xenfab is None:
        raise AnsibleFilterError(
            "%s needs the xenfab Python package on the controller (pip install ./xenfab-py)" % name
        )
    try:
        return fn(*args)
    except ValueError as e:
        raise AnsibleFilterError("%s: %s" % (name, e))


def xenfab_mac(ip, scheme="xen-last3"):
    """The MAC address `scheme` derives from the IPv4 address `ip`."""
    return _call("xenfab_mac", lambda: xenfab.derive_mac(str(ip), str(scheme)))


def xenfab_hex_ip(ip):
    """The IPv4 address in upper-case hex, as pxelinux and GRUB2 look it up: C0A8602B."""
    return _call("xenfab_hex_ip", lambda: xenfab.hex_ip(str(ip)))


def xenfab_pxelinux_name(mac):
    """The pxelinux configuration file name of a MAC address: 01-00-16-3e-a8-60-2b."""
    return _call("xenfab_pxelinux_name", lambda: xenfab.pxelinux_name(str(mac)))


class FilterModule(object):
    """xenfab's filters."""

    def filters(self):
        return {
            "xenfab_mac": xenfab_mac,
            "xenfab_hex_ip": xenfab_hex_ip,
            "xenfab_pxelinux_name": xenfab_pxelinux_name,
        }

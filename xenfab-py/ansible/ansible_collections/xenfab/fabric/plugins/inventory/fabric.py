# -*- coding: utf-8 -*-
# Copyright: xenfab contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: fabric
short_description: The dom0s and guests of a Xen fabric, from xenfab
version_added: "0.2.0"
description:
  - Reads a fabric with xenfab (a fabric file, or a Quattor site's compiled profiles) and
    makes an inventory of its hosts - every dom0 and every guest - with what xenfab made of
    them as host variables.
  - "Groups: C(dom0s) (every dom0), C(guests) (every guest), and a group a dom0 of its guests,
    C(dom0_<name>) (the dom0's host name, each character other than a letter, digit or C(_)
    made C(_): the guests of C(xen-01) are in C(dom0_xen_01)). The prefix keeps the group
    from sharing its name with a host. The dom0 itself is not in it; C(dom0_xen01:xen01.example.org)
    is the dom0 and its guests."
  - "Host variables (prefixed C(xenfab_), so that they do not shadow the play's own): those of
    the host's C(inventory/hosts/<fqdn>.json) in xenfab's output tree (its C(to_dict) in
    xenfab's Python API) - C(xenfab_fqdn), C(xenfab_role) (C(dom0) or
    C(guest)), C(xenfab_name), C(xenfab_ip), C(xenfab_mac), C(xenfab_network),
    C(xenfab_memory) and sizes in MiB, C(xenfab_vcpus), C(xenfab_os), C(xenfab_state), a
    guest's C(xenfab_dom0), C(xenfab_disks) and C(xenfab_mode), a dom0's C(xenfab_hardware),
    C(xenfab_guests) and C(xenfab_capacity); and C(ansible_host), the host's IP address."
  - C(xenfab_dom0) and C(xenfab_guests) name hosts as this inventory does (see
    O(host_names)), so C(hostvars[xenfab_dom0]) is the guest's dom0.
  - "An invalid fabric fails the inventory with every error, one a line
    (C(file:line:col: error[code]: path: message))."
  - The configuration file's name must end in C(.xenfab.yml) or C(.xenfab.yaml) (or be
    C(xenfab.yml) or C(xenfab.yaml)).
  - The C(xenfab) Python package must be installed in the Python that runs Ansible on the
    controller.
options:
  plugin:
    description: The name of this plugin; it marks the file as this plugin's configuration.
    required: true
    type: str
    choices: ["xenfab.fabric.fabric"]
  fabric:
    description:
      - Path of a fabric file (TOML, or JSON with a C(.json) suffix). A relative path is
        relative to the directory of the configuration file.
      - Exactly one of O(fabric) and O(profiles) is required.
    type: str
  profiles:
    description:
      - A directory of a Quattor site's compiled profiles, as C(xenfab quattor render
        --profiles) reads them. A relative path is relative to the directory of the
        configuration file.
      - Exactly one of O(fabric) and O(profiles) is required.
    type: str
  host_names:
    description:
      - How the hosts are named in the inventory - by their FQDN (C(ullr.example.org)), or by
        their host name alone (C(ullr)).
    type: str
    choices: ["fqdn", "name"]
    default: fqdn
  output:
    description:
      - An output tree xenfab rendered into (a relative path is relative to the directory
        of the configuration file). When given, C(xenfab_state) is the boot state
        recorded there (by C(xenfab boot) or the M(xenfab.fabric.boot) module) where there is
        one, as C(xenfab status) shows it, and the fabric's otherwise.
    type: str
extends_documentation_fragment:
  - constructed
requirements:
  - python >= 3.9
  - xenfab (the Python package of xenfab, C(pip install ./xenfab-py))
author:
  - xenfab contributors (!UNKNOWN)
"""

EXAMPLES = r"""
---
# site.xenfab.yml: every host of the fabric file, named by FQDN
plugin: xenfab.fabric.fabric
fabric: /etc/xenfab/fabric.toml

---
# quattor.xenfab.yml: a Quattor site's hosts, by host name, with the boot states of an output
# tree and a group a guest OS
plugin: xenfab.fabric.fabric
profiles: /var/www/html/profiles
host_names: name
output: /srv/xenfab
keyed_groups:
  - key: xenfab_os
    prefix: os
compose:
  ansible_user: "'root'"
"""

import os
import re
import warnings

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable
from ansible.utils.unsafe_proxy import wrap_var

try:
    import xenfab
except ImportError:
    xenfab = None

PREFIX = "xenfab_"


def group_of(dom0_name):
    """The group of a dom0's guests: `dom0_` and its name, made a valid group name."""
    return "dom0_" + re.sub(r"[^A-Za-z0-9_]", "_", dom0_name)


class InventoryModule(BaseInventoryPlugin, Constructable):
    NAME = "xenfab.fabric.fabric"

    def verify_file(self, path):
        if not super(InventoryModule, self).verify_file(path):
            return False
        base = os.path.basename(path)
        return base in ("xenfab.yml", "xenfab.yaml") or base.endswith((".xenfab.yml", ".xenfab.yaml"))

    def _path(self, config, option):
        """The path of `option`, `~` expanded and relative to the configuration file `config`."""
        value = self.get_option(option)
        if value is None:
            return None
        return os.path.join(os.path.dirname(os.path.abspath(config)), os.path.expanduser(value))

    def _read_fabric(self, path):
        fabric_file, profiles = self._path(path, "fabric"), self._path(path, "profiles")
        if (fabric_file is None) == (profiles is None):
            raise AnsibleParserError("%s: give exactly one of `fabric` and `profiles`" % path)
        try:
            if fabric_file is not None:
                fabric = xenfab.Fabric.from_file(fabric_file)
            else:
                fabric = xenfab.Fabric.from_quattor(profiles)
        except (xenfab.XenfabError, ValueError, OSError) as e:
            raise AnsibleParserError("cannot read the fabric: %s" % e)
        errors = [str(d) for d in fabric.validate() if d.severity == "error"]
        if errors:
            raise AnsibleParserError(
                "the fabric is invalid (%d error(s)):\n%s" % (len(errors), "\n".join(errors))
            )
        return fabric

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        if xenfab is None:
            raise AnsibleParserError("the xenfab.fabric.fabric inventory needs the xenfab Python package")
        self._read_config_data(path)
        fabric = self._read_fabric(path)

        by_fqdn = self.get_option("host_names") == "fqdn"

        def named(host):
            return host.fqdn if by_fqdn else host.name

        states = {}
        output = self._path(path, "output")
        if output is not None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    states = {s.host: s.state for s in fabric.boot_states(output)}
                except (xenfab.XenfabError, OSError) as e:
                    raise AnsibleParserError("cannot read the boot states of %s: %s" % (output, e))
            for w in caught:
                self.display.warning("%s: %s" % (output, w.message))

        for group in ("dom0s", "guests"):
            self.inventory.add_group(group)
        for dom0 in fabric.dom0s:
            group = self.inventory.add_group(group_of(dom0.name))
            values = dict(dom0.to_dict())
            values.update(values.pop("dom0"))
            values["guests"] = [named(g) for g in dom0.guests]
            self._add(named(dom0), values, ("dom0s",), states, dom0.fqdn)
            for guest in dom0.guests:
                values = dict(guest.to_dict())
                values["dom0"] = named(dom0)
                self._add(named(guest), values, ("guests", group), states, guest.fqdn)

    def _add(self, host, values, groups, states, fqdn):
        self.inventory.add_host(host)
        for group in groups:
            self.inventory.add_child(group, host)
        if fqdn in states:
            values["state"] = states[fqdn]
        hostvars = dict((PREFIX + k, v) for k, v in values.items())
        hostvars["ansible_host"] = values["ip"]
        for key, value in hostvars.items():
            # The fabric's values are data, never templates: marked unsafe, Ansible before 2.19
            # does not render a `{{ ... }}` in them (2.19 and later trust no inventory data).
            self.inventory.set_variable(host, key, wrap_var(value))
        strict = self.get_option("strict")
        self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)

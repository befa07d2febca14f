#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: xenfab contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: render
short_description: Render a Xen fabric's provisioning files into a directory with xenfab
version_added: "0.1.0"
description:
  - Checks a fabric (a site, its networks and hardware, its dom0s and their guests) as a
    whole and renders every file that provisions it into O(dest) - kickstart files, PXE,
    GRUB2 and iPXE entries, DHCP configurations, hypervisor boot entries, toolstack and guest
    configs, each dom0's C(provision.sh) and an inventory - as C(xenfab render) does.
  - Only what changed is written; a file that is already right is not touched, so the task
    reports C(changed) only when a file was created, changed or removed.
  - xenfab owns the paths it lists in C(DEST/.xenfab-manifest.json) and removes those the
    fabric no longer produces. It never changes or removes a file it did not write; a foreign
    file where an artefact must go fails the task and nothing is written.
  - An invalid fabric fails the task with every error, one a line, and nothing is written.
    Warnings are returned in RV(diagnostics) and shown as task warnings.
  - The C(xenfab) Python package must be installed in the Python interpreter the module runs
    with on the managed host (set C(ansible_python_interpreter) to it).
options:
  dest:
    description:
      - The directory to render into. It is created when it does not exist.
    type: path
    required: true
  no_dhcp:
    description:
      - Leave C(DEST/dhcp/) as it is, as C(xenfab render --no-dhcp) does, for a site whose own
        tools write its DHCP configuration (Quattor's aii-dhcp, say) - nothing there is
        written, changed or removed; a later run without it brings it up to date.
    type: bool
    default: false
    version_added: "0.2.0"
  no_tftp:
    description:
      - Leave C(DEST/tftpboot/) as it is, as C(xenfab render --no-tftp) does (Quattor's
        aii-pxelinux, say).
    type: bool
    default: false
    version_added: "0.2.0"
  hosts:
    description:
      - Write the files of these hosts alone (dom0s or guests, by short name or FQDN) - the
        ones C(xenfab show HOST) lists - a dom0's own files and its C(DEST/dom0s/<fqdn>/)
        (its guests' configs among them), a guest's own files and configs.
      - Every other file is left as it is, as O(no_dhcp) leaves C(DEST/dhcp/) - the site's
        files that list every host (DHCP, DNS, C(inventory/hosts.csv)), the other hosts'
        files, and those of hosts the fabric no longer has are neither written, changed nor
        removed. RV(left_behind) names the parts now out of date; a later run without
        O(hosts) brings them up to date.
      - A name that is no host's fails the task, and nothing is written.
      - Unset, or an empty list, writes every file.
    type: list
    elements: str
    version_added: "0.2.0"
extends_documentation_fragment:
  - xenfab.fabric.fabric
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports what would be created, changed and removed, and writes nothing.
  diff_mode:
    support: full
    details: >-
      The unified diff of every file that would change (C(/dev/null) for created and removed
      files, C(symlink -> target) for links).
  platform:
    platforms: posix
requirements:
  - python >= 3.9
  - xenfab (the Python package of xenfab, C(pip install ./xenfab-py))
notes:
  - The module renders on the managed host; run it with C(connection=local) or
    C(delegate_to=localhost) to render on the controller.
seealso:
  - name: xenfab output tree
    description: Every path the module writes into O(dest).
    link: https://example.invalid/xenfab/docs/output-tree.md
author:
  - xenfab contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Render the site from variables
  xenfab.fabric.render:
    fabric: "{{ xenfab_fabric }}"
    dest: /srv/xenfab

- name: Render a fabric file that is on the host
  xenfab.fabric.render:
    src: /etc/xenfab/fabric.toml
    dest: /srv/xenfab

- name: Render a small site given inline, on the controller
  xenfab.fabric.render:
    dest: "{{ playbook_dir }}/out"
    fabric:
      version: 1
      site: {name: grid, domain: example.org}
      install: {next_server: 192.168.96.1, kickstart_url: "http://192.168.96.1/ks"}
      kickstart: {root_password: "$1$xenfabts$3MnpECyDSxUOqXImm6E4g/"}
      boot_images:
        c5: {kernel: centos-5.2/x86_64/vmlinuz, initrd: centos-5.2/x86_64/initrd.img}
      os:
        c5:
          family: el5
          install_url: "http://192.168.96.1/centos/5.2/os/x86_64"
          boot_image: c5
          kernel_version: 2.6.18-92.1.6.el5   # the Xen kernel the hypervisor entry boots
      networks:
        public: {subnet: 192.168.96.0/24, gateway: 192.168.96.254}
      hardware:
        pe1950:
          ram: 16G
          cpus: 8
          disks: [{name: sda, size: 500GB}, {name: sdb, size: 500GB}]
      dom0s:
        - {name: xen01, ip: 192.168.96.11, mac: "00:1e:c9:2a:11:01", hardware: pe1950, os: c5}
  delegate_to: localhost

- name: See what a change of the fabric would do, without writing it
  xenfab.fabric.render:
    src: /etc/xenfab/fabric.toml
    dest: /srv/xenfab
  check_mode: true
  diff: true
  register: plan

- name: Render all but the DHCP and TFTP files, which aii-dhcp and aii-pxelinux write
  xenfab.fabric.render:
    src: /etc/xenfab/fabric.toml
    dest: /srv/xenfab
    no_dhcp: true
    no_tftp: true

- name: Write the files of one guest alone now, and leave the rest for the next whole run
  xenfab.fabric.render:
    src: /etc/xenfab/fabric.toml
    dest: /srv/xenfab
    hosts: [ullr.example.org]
  register: one_guest
"""

RETURN = r"""
changed:
  description: Whether a file was (or, in check mode, would be) created, changed or removed.
  returned: always
  type: bool
  sample: true
created:
  description: The paths created (or that would be), relative to O(dest).
  returned: success
  type: list
  elements: str
  sample: ["kickstart/ullr.example.org.ks", "tftpboot/pxelinux.cfg/01-00-16-3e-a8-60-2b"]
changed_files:
  description: The paths whose contents, link target or mode changed (or would), relative to O(dest).
  returned: success
  type: list
  elements: str
  sample: ["dhcp/dhcpd.conf"]
removed:
  description: >-
    The paths xenfab wrote before that the fabric no longer produces, removed (or that would
    be), relative to O(dest).
  returned: success
  type: list
  elements: str
  sample: ["dom0s/xen01.example.org/xen/vali"]
unchanged:
  description: >-
    How many paths were already right; those left as they are (O(hosts), O(no_dhcp),
    O(no_tftp)) are not counted.
  returned: success
  type: int
  sample: 120
left_behind:
  description:
    - The parts of the tree whose files the task left as they are (O(hosts), O(no_dhcp),
      O(no_tftp)) while the fabric now makes them differently from what xenfab last wrote
      there - C(null) for the site's part (the files that list every host), then the name of
      each dom0 whose part (its own files and its guests') is behind, in the fabric's order.
    - A later run that leaves nothing brings them up to date. Empty when nothing was left
      behind.
  returned: success
  type: list
  elements: str
  sample: [null, "xen01"]
  version_added: "0.2.0"
diagnostics:
  description:
    - "Every diagnostic of the fabric, one a line (C(file:line:col: severity[code]: path: message))."
    - On success these are warnings; when the task fails they include the errors.
  returned: always
  type: list
  elements: str
  sample: ["fabric.toml:12:3: warning[mac-random-range]: dom0s[xen01].guests[ullr].mac: ..."]
diff:
  description: The unified diff of what changed (or would), in diff mode.
  returned: success, in diff mode
  type: dict
  contains:
    prepared:
      description: The unified diff text.
      type: str
  sample: {prepared: "--- /dev/null\n+++ b/dhcp/dhcpd.conf\n@@ ..."}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.xenfab.fabric.plugins.module_utils.fabric import (
    check_xenfab,
    fail_invalid,
    validated,
    xenfab,
)


def _paths(paths):
    return [str(p) for p in paths]


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            fabric=dict(type="dict"),
            src=dict(type="path"),
            dest=dict(type="path", required=True),
            no_dhcp=dict(type="bool", default=False),
            no_tftp=dict(type="bool", default=False),
            hosts=dict(type="list", elements="str"),
        ),
        mutually_exclusive=[("fabric", "src")],
        required_one_of=[("fabric", "src")],
        supports_check_mode=True,
    )
    check_xenfab(module)

    dest = module.params["dest"]
    fabric, warnings = validated(module)

    try:
        # The diff is made only in diff mode: for a large tree it costs as much as the writing.
        result = fabric.write(
            dest,
            dry_run=module.check_mode,
            diff=bool(module._diff),
            no_dhcp=module.params["no_dhcp"],
            no_tftp=module.params["no_tftp"],
            hosts=module.params["hosts"],
        )
    except xenfab.ValidationError as e:
        fail_invalid(module, list(e.diagnostics))
    except KeyError as e:  # a name in hosts that is no host's: nothing was written
        module.fail_json(msg="cannot render into %s: %s" % (dest, e.args[0]), diagnostics=warnings)
    except (xenfab.XenfabError, OSError) as e:
        module.fail_json(msg="cannot render into %s: %s" % (dest, e), diagnostics=warnings)

    out = dict(
        changed=bool(result.changed_anything),
        created=_paths(result.created),
        changed_files=_paths(result.changed),
        removed=_paths(result.removed),
        unchanged=len(result.unchanged),
        left_behind=list(result.left_behind),
        diagnostics=warnings,
    )
    if module._diff:
        out["diff"] = dict(prepared=result.diff or "")
    module.exit_json(**out)


def main():
    run_module()


if __name__ == "__main__":
    main()

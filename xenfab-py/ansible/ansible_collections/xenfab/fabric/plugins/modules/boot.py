#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: xenfab contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: boot
short_description: Set what network boot gives a host of a Xen fabric next, with xenfab
version_added: "0.2.0"
description:
  - Switches what network boot gives a dom0 or guest next - the installer (C(install)),
    a dom0's reinstall that keeps its guests' volumes (C(reinstall)), its local disk
    (C(localboot)) or the installer's rescue mode (C(rescue)) - in an output tree that
    xenfab rendered (M(xenfab.fabric.render)), as C(xenfab boot HOST STATE -o DEST) does.
    Its pxelinux, GRUB2 and iPXE links in C(DEST/tftpboot) are replaced atomically and the
    state is recorded there, so that the next render keeps it.
  - The task reports C(changed) only when the host's state changes; a host already in
    O(state) (recorded, or the fabric's) is left alone.
  - Without O(state), the task only returns the host's state, as C(xenfab boot HOST) prints it.
  - C(install) of a dom0 that has guests is refused, as its kickstart wipes their volumes; use
    C(reinstall), or set O(wipe_guests).
  - An invalid fabric fails the task with every error, one a line.
  - The C(xenfab) Python package must be installed in the Python interpreter the module runs
    with on the managed host (set C(ansible_python_interpreter) to it).
options:
  host:
    description:
      - The host, by its host name (C(ullr)) or FQDN (C(ullr.example.org)).
    type: str
    required: true
  state:
    description:
      - What network boot gives the host next. Without it, nothing changes and the host's
        state is returned.
    type: str
    choices: [install, reinstall, localboot, rescue]
  wipe_guests:
    description:
      - Allow C(install) of a dom0 that has guests, although the install wipes their volumes.
    type: bool
    default: false
  dest:
    description:
      - The output tree xenfab rendered the fabric into. It must exist.
    type: path
    required: true
extends_documentation_fragment:
  - xenfab.fabric.fabric
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Makes every check, reports whether the state would change, and writes nothing.
  diff_mode:
    support: full
    details: The host's state before and after.
  platform:
    platforms: posix
requirements:
  - python >= 3.9
  - xenfab (the Python package of xenfab, C(pip install ./xenfab-py))
seealso:
  - module: xenfab.fabric.render
  - name: xenfab's host lifecycle
    description: What each state boots, for a dom0 and each kind of guest.
    link: https://example.invalid/xenfab/docs/lifecycle.md
author:
  - xenfab contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Reinstall ullr at its next network boot
  xenfab.fabric.boot:
    host: ullr
    state: install
    src: /etc/xenfab/fabric.toml
    dest: /srv/xenfab

- name: Reinstall dom0 xen01, keeping its guests' volumes
  xenfab.fabric.boot:
    host: xen01.example.org
    state: reinstall
    fabric: "{{ xenfab_fabric }}"
    dest: /srv/xenfab

- name: Back to the local disk once installed
  xenfab.fabric.boot:
    host: ullr
    state: localboot
    src: /etc/xenfab/fabric.toml
    dest: /srv/xenfab

- name: What does vali boot next?
  xenfab.fabric.boot:
    host: vali
    src: /etc/xenfab/fabric.toml
    dest: /srv/xenfab
  register: vali

- name: Would switching vali change anything?
  xenfab.fabric.boot:
    host: vali
    state: rescue
    src: /etc/xenfab/fabric.toml
    dest: /srv/xenfab
  check_mode: true
  diff: true
"""

RETURN = r"""
changed:
  description: Whether the host's state changed (or, in check mode, would).
  returned: always
  type: bool
  sample: true
host:
  description: The host's FQDN.
  returned: success
  type: str
  sample: ullr.example.org
dom0:
  description: The FQDN of a guest's dom0; null for a dom0.
  returned: success
  type: str
  sample: xen01.example.org
state:
  description: The host's state after the task (in check mode, the state it would have).
  returned: success
  type: str
  sample: install
previous:
  description: The host's state before the task.
  returned: success
  type: str
  sample: localboot
recorded:
  description: >-
    Whether O(dest) records the host's state (set by this module or C(xenfab boot)); false
    when it is the fabric's. In check mode, whether it is recorded before the task.
  returned: success
  type: bool
  sample: true
diagnostics:
  description:
    - "The fabric's diagnostics, one a line (C(file:line:col: severity[code]: path: message))."
    - On success these are warnings; when the task fails on an invalid fabric they include the errors.
  returned: always
  type: list
  elements: str
  sample: []
diff:
  description: The host's state before and after, in diff mode.
  returned: changed, in diff mode
  type: dict
  contains:
    before:
      description: C(host state) before.
      type: str
    after:
      description: C(host state) after.
      type: str
  sample: {before: "ullr.example.org localboot\n", after: "ullr.example.org install\n"}
"""

import warnings as pywarnings

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.xenfab.fabric.plugins.module_utils.fabric import check_xenfab, validated, xenfab


def _current(module, fabric, dest, host, diagnostics):
    """The row of `fabric.boot_states(dest)` of `host` (a name or an FQDN), or fail."""
    with pywarnings.catch_warnings(record=True) as caught:
        pywarnings.simplefilter("always")
        try:
            states = fabric.boot_states(dest)
        except (xenfab.XenfabError, OSError) as e:
            module.fail_json(msg="cannot read the boot states of %s: %s" % (dest, e),
                             diagnostics=diagnostics)
    for w in caught:
        module.warn(str(w.message))
    try:
        # the fabric's own lookup: a host name or an FQDN, in either case
        fqdn = fabric.host(host).fqdn
    except KeyError as e:
        module.fail_json(msg=str(e.args[0]), diagnostics=diagnostics)
    for row in states:
        if row.host == fqdn:
            return row
    module.fail_json(msg="no boot state of %s in %s" % (fqdn, dest), diagnostics=diagnostics)


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str", required=True),
            state=dict(type="str", choices=["install", "reinstall", "localboot", "rescue"]),
            wipe_guests=dict(type="bool", default=False),
            fabric=dict(type="dict"),
            src=dict(type="path"),
            dest=dict(type="path", required=True),
        ),
        mutually_exclusive=[("fabric", "src")],
        required_one_of=[("fabric", "src")],
        supports_check_mode=True,
    )
    check_xenfab(module)
    dest, state = module.params["dest"], module.params["state"]
    fabric, diagnostics = validated(module)

    before = _current(module, fabric, dest, module.params["host"], diagnostics)
    out = dict(
        changed=False,
        host=before.host,
        dom0=before.dom0,
        state=before.state,
        previous=before.state,
        recorded=before.recorded,
        diagnostics=diagnostics,
    )
    if state is None or state == before.state:
        module.exit_json(**out)

    try:
        after = fabric.boot(
            before.host, state, dest, wipe_guests=module.params["wipe_guests"], dry_run=module.check_mode
        )
    except (KeyError, ValueError) as e:
        module.fail_json(msg=str(e).strip("\"'"), diagnostics=diagnostics)
    except (xenfab.XenfabError, OSError) as e:
        module.fail_json(msg="cannot switch %s in %s: %s" % (before.host, dest, e),
                         diagnostics=diagnostics)
    out.update(changed=True, state=after.state, recorded=after.recorded or before.recorded)
    if module._diff:
        out["diff"] = dict(
            before="%s %s\n" % (before.host, before.state),
            after="%s %s\n" % (after.host, after.state),
        )
    module.exit_json(**out)


def main():
    run_module()


if __name__ == "__main__":
    main()

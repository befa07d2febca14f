# -*- coding: utf-8 -*-
# Copyright: xenfab contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The options that name the fabric, shared by the modules (module_utils/fabric.py reads
    them): ``extends_documentation_fragment: [xenfab.fabric.fabric]``."""

    DOCUMENTATION = r"""
options:
  fabric:
    description:
      - The fabric, as the structure of a fabric file (C(version), C(site), C(install),
        C(kickstart), C(networks), C(hardware), C(dom0s), ...), given as Ansible variables.
      - See C(docs/fabric-file.md) of xenfab for every key.
      - Exactly one of O(fabric) and O(src) is required.
    type: dict
  src:
    description:
      - Path of a fabric file (TOML, or JSON with a C(.json) suffix) on the managed host.
      - Exactly one of O(fabric) and O(src) is required.
    type: path
"""

# -*- coding: utf-8 -*-
# Copyright: xenfab contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

"""What the collection's modules share: reading the fabric of a task's `fabric` or `src`
option, and failing a task with its diagnostics.

A result never has a `dest` or `path` key: AnsibleModule would add the stat of that path to
it (`uid`, `mode`, `state`, `size`, ...), keys the modules do not document (and `state`
would hide the boot module's own)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import traceback

from ansible.module_utils.basic import missing_required_lib

try:
    import xenfab

    XENFAB_IMPORT_ERROR = None
except ImportError:
    xenfab = None
    XENFAB_IMPORT_ERROR = traceback.format_exc()

_STEP = re.compile(r"([^.\[\]]+)((?:\[\d+\])*)")


def named_path(data, path):
    """`path` (a field path of `Fabric.from_dict`, `dom0s[0].guests[1].memroy`) with each list
    index of an entry that has a `name` replaced by that name (`dom0s[xen01].guests[ullr].memroy`),
    as xenfab's diagnostics name hosts. Whatever does not resolve stays as it is."""
    out = []
    node = data
    for step in path.split("."):
        m = _STEP.fullmatch(step)
        if m is None:
            return path
        key, indexes = m.group(1), m.group(2)
        node = node.get(key) if isinstance(node, dict) else None
        shown = key
        for index in re.findall(r"\d+", indexes):
            i = int(index)
            item = node[i] if isinstance(node, list) and i < len(node) else None
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str) and name and "]" not in name:
                shown += "[%s]" % name
            else:
                shown += "[%d]" % i
            node = item
        out.append(shown)
    return ".".join(out)


def check_xenfab(module):
    """Fail the task when the xenfab package is missing or too old."""
    if xenfab is None:
        module.fail_json(msg=missing_required_lib("xenfab"), exception=XENFAB_IMPORT_ERROR)
    if not hasattr(xenfab, "Fabric"):
        module.fail_json(msg="the installed xenfab package (%s) has no Fabric API" % xenfab.__version__)


def fail_invalid(module, diagnostics):
    """Fail the task with the errors of `diagnostics`, one a line."""
    errors = [str(d) for d in diagnostics if d.severity == "error"]
    module.fail_json(
        msg="the fabric is invalid (%d error(s)):\n%s" % (len(errors), "\n".join(errors)),
        diagnostics=[str(d) for d in diagnostics],
    )


def load(module):
    """The fabric of the task's `src` (a file on the host) or `fabric` (a dict) option, or
    fail the task."""
    data = module.params["fabric"]
    try:
        if module.params["src"] is not None:
            return xenfab.Fabric.from_file(module.params["src"])
        return xenfab.Fabric.from_dict(data, origin="<fabric>")
    except xenfab.ValidationError as e:
        fail_invalid(module, list(e.diagnostics))
    except (xenfab.XenfabError, ValueError, OSError) as e:
        message = str(e)
        path = getattr(e, "path", None)
        if data is not None and path:
            # `dom0s[0].guests[1].memroy` says which host only to one who counts.
            message = message.replace(path, named_path(data, path), 1)
        module.fail_json(msg="cannot read the fabric: %s" % message, diagnostics=[])


def validated(module):
    """The fabric of the task, failing it when the fabric has errors; its warnings are shown
    as the task's and returned (one a line)."""
    fabric = load(module)
    diagnostics = list(fabric.validate())
    if any(d.severity == "error" for d in diagnostics):
        fail_invalid(module, diagnostics)
    warnings = [str(d) for d in diagnostics]
    for w in warnings:
        module.warn(w)
    return fabric, warnings

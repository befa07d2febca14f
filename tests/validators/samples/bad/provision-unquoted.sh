#!/bin/bash
# xenfab sample: an unquoted expansion (a path with a space becomes two arguments)
set -eu
XEN_DIR=${XEN_DIR:-/etc/xen}
install -m 0644 xen/vm01 $XEN_DIR/vm01

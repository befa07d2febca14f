#!/bin/bash
# xenfab sample: a provisioning script shellcheck has nothing to say about
set -eu
XEN_DIR=${XEN_DIR:-/etc/xen}
if ! lvs "xenvg/vm01" >/dev/null 2>&1; then
    lvcreate -L 10240m -n vm01 xenvg
fi
install -m 0644 xen/vm01 "$XEN_DIR/vm01"

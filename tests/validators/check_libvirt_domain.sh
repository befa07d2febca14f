#!/bin/sh
# check_libvirt_domain.sh FILE -- validate a libvirt domain XML (e.g. <domain type='xen'>):
#  1. virt-xml-validate FILE domain   (libvirt's RelaxNG schema; needs xmllint)
#  2. virsh -c test:///default define (libvirt's real domain parser + post-parse checks,
#     in-process mock driver: no daemon, no hypervisor; catches e.g. duplicate disk targets)
# Exit 0 = valid, 1 = invalid, 2 = usage or virsh/virt-xml-validate/xmllint missing.
# Copied from the xenfab test oracles (check_libvirt_domain.sh); only docs and hints changed.
# Debian packages: libvirt-clients (virsh, virt-xml-validate; the test driver is in libvirt0)
# and libxml2-utils (xmllint).
[ $# -eq 1 ] || { echo "usage: $0 domain.xml" >&2; exit 2; }
for c in virt-xml-validate virsh xmllint; do command -v $c >/dev/null ||
  { echo "$c missing (libvirt-clients, libxml2-utils): run scripts/install-validators" >&2; exit 2; }; done
out=$(virt-xml-validate "$1" domain 2>&1) || { echo "$out"; exit 1; }
out=$(virsh -q -c test:///default define "$1" 2>&1) || { echo "$out" | sed '/^$/d'; exit 1; }
echo "$1: OK"

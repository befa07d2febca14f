#!/bin/sh
# check_grub2_cfg.sh FILE -- syntax-check a GRUB2 grub.cfg (or snippet) with
# grub-script-check (grub-common). Syntax only: quoting, braces, if/fi, ...
# Unknown commands (e.g. `multiboot3`) and wrong paths are NOT detected.
# Exit 0 = valid, 1 = invalid, 2 = usage or grub-script-check missing.
# Copied from the xenfab test oracles (check_grub2_cfg.sh); only docs and hints changed.
[ $# -eq 1 ] || { echo "usage: $0 grub.cfg" >&2; exit 2; }
command -v grub-script-check >/dev/null || { echo "grub-script-check missing (grub-common): run scripts/install-validators" >&2; exit 2; }
[ -r "$1" ] || { echo "$1: cannot read"; exit 1; }
out=$(grub-script-check "$1" 2>&1) && { echo "$1: OK"; exit 0; }
# grub-script-check prints a spurious "out of memory" before the real message
echo "$out" | grep -v 'error: out of memory'; exit 1

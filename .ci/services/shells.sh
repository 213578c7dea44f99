#!/usr/bin/env bash
# The shells and the man reader the CLI tests load their generated files
# into: bash, zsh and fish run `smtpprobe completion SHELL`, man renders
# docs/smtpprobe.1. Nothing to start: the tests run them.
#
#   shells.sh install   install zsh, fish and man-db (Debian packages)
#   shells.sh start     nothing
#   shells.sh           both
set -euo pipefail

install() {
  if ! command -v zsh >/dev/null || ! command -v fish >/dev/null || ! command -v man >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends zsh fish man-db groff-base >/dev/null
  fi
}
case "${1:-}" in
  install) install ;;
  start) ;;
  "") install ;;
  *) echo "usage: $0 [install|start]" >&2; exit 2 ;;
esac

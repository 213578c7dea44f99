#!/usr/bin/env bash
# The Postfix lab for the integration tests: 127.0.0.1:2525 (strict),
# 127.0.0.1:2526 (lenient) and 127.0.0.1:2527 (hidden: a banner that does not name
# Postfix). scripts/lab holds the configuration and does the work, so
# CI and a developer's machine run the same lab.
#
#   postfix.sh install   install Postfix and openssl (needs the network)
#   postfix.sh start     write the configuration and start the lab (no network needed)
#   postfix.sh           both
#
# Under .ci/hermetic, SMTPPROBE_CI_STATE names a fresh directory: the lab's files go
# there, so the instance is new and separate from any lab already running on the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -n "${SMTPPROBE_CI_STATE:-}" ]; then
  export LAB_ROOT="$SMTPPROBE_CI_STATE/postfix"
fi
case "${1:-}" in
  install) exec bash scripts/lab install ;;
  start | "") exec bash scripts/lab up ;;
  *) echo "usage: $0 [install|start]" >&2; exit 2 ;;
esac

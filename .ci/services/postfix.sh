#!/usr/bin/env bash
# The Postfix lab for the integration tests: 127.0.0.1:2525 (strict) and
# 127.0.0.1:2526 (lenient). scripts/lab holds the configuration and does the work, so
# CI and a developer's machine run the same lab.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/lab up

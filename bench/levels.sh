#!/usr/bin/env bash
# Issue 13, target 2: the system export of medium x10 against Patient level, a Group of 10 % of
# the patients and a Group of 10 patients, in the same run. bench/levels.sh [scale]
set -euo pipefail
BENCH_MODE=levels exec "$(dirname "${BASH_SOURCE[0]}")/run.sh" "$@"

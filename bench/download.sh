#!/usr/bin/env bash
# Issue 13, target 3: a system export of medium x10 and every file of it downloaded over HTTP,
# plain and with Accept-Encoding: gzip (first request and again), against the export itself
# in the same run. bench/download.sh [scale]
# SLUICE_EXPORT_GZIP_COPY=write bench/download.sh: the same with the gzip copies written by the
# export (--export-gzip-copy write; the server inherits the environment).
set -euo pipefail
BENCH_MODE=download exec "$(dirname "${BASH_SOURCE[0]}")/run.sh" "$@"

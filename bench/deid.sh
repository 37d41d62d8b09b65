#!/usr/bin/env bash
# De-identified export benchmark: bench/run.sh's data, server and figures, with the export
# de-identified by the HIPAA Safe Harbor sample configuration with its two keys set (or another one).
#   bench/deid.sh [scale] [configuration]   (default 10 and ../shared/reference/anonymization/configurations/configuration-sample.json,
#                                             written to bench/work/safe-harbor-keyed.json with dateShiftKey and cryptoHashKey set)
# The engine alone, without server or database (one thread, CPU split into parse, rules and write):
#   java -cp target/sluice.jar bench/DeidEngineBench.java <configuration.json> <data folder> [rounds]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
config="${2:-}"
if [ -z "$config" ]; then
  mkdir -p "$here/work"
  config="$here/work/safe-harbor-keyed.json"
  python3 - "$root/../shared/reference/anonymization/configurations/configuration-sample.json" "$config" <<'PY'
import json, sys
with open(sys.argv[1], encoding="utf-8-sig") as f:
    c = json.load(f)
c["parameters"]["dateShiftKey"] = "sluice-bench-date-shift-key"
c["parameters"]["cryptoHashKey"] = "sluice-bench-crypto-hash-key"
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(c, f, indent=2)
PY
fi
DEID_CONFIG="$(cd "$(dirname "$config")" && pwd)/$(basename "$config")" exec "$here/run.sh" "${1:-10}"

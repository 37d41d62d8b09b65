#!/usr/bin/env bash
# Field-by-field check of Sluice's de-identified export against an independent oracle of the reference engine
# (FHIR Tools for Anonymization), on the shared Synthea data, with the HIPAA Safe Harbor sample configuration.
#   bench/deid-oracle/run.sh [data folder]     (default ../shared/data/small; .ndjson or .ndjson.gz files)
# Steps: installs HL7's fhirpath.js into the git-ignored .tools/deid-oracle; checks the oracle against the
# reference's own test cases; starts a throwaway ./sluice serve, loads the data with ./sluice load; exports it
# twice (plain, and de-identified with the sample, its two keys set so that both sides use the same ones); runs
# the oracle over the plain export; compares. Exit code 0 only when there is no difference.
set -euo pipefail
oracle="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
here="$(cd "$oracle/../.." && pwd)"
k=oracle
# shellcheck source=bench/server.sh
source "$here/bench/server.sh"
data="$(cd "${1:-$shared/data/small}" && pwd)"
sample="$shared/reference/anonymization/configurations/configuration-sample.json"

# the versions pinned in package.json, installed outside the source tree
tools="$here/.tools/deid-oracle"
if ! cmp -s "$oracle/package.json" "$tools/package.json" || [ ! -d "$tools/node_modules/fhirpath" ]; then
  mkdir -p "$tools"
  cp "$oracle/package.json" "$tools/package.json"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error >&2
fi
export NODE_PATH="$tools/node_modules"

node "$oracle/selftest.js" "$shared/reference/anonymization"

out="$work/deid-oracle"
rm -rf "$out"
mkdir -p "$out"
config="$out/safe-harbor-oracle.json"
node -e '
  const [sample, out] = process.argv.slice(1);
  const c = JSON.parse(require("fs").readFileSync(sample, "utf8").replace(/^\uFEFF/, ""));
  c.parameters.dateShiftKey = "sluice-oracle-date-shift-key";
  c.parameters.cryptoHashKey = "sluice-oracle-crypto-hash-key";
  require("fs").writeFileSync(out, JSON.stringify(c, null, 2));' "$sample" "$config"

start_server oracle
"$here/sluice" load --server "$base" "$data" > "$out/load.log" 2>&1 || { cat "$out/load.log" >&2; exit 1; }
tail -n 3 "$out/load.log"
mkdir -p "$tmp/exports/anonymization"
cp "$config" "$tmp/exports/anonymization/"

start=$(date +%s)
node "$oracle/export.js" "$base" "$out/plain"
node "$oracle/export.js" "$base" "$out/sluice" "_container=deid-oracle&_anonymizationConfig=$(basename "$config")"
node "$oracle/oracle.js" --config "$config" --today "$(date -u +%F)" "$out"/plain/*.ndjson "$out/oracle"
echo "exports and oracle: $(( $(date +%s) - start )) s"
node "$oracle/diff.js" "$out/oracle" "$out/sluice"

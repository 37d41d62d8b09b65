#!/usr/bin/env bash
# Field-by-field check of Sluice's de-identification against an independent oracle of the reference engine
# (FHIR Tools for Anonymization): the shared Synthea data exported with the HIPAA Safe Harbor sample configuration,
# and the reference's own test inputs with the sample and the reference's test configurations.
#   bench/deid-oracle/run.sh [data folder]     (default ../shared/data/small; .ndjson or .ndjson.gz files)
# Steps: installs HL7's fhirpath.js into the git-ignored .tools/deid-oracle; checks the oracle against the
# reference's own expected outputs (selftest.js); anonymizes the reference's test inputs with the oracle and with
# Sluice's engine (SluiceAnonymize.java) and compares; starts a throwaway ./sluice serve, loads the data with
# ./sluice load, exports it twice (plain, and de-identified with the sample, its two keys set so that both sides use
# the same ones), runs the oracle over the plain export and compares. Exit code 0 only when nothing differs.
set -euo pipefail
oracle="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
here="$(cd "$oracle/../.." && pwd)"
k=oracle
# shellcheck source=bench/server.sh
source "$here/bench/server.sh"
# shellcheck source=bin/jdk.sh
source "$here/bin/jdk.sh"
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

"$here/sluice" --version >/dev/null   # builds the jar when the sources changed
failed=0
echo "== the reference's test inputs, oracle against Sluice's engine"
inputs="$out/reference-inputs"
mkdir -p "$inputs"
for f in "$shared/reference/anonymization/test-resources"/*.json; do
  case "$f" in *-target.json) continue ;; esac
  node -e 'const fs = require("fs"); const [f, o] = process.argv.slice(1);
    fs.writeFileSync(o, JSON.stringify(JSON.parse(fs.readFileSync(f, "utf8").replace(/^\uFEFF/, ""))) + "\n");' \
    "$f" "$inputs/$(basename "$f" .json).ndjson"
done
# and cases the Synthea data lacks (edge-cases.json: old and partial dates, instants, zip codes, references, ...)
node -e 'const fs = require("fs"); const [f, o] = process.argv.slice(1);
  fs.writeFileSync(o, JSON.parse(fs.readFileSync(f, "utf8")).map((r) => JSON.stringify(r) + "\n").join(""));' \
  "$oracle/edge-cases.json" "$inputs/edge-cases.ndjson"
for c in "$config" "$shared/reference/anonymization/configurations"/{common-config,common-no-partial-config,redact-all-config,r4-configuration-sample}.json; do
  name="$(basename "$c" .json)"
  echo "-- $name"
  node "$oracle/oracle.js" --config "$c" --today "$(date -u +%F)" "$inputs"/*.ndjson "$out/reference/$name/oracle" >/dev/null
  "$JAVA_HOME/bin/java" -cp "$here/target/sluice.jar" "$oracle/SluiceAnonymize.java" "$c" "$inputs"/*.ndjson "$out/reference/$name/sluice"
  node "$oracle/diff.js" "$out/reference/$name/oracle" "$out/reference/$name/sluice" || failed=1
done

echo "== $data exported by Sluice, oracle over the plain export"
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
node "$oracle/diff.js" "$out/oracle" "$out/sluice" || failed=1
exit $failed

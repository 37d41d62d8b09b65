#!/usr/bin/env bash
# De-identified export benchmark: bench/run.sh's data, server and figures, with the export
# de-identified by the HIPAA Safe Harbor sample configuration (or another one).
#   bench/deid.sh [scale] [configuration]   (default 10 and ../shared/reference/anonymization/configurations/configuration-sample.json)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
config="${2:-$root/../shared/reference/anonymization/configurations/configuration-sample.json}"
DEID_CONFIG="$(cd "$(dirname "$config")" && pwd)/$(basename "$config")" exec "$here/run.sh" "${1:-10}"

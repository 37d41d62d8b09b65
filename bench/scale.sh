# Sourced by the bench scripts. scale_medium ROOT K: makes ROOT/bench/work/medium-xK from
# ../shared/data/medium with ../shared/tools/scale_ndjson.py, once (later runs reuse it), and
# sets $data to it.
scale_medium() {
  local root="$1" k="$2" shared
  shared="$(cd "$root/../shared" && pwd)"
  data="$root/bench/work/medium-x$k"
  if [ ! -f "$data/.complete" ]; then
    echo "bench: scaling $shared/data/medium x$k into $data ..." >&2
    rm -rf "$data"
    mkdir -p "$root/bench/work"
    python3 "$shared/tools/scale_ndjson.py" --progress 30 "$shared/data/medium" "$data" "$k" >&2
    touch "$data/.complete"
  fi
}

#!/usr/bin/env bash
# Issue 6 benchmark: all three checks (RELAX NG, the Schematron embedded in tei_all, integrity)
# against tei_all 4.12.0 on 0.5, 1, 2, 4 and 8 MiB of generated TEI, warm schema cache.
# Usage: benches/all-checks.sh   (needs hyperfine, python3 and ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${TEIKIT_SHARED:-../shared}"
TEI_ALL="$SHARED/tei-p5/tei_all-4.12.0.rng"
cargo build --release -q
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export TEIKIT_CACHE_DIR="$work/cache"
cmds=()
for size in 524288 1048576 2097152 4194304 8388608; do
  python3 benches/gen_tei.py "$size" > "$work/t-$size.xml"
  # Valid and free of findings: the time is the cost of checking, not of printing.
  target/release/teikit validate --format short --date 2026-11-30 --schema "$TEI_ALL" "$work/t-$size.xml"
  cmds+=("target/release/teikit validate --format short --date 2026-11-30 --schema $TEI_ALL $work/t-$size.xml")
done
hyperfine -N -w 2 -r "${RUNS:-10}" "${cmds[@]}"

#!/usr/bin/env bash
# Benchmark of `teikit schematron` with the Schematron embedded in tei_all 4.12.0, on generated
# TEI of 0.5, 1, 2, 4 and 8 MiB (benches/gen_tei.py). Times teikit with hyperfine; beside it,
# when installed, tei-rs (RELAX NG + embedded Schematron, up to 2 MiB: its time grows with the
# square of the size) and jing (RELAX NG only, no Schematron) for context.
# Not a test: results go to BENCHMARKS.md by hand, with date and machine.
#
# Usage: benches/schematron.sh [SHARED_DIR]   (default: $TEIKIT_SHARED, else ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${1:-${TEIKIT_SHARED:-../shared}}"
rng="$shared/tei-p5/tei_all-4.12.0.rng"
[ -f "$rng" ] || { echo "missing $rng" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is not installed" >&2; exit 2; }
cargo build --release -q
bin=target/release/teikit
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sizes="0.5 1 2 4 8"
for s in $sizes; do
  bytes=$(python3 -c "print(int($s * 1048576))")
  python3 benches/gen_tei.py "$bytes" > "$work/tei-$s.xml"
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "date: $(date -u +%Y-%m-%d)"
for s in $sizes; do
  hyperfine --warmup 2 --runs 10 --export-markdown "$work/teikit-$s.md" \
    -n "teikit schematron tei_all $s MiB" \
    "$bin schematron --schema $rng --date 2026-11-30 $work/tei-$s.xml" >/dev/null
  tail -n1 "$work/teikit-$s.md"
done
# key-like lookups (benches/lookup.sch): //tei:*[@xml:id = ...] per pointer, count(//note[@n = ...])
for s in $sizes; do
  hyperfine --warmup 2 --runs 10 --export-markdown "$work/lookup-$s.md" \
    -n "teikit schematron lookup.sch $s MiB" \
    "$bin schematron --schema benches/lookup.sch $work/tei-$s.xml" >/dev/null
  tail -n1 "$work/lookup-$s.md"
done
if command -v tei-rs >/dev/null; then
  for s in 0.5 1 2; do
    hyperfine --runs 3 --export-markdown "$work/tei-rs-$s.md" -i \
      -n "tei-rs validate tei_all (RELAX NG + Schematron) $s MiB" \
      "tei-rs validate --schema $rng $work/tei-$s.xml" >/dev/null
    tail -n1 "$work/tei-rs-$s.md"
  done
fi
if command -v jing >/dev/null; then
  for s in 0.5 8; do
    hyperfine --runs 3 --export-markdown "$work/jing-$s.md" -i \
      -n "jing tei_all (RELAX NG only) $s MiB" \
      "jing $rng $work/tei-$s.xml" >/dev/null
    tail -n1 "$work/jing-$s.md"
  done
fi

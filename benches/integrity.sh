#!/bin/sh
# Times what `--checks integrity` adds to RELAX NG validation against tei_all, with hyperfine:
# an ~8 MiB synthetic edition (benches/gen_edition.py) validated with rng only, rng+integrity
# (the default), and integrity alone (with and without tei_all's attribute types). Record the
# results, with the date and machine, in BENCHMARKS.md. Needs: hyperfine, python3, ../shared.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${TEIKIT_SHARED:-$here/../shared}
tei=$shared/tei-p5/tei_all-4.12.0.rng
size=${1:-8388608}
cargo build --release --manifest-path "$here/Cargo.toml"
bin=$here/target/release/teikit
work=$(mktemp -d)
python3 "$here/benches/gen_edition.py" "$size" > "$work/edition.xml"
# The input must be valid and free of integrity findings, so that the time is that of checking.
"$bin" validate --format short --schema "$tei" "$work/edition.xml"
hyperfine -N -w 3 -r 20 \
  -n "rng" "$bin validate --format short --checks rng --schema $tei $work/edition.xml" \
  -n "rng+integrity" "$bin validate --format short --checks rng,integrity --schema $tei $work/edition.xml" \
  -n "integrity (tei_all types)" "$bin validate --format short --checks integrity --schema $tei $work/edition.xml" \
  -n "integrity (TEI list)" "$bin validate --format short --checks integrity $work/edition.xml" \
  -n "well-formedness only" "$bin validate --format short --checks rng $work/edition.xml"
rm -rf "$work"

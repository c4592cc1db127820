#!/bin/sh
# RELAX NG only, cold processes: teikit beside jing and tei-rs validating a ~10 KiB letter and an
# 8 MiB file (both from benches/gen_tei.py, realistic TEI letters: dates, names, notes,
# divisions) against tei_all 4.12.0, timed with hyperfine; peak memory with /usr/bin/time -v.
# teikit runs with its compiled-schema cache warm (one untimed run first) when it has one.
# Record results, with the date and machine, in BENCHMARKS.md. Needs: hyperfine, jing, tei-rs
# (~/.cargo/bin/tei-rs), python3, ../shared (env TEIKIT_SHARED).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${TEIKIT_SHARED:-$here/../shared}
tei=$shared/tei-p5/tei_all-4.12.0.rng
teirs=${TEIRS:-$HOME/.cargo/bin/tei-rs}
runs=${RUNS:-10}
cargo build --release --manifest-path "$here/Cargo.toml"
bin=$here/target/release/teikit
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/benches/gen_tei.py" 10240 > "$work/letter.xml"
python3 "$here/benches/gen_tei.py" 8388608 > "$work/big.xml"
ls -l "$work/letter.xml" "$work/big.xml"
for f in letter big; do
  doc=$work/$f.xml
  "$bin" validate --checks rng --format short --schema "$tei" "$doc" > /dev/null || true
  hyperfine -N -i -w 2 -r "$runs" --export-markdown "$work/$f.md" \
    -n "teikit $f" "$bin validate --checks rng --format short --schema $tei $doc" \
    -n "tei-rs $f" "$teirs validate --no-schematron --schema $tei $doc" \
    -n "jing $f" "jing $tei $doc"
  cat "$work/$f.md"
done
echo "peak memory (maximum resident set size, KiB), 8 MiB file:"
for t in teikit tei-rs jing; do
  case $t in
    teikit) cmd="$bin validate --checks rng --format short --schema $tei $work/big.xml" ;;
    tei-rs) cmd="$teirs validate --no-schematron --schema $tei $work/big.xml" ;;
    jing) cmd="jing $tei $work/big.xml" ;;
  esac
  /usr/bin/time -v $cmd 2> "$work/time.txt" > /dev/null || true
  printf '%s\t%s\n' "$t" "$(grep 'Maximum resident' "$work/time.txt" | awk '{print $NF}')"
done

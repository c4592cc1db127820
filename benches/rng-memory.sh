#!/bin/sh
# Peak memory of `teikit validate --checks rng` against tei_all 4.12.0 as documents grow (issue 3:
# memory stays flat): synthetic TEI from benches/gen_tei.py at 0.5, 2, 8 and 32 MiB, and the
# same documents without their xml:id attributes (the IDs are the one thing RELAX NG's DTD
# compatibility check must remember), and without xml:ids but with every @when a different
# date (distinct values must not grow the memo tables). Peak memory is /usr/bin/time's maximum
# resident set size. Record results, with the date and machine, in BENCHMARKS.md. Needs: python3, GNU time,
# ../shared (env TEIKIT_SHARED).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${TEIKIT_SHARED:-$here/../shared}
tei=$shared/tei-p5/tei_all-4.12.0.rng
cargo build --release --manifest-path "$here/Cargo.toml"
bin=$here/target/release/teikit
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'size\tbytes\txml:ids\tpeak KiB\tpeak KiB without xml:ids\tsame, distinct dates\twall s\n'
for size in 524288 2097152 8388608 33554432; do
  python3 "$here/benches/gen_tei.py" "$size" > "$work/doc.xml"
  sed -E 's/ xml:id="[^"]*"//g' "$work/doc.xml" > "$work/noid.xml"
  python3 - "$work/noid.xml" "$work/dates.xml" <<'PY'
import itertools, re, sys
n = itertools.count()
def date(_):
    i = next(n)
    return 'when="%04d-%02d-%02d"' % (1000 + i // 336 % 1000, 1 + i // 28 % 12, 1 + i % 28)
text = open(sys.argv[1], encoding="utf-8").read()
open(sys.argv[2], "w", encoding="utf-8").write(re.sub(r'when="[^"]*"', date, text))
PY
  "$bin" validate --checks rng --format short --schema "$tei" "$work/doc.xml" > /dev/null
  peak() {
    /usr/bin/time -f '%M %e' "$bin" validate --checks rng --format short --schema "$tei" "$1" \
      2> "$work/time.txt" > /dev/null || true
    tail -1 "$work/time.txt"
  }
  with=$(peak "$work/doc.xml")
  without=$(peak "$work/noid.xml")
  dates=$(peak "$work/dates.xml")
  ids=$(grep -o 'xml:id="' "$work/doc.xml" | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$(wc -c < "$work/doc.xml")" "$ids" \
    "${with% *}" "${without% *}" "${dates% *}" "${with#* }"
done

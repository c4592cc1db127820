#!/bin/sh
# Times `teikit validate` beside jing (the reference RELAX NG validator) with hyperfine:
# compiling tei_all alone, and validating the Schnitzler corpus against it. Record results,
# with the date and machine, in BENCHMARKS.md. Needs: hyperfine, jing, ../shared.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${TEIKIT_SHARED:-$here/../shared}
tei=$shared/tei-p5/tei_all-4.12.0.rng
corpus=$shared/corpora/schnitzler-briefe/editions
cargo build --release --manifest-path "$here/Cargo.toml"
bin=$here/target/release/teikit
empty=$(mktemp -d)
printf '<TEI xmlns="http://www.tei-c.org/ns/1.0"/>\n' > "$empty/min.xml"
hyperfine -N -i -w 2 \
  -n "teikit: compile tei_all" "$bin schema check $tei" \
  -n "jing: compile tei_all" "jing $tei $empty/min.xml"
hyperfine -i -w 1 \
  -n "teikit: 150 letters" "$bin validate --format short --schema $tei $corpus" \
  -n "jing: 150 letters" "jing $tei $corpus/*.xml"
rm -rf "$empty"

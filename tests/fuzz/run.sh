#!/bin/bash
# Builds the fuzz targets on stable Rust (no cargo-fuzz, no nightly: libFuzzer
# from libfuzzer-sys, coverage from LLVM's sancov pass) and runs each target
# alone for SECS seconds, seeded with tests/fixtures/evidence. Prints
# "target rc=N Done R runs in S second(s)" per target.
#   CARGO_TARGET_DIR=… SECS=180 tests/fuzz/run.sh [TARGET…]
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$here/target}
secs=${SECS:-180}
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
triple=$(rustc -vV | sed -n 's/^host: //p')
# --target keeps RUSTFLAGS off build scripts and proc macros.
(cd "$here" && cargo build --release --target "$triple" --bins) || exit 1
bin=$target_dir/$triple/release
fixtures=$root/tests/fixtures/evidence
targets=${*:-evidence_junit evidence_sarif evidence_sbom evidence_provenance evidence_perf \
evidence_pane drift_capture envelope statement policy checkpoint note tlog_proof witness}
for t in $targets; do
  corpus=$here/corpus/$t
  mkdir -p "$corpus" "$here/artifacts/$t"
  case $t in
    evidence_junit) cp -n "$fixtures"/*.xml "$corpus"/ ;;
    evidence_sarif) cp -n "$fixtures"/*.sarif "$fixtures"/*.vex.json "$corpus"/ ;;
    evidence_sbom) cp -n "$fixtures"/*.cdx.json "$fixtures"/*.spdx.json "$corpus"/ ;;
    evidence_provenance) cp -n "$fixtures"/*.dsse.json "$corpus"/ ;;
    evidence_perf) cp -n "$fixtures"/metrics-*.json "$fixtures"/k6-summary.json "$corpus"/ ;;
    evidence_pane) cp -n "$fixtures"/*.xml "$fixtures"/*.json "$fixtures"/*.sarif "$corpus"/ ;;
    policy) cp -n "$root"/src/policy/example.toml "$corpus"/ ;;
  esac
  "$bin/$t" "$corpus" -max_total_time="$secs" -rss_limit_mb=1024 -max_len=262144 -timeout=20 \
    -artifact_prefix="$here/artifacts/$t/" > "$here/artifacts/$t.log" 2>&1
  rc=$?
  echo "$t rc=$rc $(grep -o 'Done [0-9]* runs in [0-9]* second' "$here/artifacts/$t.log" | tail -1)"
done

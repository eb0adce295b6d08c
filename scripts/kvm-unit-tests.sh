#!/usr/bin/env bash
# Build kvm-unit-tests' x86/pmu.flat in a checkout you have, and run it under vpmu in the four code states
# (legacy, base, v4, fix) on the guest PMU of issue 13's acceptance: version 2, 8 GP x 48 bits, 3 fixed x 48
# bits, full-width writes (PERF_CAPABILITIES bit 13), TSX hidden, 256 MiB, QEMU's isa-debug-exit status.
# Prints one SUMMARY line per state and keeps each full console under $OUT (default: a temp directory).
# No kvm-unit-tests code is in this repository: the checkout is yours (docs/loading.md, "kvm-unit-tests").
#
#   scripts/kvm-unit-tests.sh KUT_DIR [TEST] [-- extra vpmu run options]
#     KUT_DIR  a kvm-unit-tests checkout; built with its own ./configure and make when TEST is missing
#     TEST     the flat to run, relative to KUT_DIR (default x86/pmu.flat)
set -euo pipefail

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
kut=$(cd "$1" && pwd)
shift
test_flat=x86/pmu.flat
if [[ $# -gt 0 && $1 != -- ]]; then
  test_flat=$1
  shift
fi
[[ $# -gt 0 && $1 == -- ]] && shift
extra=("$@")

repo=$(cd "$(dirname "$0")/.." && pwd)
vpmu="$repo/dist/cli/main.js"
[[ -f $vpmu ]] || (cd "$repo" && npm run build >/dev/null)

if [[ ! -f $kut/$test_flat ]]; then
  echo "building $test_flat in $kut" >&2
  (cd "$kut" && { [[ -f config.mak ]] || ./configure --arch=x86_64; } && make -j"$(nproc)" "$test_flat") >&2
fi

out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
config=(--pmu-version 2 --gp 8 --gp-width 48 --fixed 3 --fixed-width 48 --perf-caps 0x2000
  --mem 256M --exit-status qemu --max-insns 5000000000)
echo "expected (real KVM, issue 13): SUMMARY: 251 tests, 22 skipped; exit status 1"
for state in legacy base v4 fix; do
  if [[ $state == legacy ]]; then mode=(--pmu legacy); else mode=(--kvm "$state"); fi
  log="$out/$(basename "$test_flat" .flat)-$state.log"
  status=0
  node "$vpmu" run "$kut/$test_flat" "${config[@]}" "${mode[@]}" "${extra[@]}" >"$log" 2>&1 || status=$?
  summary=$(tr -d '\r' <"$log" | grep -a '^SUMMARY:' | tail -n 1 || true) # the guest writes \r\n
  fails=$(grep -ac '^FAIL:' "$log" || true)
  printf '%-7s %s (exit status %d, %s FAIL lines; %s)\n' "$state" "${summary:-no SUMMARY line}" "$status" \
    "$fails" "$log"
done

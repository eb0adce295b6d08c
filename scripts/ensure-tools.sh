#!/usr/bin/env bash
# Installs the Debian tools the test suite needs when they are missing (nasm: the assembler's
# yardstick; binutils' ld: links the native runner of the CPU differential test, test/isa/native.test.ts,
# and the C guests; gcc: compiles the C guests under programs/c, docs/c-guests.md; make: the stand-in
# checkout of test/cli/kvm-unit-tests-script.test.ts). Runs before `npm test`
# and in .ci/run; does nothing when every tool is present.
set -euo pipefail
need=()
command -v nasm >/dev/null 2>&1 || need+=(nasm)
command -v ld >/dev/null 2>&1 || need+=(binutils)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v make >/dev/null 2>&1 || need+=(make)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "vpmu-lab tests need: ${need[*]} (install them with apt-get as root)" >&2; exit 1
  fi
fi
echo "installing Debian packages the tests need: ${need[*]}" >&2
$SUDO apt-get update
$SUDO apt-get install -y "${need[@]}"

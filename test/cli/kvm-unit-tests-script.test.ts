// scripts/kvm-unit-tests.sh on a stand-in checkout (no kvm-unit-tests code here): its ./configure and
// Makefile build x86/pmu.flat from a NASM Multiboot kernel that checks the configuration the script
// passes (CPUID.0AH and PERF_CAPABILITIES) and prints report lines; the script must build it with the
// checkout's own configure and make, run it in the four code states and print one SUMMARY line each.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./run-cli.js";

const tmp = mkdtempSync(join(tmpdir(), "vpmu-kut-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// 32-bit Multiboot entry (address fields, as programs/boot/multiboot-flat.s); checks the PMU that issue 13's
// acceptance names: version 2, 8 GP x 48 bits, mask length 8 (EAX 0x08300802), 3 fixed x 48 bits
// (EDX[12:0] 0x603), full-width writes (PERF_CAPABILITIES 0x2000); then writes 0 to isa-debug-exit.
const KERNEL = `        bits 32
        org 0x100000
mb:     dd 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000)
        dd mb, mb, end, end, start
start:  mov eax, 0xa
        cpuid
        and edx, 0x1fff
        cmp eax, 0x08300802
        jne .bad
        cmp edx, 0x603
        jne .bad
        mov esi, pass_cpuid
        jmp .p1
.bad:   mov esi, fail_cpuid
.p1:    call print
        mov ecx, 0x345
        rdmsr
        mov esi, pass_caps
        cmp eax, 0x2000
        je .p2
        mov esi, fail_caps
.p2:    call print
        mov esi, summary
        call print
        xor eax, eax
        out 0xf4, al
        hlt
print:  mov dx, 0x3fd
.wait:  in al, dx
        test al, 0x20
        jz .wait
        lodsb
        test al, al
        jz .done
        mov dx, 0x3f8
        out dx, al
        jmp print
.done:  ret
pass_cpuid: db "PASS: cpuid 0xa", 13, 10, 0
fail_cpuid: db "FAIL: cpuid 0xa", 13, 10, 0
pass_caps:  db "PASS: perf capabilities", 13, 10, 0
fail_caps:  db "FAIL: perf capabilities", 13, 10, 0
summary:    db "SUMMARY: 2 tests", 13, 10, 0
end:
`;

describe("scripts/kvm-unit-tests.sh", () => {
  it("builds the test with the checkout's configure and make, then prints a SUMMARY line per code state", () => {
    const kut = join(tmp, "kvm-unit-tests");
    mkdirSync(join(kut, "x86"), { recursive: true });
    writeFileSync(join(kut, "x86/pmu.asm"), KERNEL);
    writeFileSync(join(kut, "configure"), '#!/bin/sh\necho "ARCH=x86_64 $*" > config.mak\n');
    chmodSync(join(kut, "configure"), 0o755);
    writeFileSync(join(kut, "Makefile"), "x86/pmu.flat: x86/pmu.asm config.mak\n\tnasm -f bin -o $@ $<\n");
    const out = join(tmp, "logs");
    const r = spawnSync("bash", [join(ROOT, "scripts/kvm-unit-tests.sh"), kut], {
      encoding: "utf8",
      env: { ...process.env, OUT: out },
    });
    if (r.error) throw r.error;
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(kut, "config.mak"))).toBe(true);
    const line = (state: string) =>
      `${state.padEnd(7)} SUMMARY: 2 tests (exit status 1, 0 FAIL lines; ${join(out, `pmu-${state}.log`)})`;
    expect(r.stdout).toBe(
      [
        "expected (real KVM, issue 13): SUMMARY: 251 tests, 22 skipped; exit status 1",
        line("legacy"),
        line("base"),
        line("v4"),
        line("fix"),
        "",
      ].join("\n"),
    );
  });
});

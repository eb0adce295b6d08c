// PMIs at the exact boundary with compiled blocks (issue 16): random loops (ALU, memory, inner branches,
// stack) run on the small KVM with a counter that overflows every N instructions or branches and raises a
// PMI, whose handler logs the interrupted RIP and re-arms the counter. The block tier and the interpreter
// alone (GuestConfig.jit false) must give the same PMI log, registers, memory, counts and console, with
// paging off and on (identity 2 MiB pages loaded by the guest). The budget the vCPU hands the CPU ends a
// block before the overflow (kvm/run.ts instructionsUntilNextEvent), so a wrong count shows here.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { expect, test } from "vitest";
import { assemble } from "../../src/asm/assemble.js";
import { configureVcpu, vcpuGuestConfig } from "../../src/machine/index.js";
import { Guest } from "../../src/vmm/guest.js";

const ORIGIN = "programs/pmu/pmi-jit.s"; // where %include paths are resolved from (not a real file)
const LOG = 64; // PMI log entries kept (a ring)

const OPS = [
  "add rax, rbx",
  "sub rdx, rax",
  "xor esi, edx",
  "adc rdi, rsi",
  "sbb r8d, eax",
  "shl rbx, 3",
  "inc r9",
  "dec r10d",
  "cmp rax, rdx",
  "test esi, edi",
  "imul r8, r9",
  "lea r11, [rax+rbx*2+7]",
  "mov rax, [rbp+8]",
  "add [rbp+16], rdx",
  "mov [rbp+24], esi",
  "movzx ecx, byte [rbp+3]",
  "push rax",
  "pop rcx",
  "jz .s%",
  "jc .s%",
  "setnz cl",
  "cmovs rdx, rsi",
];

function program(body: string[], event: "insns" | "branches", period: number, iters: number, paging: boolean) {
  // Each conditional jump skips the next instruction (a local label after it); push/pop stay paired by
  // popping whatever was pushed at the end of the pass.
  const lines: string[] = [];
  let pushes = 0;
  body.forEach((op, i) => {
    if (op.includes(".s%")) {
      lines.push(op.replace("%", String(i)), "inc r12", `.s${i}:`);
    } else {
      if (op.startsWith("push")) pushes++;
      if (op.startsWith("pop")) {
        if (pushes === 0) return;
        pushes--;
      }
      lines.push(op);
    }
  });
  for (; pushes > 0; pushes--) lines.push("pop rcx");
  const evt = event === "insns" ? "EVENT_INSTRUCTIONS" : "EVENT_BRANCHES";
  const tables = paging
    ? `        lea rdi, [rel pd]
        mov eax, 0x83
        mov ecx, 8
.pd:    mov [rdi], rax
        add rax, 0x200000
        add rdi, 8
        dec ecx
        jnz .pd
        lea rax, [rel pd]
        or rax, 3
        mov [rel pdpt], rax
        lea rax, [rel pdpt]
        or rax, 3
        mov [rel pml4], rax
        lea rax, [rel pml4]
        mov cr3, rax
`
    : "";
  return `        org 0x100000
        bits 64
%include "../lib/vpmu.inc"
        EXC_SETUP
        PMI_SETUP PMI_VECTOR, handler
${tables}        lea rbp, [rel data]
        mov rax, 0x123456789
        mov rbx, 0xfedcba987
        mov rdx, -5
        mov rsi, 77
        mov ecx, MSR_IA32_PERFCTR0
        mov eax, -${period}
        wrmsr
        mov ecx, MSR_P6_EVNTSEL0
        mov eax, ${evt} | ARCH_PERFMON_EVENTSEL_OS | ARCH_PERFMON_EVENTSEL_INT | ARCH_PERFMON_EVENTSEL_ENABLE
        xor edx, edx
        wrmsr
        mov ecx, MSR_CORE_PERF_GLOBAL_CTRL
        mov eax, 1
        wrmsr
        sti
        mov r15, ${iters}
body:
${lines.join("\n")}
        dec r15
        jnz body
        cli
        EXIT 0

handler:
        push rax
        push rcx
        push rdx
        mov rcx, [rel log_n]
        and ecx, ${LOG - 1}
        mov rax, [rsp + 24]
        mov [rel log + rcx * 8], rax
        inc qword [rel log_n]
        mov ecx, MSR_IA32_PERFCTR0
        mov eax, -${period}
        wrmsr
        mov ecx, MSR_CORE_PERF_GLOBAL_OVF_CTRL
        mov eax, 1
        xor edx, edx
        wrmsr
        PMI_EOI
        PMI_UNMASK PMI_VECTOR
        pop rdx
        pop rcx
        pop rax
        iretq

align 8
log_n:  dq 0
log:    times ${LOG} dq 0
data:   times 8 dq 0x0102030405060708
align 4096
pml4:   times 512 dq 0
pdpt:   times 512 dq 0
pd:     times 512 dq 0
`;
}

function run(src: string, jit: boolean) {
  const asm = assemble(src, {
    file: ORIGIN,
    include: (name, from) => {
      const f = join(dirname(from), name);
      return existsSync(f) ? { file: f, text: readFileSync(f, "utf8") } : null;
    },
  });
  if (!asm.ok) throw new Error(asm.error.map((d) => JSON.stringify(d)).join("\n"));
  const cfg = configureVcpu({ host: "icx" });
  if ("error" in cfg) throw new Error(cfg.error);
  const g = Guest.create(asm.value.bytes, asm.value.origin, { ...vcpuGuestConfig(cfg.vcpu), maxInsns: 2e6, jit });
  if ("error" in g) throw new Error(g.error);
  for (;;) {
    const r = g.runChunk(20_000_000);
    if (r === null) continue;
    const cpu = g.cpu;
    const at = (label: string) => {
      const sym = asm.value.symbols.find((y) => y.name === label)?.value;
      if (sym === undefined) throw new Error(label);
      return Number(sym);
    };
    const logAt = at("log_n");
    return {
      status: r.status,
      console: r.console,
      pmis: cpu.dv.getUint32(logAt, true),
      log: Array.from(cpu.mem.subarray(logAt, at("pml4"))),
      regs: Array.from(cpu.regs),
      rflags: cpu.rflags,
      events: { ...cpu.events },
      compiled: cpu.jitStats.compiled,
      paged: cpu.paging,
    };
  }
}

test.each([false, true])("PMIs from compiled loops land where the interpreter's do (paging %s)", (paging) => {
  let pmis = 0,
    compiled = 0;
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...OPS), { minLength: 1, maxLength: 12 }),
      fc.constantFrom("insns" as const, "branches" as const),
      fc.integer({ min: 1, max: 300 }),
      fc.integer({ min: 20, max: 400 }),
      (body, event, period, iters) => {
        const src = program(body, event, period, iters, paging);
        const a = run(src, true),
          b = run(src, false);
        expect(a.status).toBe(0);
        expect(a.paged).toBe(paging);
        expect({ ...a, compiled: 0 }).toEqual({ ...b, compiled: 0 });
        pmis += a.pmis;
        compiled += a.compiled;
      },
    ),
    { numRuns: paging ? 15 : 25, seed: 1616 },
  );
  // Not vacuous: PMIs were raised and blocks were compiled.
  expect(pmis).toBeGreaterThan(100);
  expect(compiled).toBeGreaterThan(10);
});

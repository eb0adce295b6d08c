// #UD and #GP as VM exits (issue 14 items 10 and 4): KVM intercepts every #UD (handle_ud) and, with
// enable_vmware_backdoor, #GP (handle_exception_nmi). The forced emulation prefix makes KVM emulate the
// next instruction and count it with kvm_pmu_instruction_retired / kvm_pmu_branch_retired; the VMware
// backdoor emulates RDPMC of the pseudo-PMCs and IN/OUT of its ports at CPL 3. Exact exit records and counts.
import { describe, expect, it } from "vitest";
import { idtGate, runGuest } from "./harness.js";

const FEP = "db 0x0f, 0x0b, 0x6b, 0x76, 0x6d";
const IDT = `
  jmp start
  align 16
idt: times 256*16 db 0
idtr: dw 256*16-1
      dq idt`;

// GP0 = instructions, GP1 = branches (OS), enabled from the WRMSR of GLOBAL_CTRL on (legacy vPMU).
const COUNTERS = `
  mov ecx, 0x38f
  xor eax, eax
  xor edx, edx
  wrmsr
  mov ecx, 0x186
  mov eax, 0x4200c0
  wrmsr
  mov ecx, 0x187
  mov eax, 0x4200c4
  wrmsr
  mov ecx, 0x38f
  mov eax, 3
  wrmsr`;
const READ = `
  mov ecx, 0x38f
  xor eax, eax
  xor edx, edx
  wrmsr
  mov ecx, 0xc1
  rdmsr
  mov r8d, eax
  mov ecx, 0xc2
  rdmsr
  mov r9d, eax
  out 0xf4, al`;

const exceptionExits = (g: ReturnType<typeof runGuest>) =>
  g.vcpu.exits.filter((e) => e.reason === 0).map((e) => ({ rip: e.rip - 0x100000, outcome: e.outcome, why: e.why }));

describe("forced emulation prefix (force_emulation_prefix)", () => {
  const body = `${IDT}
ud:                        ; #UD handler: r12 = vector marker, r13 = faulting RIP
  mov r12, 6
  mov r13, [rsp]
  add rsp, 40
  jmp done
start:
${idtGate(6, "ud")}
  lidt [idtr]
  xor ebx, ebx
${COUNTERS}
fep1: ${FEP}
  add ebx, 7
fep2: ${FEP}
  jmp short next
  hlt
next:
done:
${READ}`;

  it("on: the instruction after the prefix is emulated and counted by KVM, one EXCEPTION_NMI exit each", () => {
    const g = runGuest(body, { forceEmulationPrefix: true });
    expect(g.exit).toMatchObject({ reason: "io", port: 0xf4 });
    expect(g.cpu.getLo(3)).toBe(7);
    expect(g.cpu.getLo(12)).toBe(0); // no #UD reached the guest
    // WRMSR (KVM's count), add and jmp (emulated), mov ecx, xor, xor before the disabling WRMSR.
    expect(g.cpu.getLo(8)).toBe(6);
    expect(g.cpu.getLo(9)).toBe(1); // the emulated jmp, through kvm_pmu_branch_retired
    const fep1 = exceptionExits(g)[0].rip;
    expect(exceptionExits(g)).toEqual([
      { rip: fep1, outcome: "emulated", why: "forced emulation prefix" },
      { rip: fep1 + 8, outcome: "emulated", why: "forced emulation prefix" },
    ]);
    // Natively retired: the ud2 prefixes never retire, and the emulated instructions are not native.
    expect(g.cpu.events.branches).toBe(1); // the handler-less run's only native branch: jmp start
  });

  it("off: the prefix is a #UD at its ud2, reflected by handle_ud", () => {
    const g = runGuest(body);
    expect(g.cpu.getLo(12)).toBe(6);
    const fep1 = exceptionExits(g)[0].rip;
    expect(g.cpu.getLo(13) - 0x100000).toBe(fep1);
    expect(g.cpu.getLo(3)).toBe(0);
    expect(exceptionExits(g)).toEqual([
      { rip: fep1, outcome: "#UD", why: "#UD reflected (handle_ud: no forced emulation prefix)" },
    ]);
  });

  it("an instruction the model does not emulate under the prefix is a #UD at it, after the prefix", () => {
    const g = runGuest(
      `${IDT}
ud:
  mov r12, 6
  mov r13, [rsp]
  add rsp, 40
  out 0xf4, al
start:
${idtGate(6, "ud")}
  lidt [idtr]
fep: ${FEP}
insn: rdmsr`,
      { forceEmulationPrefix: true },
    );
    expect(g.cpu.getLo(12)).toBe(6);
    const e = exceptionExits(g);
    expect(g.cpu.getLo(13) - 0x100000).toBe(e[0].rip + 5);
    expect(e).toEqual([
      {
        rip: e[0].rip,
        outcome: "#UD",
        why: "forced emulation prefix: forced emulation of 'rdmsr' is not modelled by vpmu; #UD injected",
      },
    ]);
  });
});

describe("VMware backdoor (enable_vmware_backdoor)", () => {
  const ring3 = (user: string) => `${IDT}
gp:
  mov r12, 13
  mov r13, [rsp+8]
  add rsp, 48
  out 0xf4, al
start:
${idtGate(13, "gp")}
  lidt [idtr]
  mov rbx, rsp
  push 0x23
  push rbx
  push 0x2
  push 0x1b
  lea rax, [rel user]
  push rax
  iretq
user:
${user}
  hlt`;

  it("RDPMC 0x10000 at CPL 3 with CR4.PCE = 0 returns the host TSC; GP0 still #GPs", () => {
    const src = ring3("  mov ecx, 0x10000\n  rdpmc\n  mov r14d, eax\n  xor ecx, ecx\n  rdpmc");
    const on = runGuest(src, { enableVmwareBackdoor: true });
    expect(on.cpu.getLo(12)).toBe(13);
    const e = on.vcpu.exits.filter((x) => x.reason === 0);
    expect(e.map((x) => x.outcome)).toEqual(["emulated", "#GP"]);
    expect(e[0].ecx).toBe(0x10000);
    expect(e[1].why).toBe("#GP reflected (check_rdpmc: CPL > 0 with CR4.PCE = 0)");
    // The value is the model's host TSC at the exit (kvm_pmu_rdpmc_vmware), and EAX got it.
    expect(BigInt(on.cpu.getLo(14))).toBe(e[0].value);
    expect(e[0].value).toBeGreaterThan(0n);
    const off = runGuest(src);
    expect(off.cpu.getLo(12)).toBe(13);
    expect(off.vcpu.exits.filter((x) => x.reason === 0)).toEqual([]); // #GP not intercepted
    expect(off.cpu.getLo(13)).toBe(on.vcpu.exits.filter((x) => x.reason === 0)[0].rip); // at the first RDPMC
  });

  it("IN/OUT of ports 0x5658/0x5659 at CPL 3 reach userspace; another port #GPs", () => {
    const src = ring3("  mov dx, 0x5658\n  in eax, dx\n  mov r14d, eax\n  mov dx, 0x5659\n  out dx, al\n  in al, 0x80");
    const g = runGuest(src, { enableVmwareBackdoor: true });
    expect(g.cpu.getLo(14)).toBe(0xffffffff); // the test VMM's value for a port it does not know
    const e = g.vcpu.exits.filter((x) => x.reason === 0);
    expect(e.map((x) => [x.port, x.in, x.outcome])).toEqual([
      [0x5658, true, "emulated"],
      [0x5659, false, "emulated"],
      [undefined, undefined, "#GP"],
    ]);
    expect(e[2].why).toBe("#GP reflected (port 0x80: the TSS I/O bitmap (none in the model) denies it)");
  });
});

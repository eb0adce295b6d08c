// Test harness: assemble a guest with NASM (independent of our assembler), run it on a Vcpu of the small KVM.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cpu } from "../../src/isa/cpu.js";
import { Kvm, type KvmError, type KvmOptions } from "../../src/kvm/kvm.js";
import type { IoHandler, RunExit, Vcpu } from "../../src/kvm/vcpu.js";
import { Vmx } from "../../src/vmx/vmx.js";

/** KvmOptions without the vendor: the tests' KVM runs on the VMX module with the kernel's own policy for its
 *  code state and an idle host. */
export type TestKvmOptions = Omit<KvmOptions, "vendor">;

export function createKvm(opts: TestKvmOptions = {}): Kvm | KvmError {
  return Kvm.create({ vendor: new Vmx(), ...opts });
}

export const ORG = 0x100000;
export const MEM = 16 << 20;

/**
 * Guest source that points IDT vector `vector` at label `handler`: a 64-bit interrupt gate (SDM Vol. 3
 * "IDT Descriptors": offset 15:0, selector 0x08, type 0xE with P = 1 and DPL 0, offset 31:16, offset 63:32)
 * written into the 16-byte-per-vector table at label `idt`. Clobbers RAX and RDI.
 */
export function idtGate(vector: number, handler: string): string {
  return [
    `  lea rax, [rel ${handler}]`,
    `  lea rdi, [rel idt + ${vector}*16]`,
    "  mov [rdi], ax",
    "  mov word [rdi+2], 0x08",
    "  mov byte [rdi+5], 0x8e",
    "  shr rax, 16",
    "  mov [rdi+6], ax",
    "  shr rax, 16",
    "  mov [rdi+8], eax",
  ].join("\n");
}

export function nasm(src: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "vpmu-kvm-"));
  writeFileSync(join(dir, "g.s"), `bits 64\norg 0x${ORG.toString(16)}\n${src}\n`);
  execFileSync("nasm", ["-f", "bin", "-o", join(dir, "g.bin"), join(dir, "g.s")]);
  return new Uint8Array(readFileSync(join(dir, "g.bin")));
}

export class Console implements IoHandler {
  text = "";
  status: number | null = null;
  portIn(): number {
    return 0xffffffff;
  }
  portOut(port: number, _size: 1 | 2 | 4, value: number): boolean {
    if (port === 0xe9) {
      this.text += String.fromCharCode(value & 0xff);
      return false;
    }
    if (port === 0xf4) {
      this.status = value & 0xff;
      return true;
    }
    return false;
  }
}

export interface Guest {
  kvm: Kvm;
  vcpu: Vcpu;
  cpu: Cpu;
  io: Console;
}

export function makeGuest(src: string, opts: TestKvmOptions = {}, setup?: (v: Vcpu) => void): Guest {
  const kvm = createKvm(opts);
  if (!(kvm instanceof Kvm)) throw new Error(kvm.error);
  const vm = kvm.createVm();
  const vcpu = vm.createVcpu();
  setup?.(vcpu);
  const cpu = new Cpu({ memSize: MEM, platform: vcpu.platform });
  cpu.load(ORG, nasm(src));
  cpu.rip = ORG;
  cpu.set64(4, MEM - 0x1000, 0);
  cpu.rsp0Lo = MEM; // the guest ABI's stand-in for TSS.RSP0 (src/vmm/guest.ts)
  const io = new Console();
  vcpu.attach(cpu, io);
  return { kvm, vcpu, cpu, io };
}

export function runGuest(src: string, opts: TestKvmOptions = {}, setup?: (v: Vcpu) => void): Guest & { exit: RunExit } {
  const g = makeGuest(src, opts, setup);
  const exit = g.vcpu.run({ maxInstructions: 10_000_000 });
  return { ...g, exit };
}

// Test helper: assemble a program from programs/ with NASM (independent of our assembler) and run it on a
// Vcpu of the small KVM with the VMX layer attached (mediated or not), like `vpmu run` will.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Cpu } from "../../src/isa/cpu.js";
import { Kvm } from "../../src/kvm/kvm.js";
import type { RunExit, Vcpu } from "../../src/kvm/vcpu.js";
import { findHostActivity } from "../../src/host/activity.js";
import type { HostPresetId } from "../../src/host/presets.js";
import type { VmxLayer } from "../../src/vmx/vmx-layer.js";
import { Vmx } from "../../src/vmx/vmx.js";
import { IsolationChecker } from "../../src/check/checker.js";
import { findPolicy } from "../../src/vmx/policies/index.js";
import type { InterceptPolicy } from "../../src/vmx/policies/policy.js";
import { Console } from "../kvm/harness.js";

export const ROOT = new URL("../../", import.meta.url).pathname;
const MEM = 16 << 20;

export function nasmFile(path: string): Uint8Array {
  const out = join(mkdtempSync(join(tmpdir(), "vpmu-vmx-")), "g.bin");
  execFileSync("nasm", [
    "-f",
    "bin",
    "-i",
    dirname(path) + "/",
    "-i",
    join(ROOT, "programs/lib") + "/",
    "-o",
    out,
    path,
  ]);
  return new Uint8Array(readFileSync(out));
}

export interface GuestModel {
  host?: HostPresetId;
  policy?: string | InterceptPolicy;
  mediated?: boolean;
  version?: number;
  nGP?: number;
  wGP?: number;
  nFX?: number;
  wFX?: number;
  perfCaps?: bigint;
  hostMsrs?: { msr: number; value: bigint }[];
  activity?: string;
}

export interface Run {
  vcpu: Vcpu;
  layer: VmxLayer;
  checker: IsolationChecker;
  cpu: Cpu;
  io: Console;
  exit: RunExit;
}

/** model.md §14.4 guest on SPR: v2, 8×48 GP, 4×48 fixed, caps FW_WRITES, host PERF_METRICS = H. */
export const LEAK_MODEL: GuestModel = {
  host: "spr",
  policy: "v4",
  mediated: true,
  version: 2,
  nGP: 8,
  wGP: 48,
  nFX: 4,
  wFX: 48,
  perfCaps: 0x2000n,
  hostMsrs: [{ msr: 0x329, value: 0x8899aabb11223344n }],
};

export function setupGuest(image: Uint8Array, m: GuestModel, checkInvariants = true): Omit<Run, "exit"> {
  const policy = typeof m.policy === "object" ? m.policy : findPolicy(m.policy ?? "v4")!;
  const vmx = new Vmx({ policy, activity: findHostActivity(m.activity ?? "idle")!, hostMsrs: m.hostMsrs ?? [] });
  const kvm = Kvm.create({
    host: m.host ?? "spr",
    codeState: policy.codeState,
    enableMediatedPmu: m.mediated ?? true,
    vendor: vmx,
  });
  if (!(kvm instanceof Kvm)) throw new Error(kvm.error);
  const vcpu = kvm.createVm().createVcpu();
  const layer = vmx.layerOf(vcpu);
  const checker = new IsolationChecker(checkInvariants);
  layer.attach(checker);
  layer.recordSteps = true;
  if (m.version !== undefined) {
    const eax = (m.version | ((m.nGP ?? 0) << 8) | ((m.wGP ?? 0) << 16) | (8 << 24)) >>> 0;
    const edx = ((m.nFX ?? 0) | ((m.wFX ?? 0) << 5)) >>> 0;
    const r = vcpu.setCpuid(vcpu.withCpuidLeaf({ function: 0xa, index: 0, eax, ebx: 0, ecx: 0, edx }));
    if (!r.ok) throw new Error(r.error);
  }
  if (m.perfCaps !== undefined && !vcpu.setMsr(0x345, m.perfCaps)) throw new Error("PERF_CAPABILITIES rejected");
  const cpu = new Cpu({ memSize: MEM, platform: vcpu.platform });
  cpu.load(0x100000, image);
  cpu.rip = 0x100000;
  cpu.set64(4, MEM - 0x1000, 0);
  const io = new Console();
  vcpu.attach(cpu, io);
  return { vcpu, layer, checker, cpu, io };
}

export function runProgram(rel: string, m: GuestModel, checkInvariants = true): Run {
  const g = setupGuest(nasmFile(join(ROOT, rel)), m, checkInvariants);
  const exit = g.vcpu.run({ maxInstructions: 10_000_000 });
  return { ...g, exit };
}

/** The exit log as "REASON:detail" strings (RDMSR/WRMSR with the MSR, RDPMC with ECX, I/O with the port). */
export function exitSummary(v: Vcpu): string[] {
  return v.exits.map((e) => {
    const d =
      e.msr !== undefined
        ? `0x${e.msr.toString(16)}`
        : e.port !== undefined
          ? `port 0x${e.port.toString(16)}`
          : e.ecx !== undefined && e.name === "RDPMC"
            ? `0x${e.ecx.toString(16)}`
            : "";
    return `${e.name}${d ? " " + d : ""} ${e.outcome}`;
  });
}

// Worker thread for `vpmu sweep`: receives the program list, policy files and its share of the distinct
// programs to assemble once (it answers with those images), then the other workers' images and chunks of
// jobs, and answers each chunk with its run records (structured clone carries the bigints). No output of
// its own.
import { parentPort } from "node:worker_threads";
import { parsePolicyFile, type InterceptPolicy } from "../machine/index.js";
import * as sweep from "../sweep/index.js";

interface InitMessage {
  readonly type: "init";
  readonly specs: sweep.ProgramSpec[];
  readonly policies: { readonly file: string; readonly text: string }[];
  readonly opts: sweep.RunOptions;
  /** One job of each program this worker assembles first (sweep.programShares). */
  readonly assemble: sweep.Job[];
}
interface ProgramsMessage {
  readonly type: "programs";
  readonly entries: [string, sweep.LoadResult][];
}
interface JobsMessage {
  readonly type: "jobs";
  readonly id: number;
  readonly jobs: sweep.Job[];
}

let loader: sweep.ProgramLoader | null = null;
let opts: sweep.RunOptions = {};
const policies = new Map<string, InterceptPolicy>();

parentPort?.on("message", (m: InitMessage | ProgramsMessage | JobsMessage) => {
  if (m.type === "init") {
    loader = new sweep.ProgramLoader(m.specs);
    opts = m.opts;
    for (const p of m.policies) {
      const r = parsePolicyFile(p.file, p.text);
      if (r.ok) policies.set(r.policy.id, r.policy);
    }
    for (const j of m.assemble) loader.load(j.program, j.config);
    parentPort!.postMessage({ programs: loader.entries() });
    return;
  }
  if (m.type === "programs") {
    loader!.adopt(m.entries);
    return;
  }
  try {
    const records = sweep.runJobs(m.jobs, loader!, policies, undefined, opts);
    parentPort!.postMessage({ id: m.id, records });
  } catch (err) {
    parentPort!.postMessage({
      id: m.id,
      error: err instanceof Error ? `${err.message}\n${err.stack ?? ""}` : String(err),
    });
  }
});

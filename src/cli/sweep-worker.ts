// Worker thread for `vpmu sweep`: receives the program list and policy files, then chunks of jobs and the
// images other workers assembled (sweep.ChunkPlan), and answers each chunk with its run records (structured
// clone carries the bigints) and the programs it assembled for it. No output of its own.
import { parentPort } from "node:worker_threads";
import { parsePolicyFile, type InterceptPolicy } from "../machine/index.js";
import * as sweep from "../sweep/index.js";

interface InitMessage {
  readonly type: "init";
  readonly specs: sweep.ProgramSpec[];
  readonly policies: { readonly file: string; readonly text: string }[];
  readonly opts: sweep.RunOptions;
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
    return;
  }
  if (m.type === "programs") {
    loader!.adopt(m.entries);
    return;
  }
  try {
    const records = sweep.runJobs(m.jobs, loader!, policies, undefined, opts);
    parentPort!.postMessage({ id: m.id, records, programs: loader!.fresh() });
  } catch (err) {
    parentPort!.postMessage({
      id: m.id,
      error: err instanceof Error ? `${err.message}\n${err.stack ?? ""}` : String(err),
    });
  }
});

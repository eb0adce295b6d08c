/**
 * Entry point of the presentation: what a run, a machine or the demo looks like to a user — the exit log
 * (`--exits`), the run document (`--json`), leak and invariant lines, `vpmu explain`, the event totals,
 * the unified diff and the demo's side-by-side report. Values in, text or JSON-ready objects out.
 */
export {
  ExitLogStream,
  formatExit,
  formatExitLog,
  formatExitsWithSwitches,
  formatRunTrace,
  runTraceFooter,
  runTraceHeader,
} from "./exit-log.js";
export { bareRunDocument, runDocument } from "./run-document.js";
export type { BareRunDocument, RunDocument, RunDocumentExit, RunDocumentLeak } from "./run-document.js";
export { explainMachine, formatExplain } from "./explain.js";
export type { ExplainReport, ExplainMsr } from "./explain.js";
export { formatEvents } from "./events.js";
export { ExitExpectations } from "./exit-expect.js";
export { unifiedDiff, unifiedDiffLines } from "./diff.js";
export { demoReport, NativeRdpmcLog } from "./demo.js";
export type { DemoScenario, DemoSide, DemoStyle, NativeRdpmc, Paint } from "./demo.js";
export { formatLeak, letThrough } from "./let-through.js";
export type { LetThroughAccess } from "./let-through.js";
export { formatViolation } from "../check/isolation.js";
export {
  bareDocumentEnd,
  consoleJson,
  documentEnd,
  documentHead,
  documentMiddle,
  exitJson,
} from "./run-document-stream.js";

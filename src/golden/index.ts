// The golden-output runner's pure core (no I/O): header parsing, the .out format, comparison with a
// unified diff, and the line/TAP/JSON reporters. `vpmu test` (src/cli/commands/test.ts) drives it.
export { parseHeader, splitWords, type GoldenHeader, type HeaderResult } from "./header.js";
export { goldenText, goldenPathFor, NO_NEWLINE_MARKER } from "./expected.js";
export { parseSummary, type GuestSummary } from "./summary.js";
export { unifiedDiff } from "../report/diff.js";
export { judge, type GoldenResult, type JudgeInput, type RunOutcome, type Verdict } from "./verdict.js";
export {
  REPORTERS,
  type ReporterName,
  type Totals,
  totals,
  resultLine,
  failureDetails,
  stderrBlock,
  totalsLine,
  lineReport,
  tapReport,
  jsonReport,
} from "./reporters.js";
export { programName, isProgramFile, PROGRAM_EXTENSIONS } from "./name.js";

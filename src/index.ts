export {};
// Golden-output runner core (header, .out format, unified diff, reporters): golden.judge(…) etc.
export * as golden from "./golden/index.js";

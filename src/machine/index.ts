/**
 * Entry point of the composition root: what it takes to describe, build and run a machine. It also
 * re-exports the vocabulary a machine description is written in (host presets and activities, policy
 * files, PMU event filters), so a front end (the CLI, the sweep, a test) needs no deeper import.
 */
export { buildMachine, openKvm, setGuestPmu } from "./machine.js";
export type { GuestPmuRequest, Machine, MachineError, MachineSpec, PmuMode } from "./machine.js";
export { configureVcpu, createMachine } from "./options.js";
export type { ConfiguredVcpu, MachineOptions, VpmuOptions } from "./options.js";
export { loadGuest, runToEnd, vcpuGuestConfig } from "./vcpu-guest.js";
export { applyHostStep, describeHostStep } from "./host-steps.js";
export type { HostStep } from "./host-steps.js";
export { HOST_ACTIVITIES, findHostActivity } from "../host/activity.js";
export type { HostMsrValue } from "../host/activity.js";
export { HOST_PRESET_IDS, findHostPreset } from "../host/presets.js";
export { isFilterError, parsePmuFilterFile, preparePmuEventFilter } from "../pmu/filter.js";
export type { PmuEventFilterInput } from "../pmu/filter.js";
export { findPolicy, parsePolicyFile } from "../vmx/policies/index.js";
export type { InterceptPolicy } from "../vmx/policies/index.js";

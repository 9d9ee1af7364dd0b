/**
 * Test-only defects, off unless `PIPE_FAULT_INJECT` is set (`relay:<name>,actor:<name>`): the first transfer
 * (`relay`) or the first join (`actor`) on pipe `<name>` dies there. The suites use it to prove that a defect
 * in the data path or in a path's actor becomes a visible outcome and never a hang or a crash.
 */
const armed = new Set(
  (process.env["PIPE_FAULT_INJECT"] ?? "").split(",").map((entry) => entry.trim()).filter((entry) => entry !== "")
)

export type FaultSite = "relay" | "actor"

/** Whether to fail here now; each armed fault fires once. */
export const injectedFault = (site: FaultSite, name: string): boolean =>
  armed.size > 0 && armed.delete(`${site}:${name}`)

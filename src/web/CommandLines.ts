/** One curl one-liner of the home page. */
export interface CommandLine {
  readonly id: string
  readonly label: string
  readonly line: string
}

/**
 * The curl one-liners for a path on this host: the server renders them for `mypath`, the page's script again
 * for the path typed in.
 */
export const commandLines = (base: string, path: string, n: number): ReadonlyArray<CommandLine> => {
  const url = (query: string): string => {
    const params = [n > 1 ? `n=${n}` : "", query].filter((p) => p !== "").join("&")
    const full = `${base}/api/v1/pipe/${path}${params === "" ? "" : `?${params}`}`
    return params === "" ? full : `"${full}"`
  }
  return [
    { id: "send", label: "Send a file", line: `curl -T myfile ${url("")}` },
    { id: "text", label: "Send a text", line: `echo 'hello' | curl -T - ${url("")}` },
    { id: "dir", label: "Send a folder", line: `tar czf - mydir | curl -T - ${url("")}` },
    { id: "receive", label: "Receive", line: `curl ${url("")} > myfile` },
    { id: "watch", label: "Watch the progress", line: `curl -N ${url("progress")}` }
  ]
}

import * as V8 from "node:v8"

/**
 * A small young generation, set before anything else loads. Start-up (Effect's modules, the Schemas) grows
 * V8's semi-spaces to 8 MB, and a relay allocates little JS per chunk, so scavenges become rare: the socket
 * buffers of a transfer (external memory) then outlive them and are freed only by full mark-compacts, 26 of
 * them per GiB against piping-server's 6, ~30% more server CPU per byte. Capped at 1 MB, scavenges free the
 * buffers young (measured on Node 24 with the built server: 48 scavenges and 1 mark-compact per GiB, 2 GiB
 * throughput 1.03x piping-server in `npm run bench`) and an idle server keeps a smaller heap. Flags set at run time apply to what V8 sizes from
 * then on, which is why this module is the entry point's first import.
 */
V8.setFlagsFromString("--max-semi-space-size=1")
V8.setFlagsFromString("--semi-space-growth-factor=1")

/** `/help`: curl usage for this very host. */
export const helpText = (base: string, version: string): string =>
  `pipe ${version}: stream bytes from a sender to receivers through a URL; nothing is stored.

Send (PUT or POST; either side may come first):
  curl -T myfile ${base}/api/v1/pipe/mypath
  tar czf - mydir | curl -T - "${base}/api/v1/pipe/mypath?total=123456"

Receive:
  curl ${base}/api/v1/pipe/mypath > myfile
  curl ${base}/api/v1/pipe/mypath | tar xzf -

Several receivers (everyone gives the same n, up to 256):
  curl -T myfile "${base}/api/v1/pipe/mypath?n=3"
  curl "${base}/api/v1/pipe/mypath?n=3" > myfile

Watch a transfer (never takes a receiver slot):
  curl -N "${base}/api/v1/pipe/mypath?progress"                                # SSE events
  curl -H "Accept: application/json" "${base}/api/v1/pipe/mypath?progress"     # JSON snapshot
  open ${base}/api/v1/pipe/mypath?progress in a browser                        # live dashboard

Short paths work too: ${base}/mypath is the same pipe as ${base}/api/v1/pipe/mypath.
`

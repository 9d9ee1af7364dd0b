import { execFileSync } from "node:child_process"
import { X509Certificate } from "node:crypto"
import { readFileSync } from "node:fs"
import { artifactPath } from "./artifacts.js"

/** A self-signed test certificate made now, for 127.0.0.1 and localhost, and its key, as PEM files. */
export interface TestCertificate {
  readonly certFile: string
  readonly keyFile: string
  /** SHA-256 fingerprint as Node's `X509Certificate` and `TLSSocket#getPeerX509Certificate` print it. */
  readonly fingerprint: string
}

/** `openssl req -x509` with an EC P-256 key (fast to make): a fresh pair per call, never checked in. */
export const makeCertificate = (label: string, commonName = "pipe-test"): TestCertificate => {
  const certFile = artifactPath(`${label}-cert`, "pem")
  const keyFile = artifactPath(`${label}-key`, "pem")
  execFileSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${commonName}`,
    "-addext",
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-keyout",
    keyFile,
    "-out",
    certFile
  ], { stdio: ["ignore", "ignore", "pipe"] })
  return { certFile, keyFile, fingerprint: new X509Certificate(readFileSync(certFile)).fingerprint256 }
}

/** The flags that make `pipe server` speak HTTPS with this certificate. */
export const tlsFlags = (
  cert: TestCertificate
): Array<string> => ["--tls-cert", cert.certFile, "--tls-key", cert.keyFile]

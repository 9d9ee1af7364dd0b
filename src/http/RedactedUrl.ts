/**
 * A request target as it may be logged: the value of every `token` parameter replaced (protocol §12: a token is
 * never logged). Browsers and EventSource can only send a token in the query, so any URL may carry one; a key is
 * compared decoded (`%74oken` is `token` to the server too).
 */
export const withoutToken = (target: string): string => {
  const question = target.indexOf("?")
  if (question === -1) return target
  const parts = target.slice(question + 1).split("&").map((part) => {
    const equals = part.indexOf("=")
    const key = equals === -1 ? part : part.slice(0, equals)
    return decodedKey(key) === "token" ? `${key}=[redacted]` : part
  })
  return `${target.slice(0, question)}?${parts.join("&")}`
}

const decodedKey = (key: string): string => {
  try {
    return decodeURIComponent(key.replace(/\+/g, " "))
  } catch {
    return key
  }
}

import { Duration, Option } from "effect"

/** `250ms`, `30s`, `30m`, `1h` (protocol §8). */
export const parseDuration = (text: string): Option.Option<Duration.Duration> => {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim())
  if (match === null) return Option.none()
  const value = Number(match[1])
  switch (match[2]) {
    case "ms":
      return Option.some(Duration.millis(value))
    case "s":
      return Option.some(Duration.seconds(value))
    case "m":
      return Option.some(Duration.minutes(value))
    default:
      return Option.some(Duration.hours(value))
  }
}

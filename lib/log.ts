/**
 * The one place that writes logs: structured JSON lines on stdout/stderr. Never pass tokens or secrets.
 *
 * @module
 */

/** Log levels. */
export type LogLevel = "debug" | "info" | "warn" | "error";

let quiet = false;

/** Silences `info` and `debug` (tests). */
export function setQuiet(value: boolean): void {
  quiet = value;
}

/** Writes one JSON log line. */
export function log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  if (quiet && (level === "info" || level === "debug")) return;
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
  // deno-lint-ignore no-console
  (level === "error" || level === "warn" ? console.error : console.log)(line);
}

/** An error's name and message, for a log field (no stack, no cause chain with possible secrets). */
export function errorFields(err: unknown): Record<string, unknown> {
  return err instanceof Error ? { error: `${err.name}: ${err.message}` } : { error: String(err) };
}

/**
 * The one place that writes logs: structured JSON lines on stdout/stderr. Never pass tokens or secrets.
 *
 * Warnings and errors are written at once. The per-request lines (`logLater`) are gathered and written
 * together every {@linkcode LOG_BATCH_MS} ms (one write instead of one per request), at most
 * {@linkcode LOG_BATCH_LINES} lines held; `flushLogs()` writes them at once (shutdown, process exit).
 * A crash loses at most the lines of the last {@linkcode LOG_BATCH_MS} ms.
 *
 * @module
 */

/** Log levels. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Batched lines are written at most this long after they were logged. */
export const LOG_BATCH_MS = 50;
/** Batched lines held at most; reaching it writes them at once. */
export const LOG_BATCH_LINES = 1000;

let quiet = false;
let pending: string[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;

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

/**
 * Logs one `info` line in the next batch (per-request lines, off the response path). The line's
 * `time` is when it was logged, not when it was written.
 */
export function logLater(msg: string, fields: Record<string, unknown> = {}): void {
  if (quiet) return;
  pending.push(JSON.stringify({ time: new Date().toISOString(), level: "info", msg, ...fields }));
  if (pending.length >= LOG_BATCH_LINES) flushLogs();
  else if (timer === undefined) timer = setTimeout(flushLogs, LOG_BATCH_MS);
}

/** Writes every batched line now. */
export function flushLogs(): void {
  clearTimeout(timer);
  timer = undefined;
  if (pending.length === 0) return;
  const lines = pending;
  pending = [];
  // deno-lint-ignore no-console
  console.log(lines.join("\n"));
}

globalThis.addEventListener("unload", flushLogs);

/** An error's name and message, for a log field (no stack, no cause chain with possible secrets). */
export function errorFields(err: unknown): Record<string, unknown> {
  return err instanceof Error ? { error: `${err.name}: ${err.message}` } : { error: String(err) };
}

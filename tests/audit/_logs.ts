/**
 * Test helper: captures the JSON lines `lib/log.ts` writes to stderr (warnings and errors), so tests
 * can assert that a failure was logged, without the noise in the test output.
 *
 * @module
 */

/** Captured log lines; restore `console.error` with `using` or `restore()`. */
export interface CapturedLogs extends Disposable {
  /** The parsed lines so far. */
  lines: Record<string, unknown>[];
  /** The `msg` of each line so far. */
  messages(): string[];
  restore(): void;
}

/** Replaces `console.error` until disposed. */
export function captureLogs(): CapturedLogs {
  // deno-lint-ignore no-console
  const original = console.error;
  const lines: Record<string, unknown>[] = [];
  // deno-lint-ignore no-console
  console.error = (line: unknown) => {
    try {
      lines.push(JSON.parse(String(line)));
    } catch {
      lines.push({ msg: String(line) });
    }
  };
  // deno-lint-ignore no-console
  const restore = () => void (console.error = original);
  return {
    lines,
    messages: () => lines.map((line) => String(line["msg"])),
    restore,
    [Symbol.dispose]: restore,
  };
}

/**
 * Retrying a KV operation that failed because a local SQLite KV file was locked by another process
 * ("database is locked"): what several instances sharing one KV file (local multi-process runs, the
 * cluster tests) meet under write contention. Deno Deploy's KV and KV Connect do not fail this way.
 *
 * @module
 */

/** Attempts before the error is passed on. */
const ATTEMPTS = 8;

/** Whether `err` is SQLite's busy error. */
export function isLocked(err: unknown): boolean {
  return err instanceof Error && /database is locked/i.test(err.message);
}

/** Runs `op`, retrying with jittered backoff (5 ms doubling, up to ~0.6 s in all) while locked. */
export async function retryLocked<T>(op: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (!isLocked(err) || attempt >= ATTEMPTS) throw err;
      const delay = 5 * 2 ** (attempt - 1) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

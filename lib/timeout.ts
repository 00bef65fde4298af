/**
 * Waiting for a promise at most so long, without leaving a timer behind.
 *
 * @module
 */

/** Raised by {@linkcode withTimeout} when the time is up. */
export class TimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer in ${ms} ms`);
    this.name = "TimeoutError";
  }
}

/** Resolves like `promise`, or rejects with {@linkcode TimeoutError} after `ms`; clears its timer. */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((
        _,
        reject,
      ) => (timer = setTimeout(() => reject(new TimeoutError(ms)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

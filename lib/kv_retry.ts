/**
 * Several processes sharing one local KV file (instances on one machine, the cluster tests) meet
 * SQLite's "database is locked" when atomics with checks contend: measured with 3 processes × 4
 * workers doing check-and-set on one key, 70–133 of 400 commits per process failed that way. A failed
 * commit applied nothing, so it is safe to run again. {@linkcode retryOnLock} wraps a handle so that
 * every `atomic().commit()`, `set` and `delete` does, and callers never see the error (which would
 * otherwise surface as a 500). Deno Deploy's KV and KV Connect do not fail this way and are not
 * wrapped.
 *
 * Written here because no library wraps Deno KV; a Proxy keeps every other method as it is.
 *
 * @module
 */

/** Attempts before the error is passed on. */
const ATTEMPTS = 10;

/** Whether `err` is SQLite's busy error. */
export function isLocked(err: unknown): boolean {
  return err instanceof Error && /database is locked/i.test(err.message);
}

/** Runs `op`, retrying with jittered backoff (5 ms doubling, ~2.5 s in all) while locked. */
export async function retryLocked<T>(op: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (!isLocked(err) || attempt >= ATTEMPTS) throw err;
      const delay = Math.min(500, 5 * 2 ** (attempt - 1)) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

type Step = (op: Deno.AtomicOperation) => void;

/** An atomic operation that records its steps and replays them on a fresh one for each attempt. */
class RetryingAtomic implements Deno.AtomicOperation {
  #kv: Deno.Kv;
  #steps: Step[] = [];

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  #add(step: Step): this {
    this.#steps.push(step);
    return this;
  }

  check(...checks: Deno.AtomicCheck[]): this {
    return this.#add((op) => op.check(...checks));
  }
  mutate(...mutations: Deno.KvMutation[]): this {
    return this.#add((op) => op.mutate(...mutations));
  }
  sum(key: Deno.KvKey, n: bigint): this {
    return this.#add((op) => op.sum(key, n));
  }
  min(key: Deno.KvKey, n: bigint): this {
    return this.#add((op) => op.min(key, n));
  }
  max(key: Deno.KvKey, n: bigint): this {
    return this.#add((op) => op.max(key, n));
  }
  set(key: Deno.KvKey, value: unknown, options?: { expireIn?: number }): this {
    return this.#add((op) => op.set(key, value, options));
  }
  delete(key: Deno.KvKey): this {
    return this.#add((op) => op.delete(key));
  }
  enqueue(
    value: unknown,
    options?: { delay?: number; keysIfUndelivered?: Deno.KvKey[]; backoffSchedule?: number[] },
  ): this {
    return this.#add((op) => op.enqueue(value, options));
  }
  commit(): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
    return retryLocked(() => {
      const op = this.#kv.atomic();
      for (const step of this.#steps) step(op);
      return op.commit();
    });
  }
}

/** `kv`, with `atomic().commit()`, `set` and `delete` retried while the file is locked. */
export function retryOnLock(kv: Deno.Kv): Deno.Kv {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") return () => new RetryingAtomic(target);
      if (prop === "set" || prop === "delete") {
        return (...args: unknown[]) =>
          retryLocked(() => (target[prop] as (...a: unknown[]) => Promise<unknown>)(...args));
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

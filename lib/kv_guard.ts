/**
 * Storage trouble as an answer, not a hang or a crash. {@linkcode guardKv} wraps a Deno KV handle so
 * that every read, write and commit either settles within a deadline or fails with a
 * {@linkcode StorageError}, which `app/app.ts` answers 503 with `Retry-After`:
 *
 * - a local file locked by another process blocks SQLite reads for as long as the lock is held
 *   (measured: a `get` waited 19 s behind a 19 s exclusive lock), so every operation races a timer;
 * - a disk error, a read-only file or a lost KV Connect link throws from the runtime; those become
 *   `StorageError("kv_failed")`;
 * - a value or key over Deno KV's limits (64 KiB values, 2 KiB keys) is the caller's data being too
 *   large, not storage trouble: it becomes a 400 ({@linkcode RequestError} `field_too_large`) as a last
 *   line behind the size checks each store makes before writing.
 *
 * A timed-out commit may still apply later; commits are atomic, so it applies whole or not at all.
 * Written here because no library wraps Deno KV; a Proxy keeps every other method (`watch`, `close`)
 * as it is.
 *
 * @module
 */
import { RequestError, StorageError } from "./errors.ts";
import { TimeoutError, withTimeout } from "./timeout.ts";

/** How long one KV operation may take before the request is answered 503. */
export const KV_OP_TIMEOUT_MS = 5000;

/** Options of {@linkcode guardKv}. */
export interface GuardOptions {
  /** Deadline of one operation; default {@linkcode KV_OP_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/** Runs one KV operation under the deadline, translating its failures. */
export async function guarded<T>(op: () => Promise<T>, timeoutMs = KV_OP_TIMEOUT_MS): Promise<T> {
  try {
    return await withTimeout(op(), timeoutMs);
  } catch (err) {
    throw translate(err);
  }
}

/** A storage failure as the error the service answers with. */
export function translate(err: unknown): unknown {
  if (err instanceof StorageError || err instanceof RequestError) return err;
  if (err instanceof TimeoutError) {
    return new StorageError("kv_timeout", `KV did not answer: ${err.message}`, { cause: err });
  }
  if (err instanceof TypeError && /too large/i.test(err.message)) {
    return new RequestError(
      "field_too_large",
      "A value in this request is too large to store",
      { cause: err },
    );
  }
  // The runtime reports SQLite trouble as TypeError too ("disk I/O error", "Can not write to a
  // read-only database."); any other TypeError is a programming error (a bad key type), not storage.
  if (err instanceof TypeError && !STORAGE_MESSAGE.test(err.message)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StorageError("kv_failed", `KV failed: ${message}`, { cause: err });
}

const STORAGE_MESSAGE = /disk|I\/O|read-?only|database|locked|sqlite|connect|network|unavailable/i;

const SIMPLE = new Set(["get", "getMany", "set", "delete", "enqueue"]);

/** `kv`, with every read, write, list step and commit bounded by a deadline and failures translated. */
export function guardKv(kv: Deno.Kv, options: GuardOptions = {}): Deno.Kv {
  const ms = options.timeoutMs ?? KV_OP_TIMEOUT_MS;
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (typeof prop === "string" && SIMPLE.has(prop)) {
        return (...args: unknown[]) => guarded(() => value.apply(target, args), ms);
      }
      if (prop === "list") {
        return (...args: unknown[]) => guardIterator(value.apply(target, args), ms);
      }
      if (prop === "atomic") return () => guardAtomic(target.atomic(), ms);
      return value.bind(target);
    },
  });
}

function guardIterator<T>(iter: Deno.KvListIterator<T>, ms: number): Deno.KvListIterator<T> {
  return new Proxy(iter, {
    get(target, prop) {
      if (prop === "next") return () => guarded(() => target.next(), ms);
      if (prop === Symbol.asyncIterator) return () => guardIterator(target, ms);
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function guardAtomic(op: Deno.AtomicOperation, ms: number): Deno.AtomicOperation {
  const proxy: Deno.AtomicOperation = new Proxy(op, {
    get(target, prop) {
      if (prop === "commit") return () => guarded(() => target.commit(), ms);
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      // Builder steps return the operation itself: keep returning the guarded one.
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = value.apply(target, args);
        } catch (err) {
          throw translate(err);
        }
        return result === target ? proxy : result;
      };
    },
  });
  return proxy;
}

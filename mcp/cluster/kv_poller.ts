/**
 * One polling loop per instance over a handful of KV "doorbell" keys: every `intervalMs` it reads them
 * all with a single `getMany` and calls the handlers of each key whose versionstamp moved. It runs only
 * while some key is watched, so an instance holding no stream reads nothing.
 *
 * Written by hand rather than with `kv.watch()`: on a local KV file `watch` does not see writes made
 * by another process (observed), and on Deno Deploy cross-instance `watch` is undocumented
 * (https://docs.deno.com/deploy/kv/operations/ calls it a change notification, nothing more), while
 * a versionstamp compare works on both. Queues, the other push primitive, do not exist on the new
 * Deploy.
 *
 * @module
 */
import { errorFields, log } from "../../lib/log.ts";

/** Default poll interval: the added delivery latency of a cross-instance message is about half this. */
export const POLL_INTERVAL_MS = 100;
/** `getMany` takes at most 10 keys. */
const MAX_KEYS = 10;

/** Called with the key's current entry whenever its versionstamp differs from the last one seen. */
export type DoorbellHandler = (entry: Deno.KvEntryMaybe<unknown>) => void | Promise<void>;

interface Watched {
  key: Deno.KvKey;
  /** The versionstamp last seen; undefined before the first read. */
  seen: string | null | undefined;
  handlers: Set<DoorbellHandler>;
}

/** See the module documentation. */
export class KvPoller {
  #kv: Deno.Kv;
  #intervalMs: number;
  #watched = new Map<string, Watched>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #polling: Promise<void> | undefined;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(kv: Deno.Kv, options: { intervalMs?: number } = {}) {
    const intervalMs = options.intervalMs ?? POLL_INTERVAL_MS;
    if (!(intervalMs > 0)) throw new RangeError('"intervalMs" option must be greater than 0');
    this.#kv = kv;
    this.#intervalMs = intervalMs;
  }

  /** The poll interval in milliseconds. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Keys currently watched. */
  get size(): number {
    return this.#watched.size;
  }

  /**
   * Calls `handler` when `key` changes. The first poll after watching reports the key's current entry, so
   * a handler can take its baseline from it. A handler that throws is called again on the next poll,
   * so handlers must be idempotent. Returns an idempotent unsubscribe function.
   */
  watch(key: Deno.KvKey, handler: DoorbellHandler): () => void {
    const id = JSON.stringify(key);
    let watched = this.#watched.get(id);
    if (!watched) {
      if (this.#watched.size >= MAX_KEYS) {
        throw new RangeError(`Cannot watch more than ${MAX_KEYS} keys with one poller`);
      }
      watched = { key, seen: undefined, handlers: new Set() };
      this.#watched.set(id, watched);
    }
    const wrapped: DoorbellHandler = (entry) => handler(entry);
    watched.handlers.add(wrapped);
    this.#schedule(0);
    return () => {
      const current = this.#watched.get(id);
      if (!current?.handlers.delete(wrapped)) return;
      if (current.handlers.size === 0) this.#watched.delete(id);
      if (this.#watched.size === 0) this.#cancel();
    };
  }

  /**
   * Reads every watched key once and runs the handlers of those that changed. Polls never overlap: a
   * call made while one runs waits for it first.
   */
  poll(): Promise<void> {
    const run = this.#queue.then(() => this.#pollOnce());
    this.#queue = run.catch(() => {});
    return run;
  }

  async #pollOnce(): Promise<void> {
    const watched = [...this.#watched.values()];
    if (watched.length === 0) return;
    const entries = await this.#kv.getMany(watched.map((w) => w.key));
    for (const [i, w] of watched.entries()) {
      const entry = entries[i]!;
      if (entry.versionstamp === w.seen) continue;
      let ok = true;
      for (const handler of [...w.handlers]) {
        try {
          await handler(entry);
        } catch (err) {
          ok = false;
          log("warn", "doorbell handler failed", { key: w.key.join("/"), ...errorFields(err) });
        }
      }
      // A failed handler is called again on the next poll (the ring is not consumed).
      if (ok) w.seen = entry.versionstamp;
    }
  }

  /** Stops polling for good (shutdown); waits for a poll in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#cancel();
    await this.#polling;
  }

  #cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delayMs: number): void {
    if (this.#closed || this.#timer !== undefined || this.#polling || this.#watched.size === 0) {
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#polling = this.poll()
        .catch((err) => log("warn", "doorbell poll failed", errorFields(err)))
        .finally(() => {
          this.#polling = undefined;
          this.#schedule(this.#intervalMs);
        });
    }, delayMs);
  }
}

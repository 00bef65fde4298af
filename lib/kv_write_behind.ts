/**
 * Write-behind for KV values nobody waits on: queued sets from many requests go out together in one
 * atomic commit every {@linkcode FLUSH_MS} (or sooner when the queue holds a commit's worth), so a busy
 * instance makes a few commits a second instead of one or two per request, and no response waits on
 * storage. A crash loses at most what was queued in the last interval; a clean stop loses nothing
 * ({@linkcode KvWriteBehind.close} flushes).
 *
 * Written here because the pattern is a dozen lines over `Deno.Kv.atomic()` and no library fits KV.
 *
 * @module
 */
import { RequestError } from "./errors.ts";

/** How long a queued set waits at most before it is committed. */
export const FLUSH_MS = 20;
/** KV allows 1000 mutations and about 800 KiB per atomic commit; stay well inside both. */
const MAX_MUTATIONS = 500;
const MAX_BYTES = 512 * 1024;
/** KV refuses a value over 64 KiB. */
const MAX_VALUE_BYTES = 64 * 1024;

interface Pending {
  key: Deno.KvKey;
  value: unknown;
  expireIn: number;
  bytes: number;
}

/** A queue of KV sets committed in batches. */
export class KvWriteBehind {
  #kv: Deno.Kv;
  #queue: Pending[] = [];
  #bytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #onError: (err: unknown, lost: number) => void;

  constructor(kv: Deno.Kv, options: { onError?: (err: unknown, lost: number) => void } = {}) {
    this.#kv = kv;
    this.#onError = options.onError ?? (() => {});
  }

  /**
   * Queues `value` under `key`. Returns false, and queues nothing, for a value KV could never hold
   * (over 64 KiB serialized, bounded from its JSON). A caller that knows the size of what it
   * queues passes it as `bytes` (an upper bound), which spares serializing the value once more.
   */
  set(key: Deno.KvKey, value: unknown, options: { expireIn: number; bytes?: number }): boolean {
    const bytes = options.bytes ?? sizeOf(key, value);
    if (bytes > MAX_VALUE_BYTES) return false;
    this.#queue.push({ key, value, expireIn: options.expireIn, bytes });
    this.#bytes += bytes;
    if (this.#queue.length >= MAX_MUTATIONS || this.#bytes >= MAX_BYTES) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
    return true;
  }

  /** Commits everything queued so far; resolves once it is written (or reported lost). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue;
    this.#queue = [];
    this.#bytes = 0;
    if (batch.length === 0) return this.#flushing;
    // Commits go one after another, so a later value for a key never lands before an earlier one.
    this.#flushing = this.#flushing.then(() => this.#commit(batch));
    return this.#flushing;
  }

  async #commit(batch: Pending[]): Promise<void> {
    for (let start = 0; start < batch.length;) {
      let bytes = 0;
      let end = start;
      while (end < batch.length && end - start < MAX_MUTATIONS && bytes < MAX_BYTES) {
        bytes += batch[end++]!.bytes;
      }
      await this.#commitChunk(batch.slice(start, end));
      start = end;
    }
  }

  /**
   * Commits `chunk` atomically. When KV refuses it as too large (a value measured too small), it is
   * retried in halves, so the one record at fault is lost, not the others queued with it.
   */
  async #commitChunk(chunk: Pending[]): Promise<void> {
    const op = this.#kv.atomic();
    for (const p of chunk) op.set(p.key, p.value, { expireIn: p.expireIn });
    try {
      await op.commit();
    } catch (err) {
      if (chunk.length > 1 && isTooLarge(err)) {
        const half = Math.ceil(chunk.length / 2);
        await this.#commitChunk(chunk.slice(0, half));
        await this.#commitChunk(chunk.slice(half));
        return;
      }
      this.#onError(err, chunk.length);
    }
  }

  /** Flushes what is queued and stops the timer (a clean stop loses nothing). */
  async close(): Promise<void> {
    await this.flush();
  }
}

const NOT_LATIN1 = /[\u0100-\uffff]/;

/**
 * An upper bound of what KV counts for `value` under `key`: V8 serializes a string at one byte per
 * character when all its characters are Latin-1 and two otherwise, and the JSON text has at least as
 * many characters as the strings in it (escapes only add).
 */
function sizeOf(key: Deno.KvKey, value: unknown): number {
  const json = JSON.stringify(value) + JSON.stringify(key);
  return (NOT_LATIN1.test(json) ? 2 : 1) * json.length + 64;
}

/** Whether KV refused a commit for its size (as the runtime says it, or as `kv_guard.ts` does). */
function isTooLarge(err: unknown): boolean {
  if (err instanceof RequestError) return err.code === "field_too_large";
  return err instanceof TypeError && /too large/i.test(err.message);
}

/**
 * Resumable answers kept in batches. A fast-path tool call in a 2025-11-25 session is answered as a
 * one-event resumable stream (2025-11-25 §Resumability): a priming event, then the result. Its result
 * must be kept for a client that lost the connection, but one KV record per call (or two, event and
 * end, as `post_streams.ts` writes for the SDK's streams) made storage the largest cost of a call. So
 * the answers given in the same {@linkcode SEAL_MS} go into one KV record, a batch: an answer's stream
 * is named by its batch and its place in it (`p.<batch>.<k>.<n>`), and a resume reads that one record.
 *
 * A batch is queued for KV when it is {@linkcode SEAL_MS} old or full; a clean stop writes the open
 * one ({@linkcode AnswerBatches.flush}). A crash loses the answers of the last {@linkcode SEAL_MS} plus
 * the write-behind interval, which only matters to a client that also lost its connection then: its
 * resume is answered 400 and it sends the request again, as a client without resumption would.
 *
 * Written here because no library batches KV records; the pattern is the audit trail's.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports §Resumability and Redelivery
 * @module
 */
import { randomToken } from "../../auth/crypto.ts";
import { keys } from "../../lib/kv_keys.ts";
import type { KvWriteBehind } from "../../lib/kv_write_behind.ts";
import { log } from "../../lib/log.ts";
import { createSseStream, type SseStream } from "../sse_stream.ts";

/** How long a batch gathers answers before it is queued for KV. */
export const SEAL_MS = 20;
/** The most answers in one batch. */
export const MAX_ANSWERS = 256;
/** The most bytes of answers in one batch, counted as two per character (a KV value holds 64 KiB). */
export const MAX_BATCH_BYTES = 48 * 1024;
/** An answer larger than this gets records of its own (`post_streams.ts`), not a place in a batch. */
export const MAX_BATCHED_ANSWER_BYTES = 8 * 1024;

/** The event id of event `n` (0: priming; 1: the answer) of answer `k` of batch `batch`. */
const ANSWER_EVENT_ID = /^p\.([A-Za-z0-9_-]{16,64})\.(\d{1,4})\.(\d{1,6})$/;

/** One answer in a stored batch: its session and its JSON-RPC message. */
interface StoredAnswer {
  s: string;
  d: string;
}

/** A stored batch. */
interface StoredBatch {
  answers: StoredAnswer[];
}

/** How long a resume waits for the batch of a just-given answer before calling its id unknown. */
const OWNER_WAIT_MS = 2000;

/** Whether `lastEventId` names an event of a batched answer. */
export function isAnswerEventId(lastEventId: string): boolean {
  return ANSWER_EVENT_ID.test(lastEventId);
}

/** The open batch of an instance, and its way to KV. */
export class AnswerBatches {
  #store: KvWriteBehind;
  #ttlMs: number;
  #id = "";
  #answers: StoredAnswer[] = [];
  #bytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param store the write-behind queue the sealed batches go to
   * @param ttlMs how long a batch stays in KV (the time an answer can be resumed)
   */
  constructor(store: KvWriteBehind, ttlMs: number) {
    this.#store = store;
    this.#ttlMs = ttlMs;
  }

  /**
   * Places the answer `data` (one JSON-RPC message, serialized) of session `sessionId` in the open
   * batch; returns its stream's name (`<batch>.<k>`), or null when `data` is too large for a batch.
   */
  add(sessionId: string, data: string): string | null {
    // KV limits a value's serialized size; a string serializes to at most two bytes per code unit.
    const bytes = 2 * (data.length + sessionId.length + 8);
    if (bytes > MAX_BATCHED_ANSWER_BYTES) return null;
    if (this.#answers.length >= MAX_ANSWERS || this.#bytes + bytes > MAX_BATCH_BYTES) this.#seal();
    if (this.#answers.length === 0) {
      this.#id = randomToken(16);
      this.#timer = setTimeout(() => this.#seal(), SEAL_MS);
    }
    this.#answers.push({ s: sessionId, d: data });
    this.#bytes += bytes;
    return `${this.#id}.${this.#answers.length - 1}`;
  }

  /** Queues the open batch and writes everything queued (a clean stop loses no answer). */
  async flush(): Promise<void> {
    this.#seal();
    await this.#store.flush();
  }

  #seal(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#answers.length === 0) return;
    const batch: StoredBatch = { answers: this.#answers };
    // What `add` counted (field names and framing included) bounds the serialized size.
    const bytes = this.#bytes + 64;
    if (!this.#store.set(keys.answerBatch(this.#id), batch, { expireIn: this.#ttlMs, bytes })) {
      log("warn", "a batch of answers is too large to keep for resumption", { batch: this.#id });
    }
    this.#answers = [];
    this.#bytes = 0;
  }
}

/**
 * The replay of a batched answer for a client resuming with `lastEventId` (`p.<batch>.<k>.<n>`): the
 * answer when the client has only the priming event (n = 0), `"finished"` when it has the answer too,
 * null when the id names no answer of `sessionId` (unknown, expired, or another session's).
 */
export async function replayAnswer(
  lastEventId: string,
  ctx: { kv: Deno.Kv; sessionId: string; pollMs: number },
): Promise<SseStream | "finished" | null> {
  const match = ANSWER_EVENT_ID.exec(lastEventId);
  if (!match) return null;
  const [, batchId, k, n] = match;
  // The priming id goes out before the batch is written: a client that resumes at once may come first.
  const deadline = Date.now() + OWNER_WAIT_MS;
  let batch: StoredBatch | null;
  for (;;) {
    batch = (await ctx.kv.get<StoredBatch>(keys.answerBatch(batchId!))).value;
    if (batch !== null || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(ctx.pollMs, 50)));
  }
  const answer = batch?.answers[Number(k)];
  if (answer?.s !== ctx.sessionId) return null;
  if (Number(n) >= 1) return "finished";
  const stream = createSseStream({ keepAliveMs: 0 });
  stream.send("message", answer.d, `p.${batchId}.${k}.1`);
  stream.close();
  return stream;
}

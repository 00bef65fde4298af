/**
 * Resumable SSE responses to 2025 POSTs (2025-11-25 §Resumability). The SDK's stateless leg answers a
 * request with an SSE stream carrying the result (and any notifications before it); it takes no event
 * store, so this module wraps that stream: a priming event (`id: p.<stream>.0`, empty data, `retry:`)
 * first, then each event with an id, and each event also written to KV for
 * {@linkcode POST_EVENT_TTL_MS}, behind the response (batched with other streams' events, so a call
 * costs no commit of its own). The SDK's stream is read to its end even when the client has gone, so
 * the result is stored; a client that lost the connection sends `GET /mcp` with `Last-Event-ID:
 * p.<stream>.<n>` to any instance and {@linkcode replayPostStream} sends what came after `n`, waiting
 * (polling KV) for the rest while the request is still being served.
 *
 * Only for sessions that negotiated 2025-11-25 or later: older clients may not accept empty `data`.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports §Resumability and Redelivery
 * @module
 */
import { randomToken } from "../../auth/crypto.ts";
import { keys } from "../../lib/kv_keys.ts";
import type { KvWriteBehind } from "../../lib/kv_write_behind.ts";
import { errorFields, log } from "../../lib/log.ts";
import { createSseStream, SSE_HEADERS, type SseStream } from "../sse_stream.ts";
import type { AnswerBatches } from "./answer_batches.ts";

/** How long the events of a POST stream stay replayable. */
export const POST_EVENT_TTL_MS = 5 * 60_000;
/** How long a replay waits for the rest of a stream still being served elsewhere. */
export const REPLAY_WAIT_MS = 60_000;
/** The `retry:` of POST streams. */
export const POST_RETRY_MS = 1000;

const POST_EVENT_ID = /^p\.([A-Za-z0-9_-]{16,64})\.(\d{1,6})$/;

/** One stored event of a POST stream. */
interface StoredPostEvent {
  sessionId: string;
  data: string;
}

/** The end of a POST stream: how many events it had. */
interface PostStreamEnd {
  sessionId: string;
  count: number;
}

/** How long a resume waits for a just-primed stream's first record before calling its id unknown. */
const OWNER_WAIT_MS = 2000;

/** Whether `lastEventId` names an event of a POST stream (rather than of the session's GET stream). */
export function isPostEventId(lastEventId: string): boolean {
  return POST_EVENT_ID.test(lastEventId);
}

/**
 * Wraps the SDK's SSE response to a POST of session `sessionId`: priming event, ids, events stored in
 * KV, and the SDK stream read to its end whatever the client does.
 */
export function resumablePostResponse(
  res: Response,
  ctx: { store: KvWriteBehind; sessionId: string },
): Response {
  if (!res.body) return res;
  const streamId = randomToken(16);
  const stream = createSseStream({ keepAliveMs: 0 });
  stream.prime(`p.${streamId}.0`, POST_RETRY_MS);
  const keep = (key: Deno.KvKey, value: StoredPostEvent | PostStreamEnd) => {
    if (!ctx.store.set(key, value, { expireIn: POST_EVENT_TTL_MS })) {
      log("warn", "a POST stream event is too large to keep for resumption", { streamId });
    }
  };
  const pump = async () => {
    let count = 0;
    try {
      for await (const data of sseData(res.body!)) {
        count++;
        // Queued first, so the end record below is never written before an event.
        keep(keys.postStreamEvent(streamId, count), { sessionId: ctx.sessionId, data });
        stream.send("message", data, `p.${streamId}.${count}`); // false once the client left
      }
    } finally {
      // The client has its answer now; the events follow to KV behind it (a resume waits for them).
      stream.close();
      keep(keys.postStreamEnd(streamId), { sessionId: ctx.sessionId, count });
    }
  };
  pump().catch((err) => log("warn", "POST stream storage failed", errorFields(err)));
  const headers = new Headers(res.headers);
  for (const [name, value] of Object.entries(SSE_HEADERS)) headers.set(name, value);
  headers.delete("content-length");
  return new Response(stream.body, { status: res.status, headers });
}

/**
 * A resumable answer already in hand (the fast path's one JSON-RPC message): the same priming event and
 * ids as {@linkcode resumablePostResponse}, written as one string without a stream. The answer is kept
 * in the instance's open batch (`answer_batches.ts`), or, when too large for one, in records of its
 * own. `message` is one JSON line (JSON.stringify never emits a newline), so one `data:` line carries it.
 */
export function resumableAnswer(
  message: unknown,
  ctx: { store: KvWriteBehind; batches: AnswerBatches; sessionId: string },
  headers: Record<string, string> = {},
): Response {
  const data = JSON.stringify(message);
  const streamId = ctx.batches.add(ctx.sessionId, data) ?? keepAlone(data, ctx);
  const body = `id: p.${streamId}.0\nretry: ${POST_RETRY_MS}\ndata: \n\n` +
    `id: p.${streamId}.1\nevent: message\ndata: ${data}\n\n`;
  return new Response(body, { headers: { ...SSE_HEADERS, ...headers } });
}

/** Keeps a one-event answer as a stream of its own (event and end records); returns its id. */
function keepAlone(data: string, ctx: { store: KvWriteBehind; sessionId: string }): string {
  const streamId = randomToken(16);
  const event: StoredPostEvent = { sessionId: ctx.sessionId, data };
  const end: PostStreamEnd = { sessionId: ctx.sessionId, count: 1 };
  const kept = ctx.store.set(keys.postStreamEvent(streamId, 1), event, {
    expireIn: POST_EVENT_TTL_MS,
  }) && ctx.store.set(keys.postStreamEnd(streamId), end, { expireIn: POST_EVENT_TTL_MS });
  if (!kept) log("warn", "a POST stream event is too large to keep for resumption", { streamId });
  return streamId;
}

/**
 * The replay of a POST stream for a client resuming with `lastEventId` (`p.<stream>.<n>`): the events
 * after `n`, then, while the stream is still being served, the rest as they are stored; then the stream
 * ends. `"finished"` when the stream ended and nothing came after `n`; null when the id names no
 * stream of `sessionId` (unknown, expired, or another session's).
 */
export async function replayPostStream(
  lastEventId: string,
  ctx: { kv: Deno.Kv; sessionId: string; pollMs: number; waitMs?: number },
): Promise<SseStream | "finished" | null> {
  const match = POST_EVENT_ID.exec(lastEventId);
  if (!match) return null;
  const streamId = match[1]!;
  let next = Number(match[2]) + 1;
  // The priming id goes out before the stream stores anything: a client that resumes at once may come
  // before its first record. Wait for it a little, not forever (an unknown id is answered in that time).
  const ownerDeadline = Date.now() + OWNER_WAIT_MS;
  let first, end, owner;
  for (;;) {
    [first, end] = await ctx.kv.getMany<[StoredPostEvent, PostStreamEnd]>([
      keys.postStreamEvent(streamId, 1),
      keys.postStreamEnd(streamId),
    ]);
    owner = first.value?.sessionId ?? end.value?.sessionId;
    if (owner !== undefined || Date.now() >= ownerDeadline) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(ctx.pollMs, 50)));
  }
  if (owner !== ctx.sessionId) return null;
  // Finished, and the client has it all. (v1 SDK clients come back after an error response, which
  // they do not count as "the response"; an empty stream would bring them back every `retry:`.)
  if (end.value && next > end.value.count) return "finished";
  const stream = createSseStream({ keepAliveMs: 0 });
  const deadline = Date.now() + (ctx.waitMs ?? REPLAY_WAIT_MS);
  const run = async () => {
    while (!stream.closed) {
      const events = await Array.fromAsync(ctx.kv.list<StoredPostEvent>({
        start: keys.postStreamEvent(streamId, next),
        end: keys.postStreamEvent(streamId, Number.MAX_SAFE_INTEGER),
      }));
      for (const { key, value } of events) {
        const n = Number(key.at(-1));
        if (n !== next) break; // a gap: an earlier store has not landed yet
        stream.send("message", value.data, `p.${streamId}.${n}`);
        next++;
      }
      const done = (await ctx.kv.get<PostStreamEnd>(keys.postStreamEnd(streamId))).value;
      if ((done && next > done.count) || Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, ctx.pollMs));
    }
  };
  run()
    .catch((err) => log("warn", "POST stream replay failed", errorFields(err)))
    .finally(() => stream.close());
  return stream;
}

/** The `data` of each event of an SSE body (events without data, like comments, are skipped). */
async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const text of body.pipeThrough(new TextDecoderStream())) {
    buffer += text.replace(/\r\n?/g, "\n");
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(l.startsWith("data: ") ? 6 : 5));
      if (data.length && data.join("") !== "") yield data.join("\n");
    }
  }
}

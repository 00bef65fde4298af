/**
 * Per-grant limits, so one token cannot hold an unbounded share of an instance: at most
 * MAX_STREAMS_PER_GRANT open streams (2025 `GET /mcp`, 2024-11-05 `GET /sse`, 2026-07-28
 * `subscriptions/listen`) on this instance, and at most MAX_SESSIONS_PER_GRANT live sessions (2025 and
 * SSE, counted in KV across instances). Past either, 429 with `Retry-After` as a JSON-RPC error.
 *
 * Streams are counted in memory: they are held by this instance and end with it. Sessions are counted
 * from their KV records when a new one is about to open (rare: once per connection), a list under the
 * user's prefix.
 *
 * @module
 */
import { keys } from "../lib/kv_keys.ts";
import type { Identity } from "../auth/identity.ts";
import { ERROR_CODES, McpHttpError } from "./jsonrpc.ts";
import type { SessionRecord } from "./sessions.ts";
import type { SseRecord } from "./sse_sessions.ts";

/** Options of {@linkcode GrantLimits}. */
export interface GrantLimitOptions {
  kv: Deno.Kv;
  maxStreams: number;
  maxSessions: number;
  /** Idle time after which a 2025 session no longer counts (SESSION_IDLE_SECONDS). */
  sessionIdleMs: number;
  now?: () => number;
}

/** The per-grant stream and session limits of one instance. */
export class GrantLimits {
  #options: GrantLimitOptions;
  #open = new Map<string, number>();

  constructor(options: GrantLimitOptions) {
    if (!(options.maxStreams >= 1) || !(options.maxSessions >= 1)) {
      throw new RangeError('"maxStreams" and "maxSessions" options must be at least 1');
    }
    this.#options = options;
  }

  /** Open streams of `grantId` on this instance. */
  streams(grantId: string): number {
    return this.#open.get(grantId) ?? 0;
  }

  /**
   * Reserves a stream for `grantId`; resolves to its release (call once, when the stream ends), or a
   * 429 response when the grant already holds the most it may.
   */
  acquireStream(grantId: string): () => void {
    const open = this.streams(grantId);
    if (open >= this.#options.maxStreams) {
      throw tooMany(
        `this grant already holds ${open} open streams (MAX_STREAMS_PER_GRANT=${this.#options.maxStreams}); close one first`,
      );
    }
    this.#open.set(grantId, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.streams(grantId) - 1;
      if (left > 0) this.#open.set(grantId, left);
      else this.#open.delete(grantId);
    };
  }

  /** A 429 response when `identity`'s grant already has the most live sessions it may, else null. */
  async assertRoomForSession(identity: Identity): Promise<void> {
    const { kv, maxSessions, sessionIdleMs } = this.#options;
    const now = (this.#options.now ?? Date.now)();
    let live = 0;
    for await (const e of kv.list<SessionRecord>({ prefix: keys.mcpSessions(identity.userId) })) {
      if (e.value.grantId === identity.grantId && now - e.value.lastSeenAt < sessionIdleMs) live++;
    }
    for await (const e of kv.list<SseRecord>({ prefix: keys.sseSessions(identity.userId) })) {
      if (e.value.grantId === identity.grantId) live++;
    }
    if (live < maxSessions) return;
    throw tooMany(
      `this grant already has ${live} live sessions (MAX_SESSIONS_PER_GRANT=${maxSessions}); end one with DELETE first`,
    );
  }
}

/**
 * `body`, calling `release` once when it ends: read to the end, failed, or cancelled by the client.
 */
export function releaseOnEnd(
  body: ReadableStream<Uint8Array>,
  release: () => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          release();
          controller.close();
        } else controller.enqueue(value);
      } catch (err) {
        release();
        controller.error(err);
      }
    },
    async cancel(reason) {
      release();
      await reader.cancel(reason);
    },
  });
}

function tooMany(message: string): McpHttpError {
  return new McpHttpError(429, ERROR_CODES.badRequest, `Too Many Requests: ${message}`, {
    headers: { "retry-after": "5" },
  });
}

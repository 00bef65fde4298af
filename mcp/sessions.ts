/**
 * 2025 Streamable HTTP sessions. KV is the truth: a record under `["mcp","session", userId, sessionId]`
 * holds who opened the session (user, client, grant), the negotiated protocol version, the client's info
 * and capabilities, and when it was created and last used. Each instance keeps a small cache entry per
 * session it has seen, plus the one live object a session may need: its standalone `GET` event stream.
 * No SDK server is held per session; each request is answered by the fast path or a fresh SDK server
 * (`streamable_http.ts`).
 *
 * A session is found only under the user of the verified token, and only for the same client and grant;
 * anything else is "not found", so a session id never stands in for a token. A session idle for
 * `idleMs` is gone (checked on read, swept from the cache); an open event stream counts as use. When the
 * grant of a session with an open stream changes permissions the stream gets
 * `notifications/tools/list_changed`; when the grant is revoked the session ends.
 *
 * Across instances: any instance serves any session from its KV record (a cache miss costs one read).
 * Ending a session publishes `session_ended` on the bus; every instance that has it cached drops it
 * (closing its `GET` stream) within a poll interval (KV_POLL_MS), and at the latest when its cache
 * entry is {@linkcode CACHE_MS} old. Within that window another instance may still serve the ended
 * session to the same user, client and grant (never to anyone else). A `tools_list_changed` bus event
 * reaches every open stream.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports §Session Management
 * @see https://modelcontextprotocol.io/docs/tutorials/security/security_best_practices §Session Hijacking
 * @module
 */
import { randomToken } from "../auth/crypto.ts";
import type { Identity } from "../auth/identity.ts";
import { keys } from "../lib/kv_keys.ts";
import { errorFields, log } from "../lib/log.ts";
import type { KvEventBus } from "./cluster/bus.ts";
import type { GrantWatcher } from "./cluster/grant_watcher.ts";
import { createSseStream, type SseStream } from "./sse_stream.ts";
import { AnswerBatches, isAnswerEventId, replayAnswer } from "./cluster/answer_batches.ts";
import {
  isPostEventId,
  POST_EVENT_TTL_MS,
  replayPostStream,
  resumableAnswer,
  resumablePostResponse,
} from "./cluster/post_streams.ts";
import { KvWriteBehind } from "../lib/kv_write_behind.ts";

/** A cached record is trusted this long before KV is read again (a DELETE elsewhere shows within it). */
const CACHE_MS = 2000;
/** `lastSeenAt` is written back at most this often (or a quarter of the idle time, if shorter). */
const TOUCH_MS = 60_000;
/** KV keeps a record this much longer than the idle time, so the read-time check decides. */
const EXPIRY_SLACK_MS = 60_000;
/** The `retry:` of `GET` streams: how soon a client whose stream dropped reconnects. */
export const STREAM_RETRY_MS = 1000;
/** The first protocol version whose clients accept an event with empty data (the priming event). */
const PRIMING_SINCE = "2025-11-25";

/** A session as stored in KV. */
export interface SessionRecord {
  id: string;
  userId: string;
  clientId: string;
  grantId: string;
  protocolVersion: string;
  clientInfo: Record<string, unknown> | null;
  clientCapabilities: Record<string, unknown>;
  /** The permissions the client's tool list was last built from (the baseline for list_changed). */
  permissions: string[];
  createdAt: number;
  lastSeenAt: number;
}

interface CacheEntry {
  record: SessionRecord;
  checkedAt: number;
  persistedSeenAt: number;
  /** The record's versionstamp as last read or written here (null: unknown). */
  versionstamp: string | null;
  stream?: SseStream;
  unwatch?: () => void;
}

/** The `tools/list_changed` notification, as an SSE `message` event payload. */
export const TOOLS_LIST_CHANGED = JSON.stringify({
  jsonrpc: "2.0",
  method: "notifications/tools/list_changed",
});

/** Store and cache of sessions. */
export class SessionStore {
  #kv: Deno.Kv;
  #now: () => number;
  #idleMs: number;
  #watcher: GrantWatcher;
  #bus: KvEventBus | undefined;
  #cache = new Map<string, CacheEntry>();
  #lastSweep = 0;
  #streams = 0;
  #unsubscribe: (() => void) | undefined;
  /** Events of resumable POST streams, written behind the responses. */
  #postEvents: KvWriteBehind;
  /** Resumable one-event answers, kept in batches (through {@linkcode SessionStore.#postEvents}). */
  #answers: AnswerBatches;

  constructor(
    kv: Deno.Kv,
    options: { idleMs: number; watcher: GrantWatcher; bus?: KvEventBus; now?: () => number },
  ) {
    if (!(options.idleMs > 0)) throw new RangeError('"idleMs" option must be greater than 0');
    this.#kv = kv;
    this.#now = options.now ?? Date.now;
    this.#idleMs = options.idleMs;
    this.#watcher = options.watcher;
    this.#bus = options.bus;
    this.#postEvents = new KvWriteBehind(kv, {
      onError: (err, lost) =>
        log("warn", "resumable stream events not stored", { lost, ...errorFields(err) }),
    });
    this.#answers = new AnswerBatches(this.#postEvents, POST_EVENT_TTL_MS);
  }

  /** Writes the events of resumable POST streams still queued (a clean stop loses none). */
  async flush(): Promise<void> {
    await this.#answers.flush();
    await this.#postEvents.close();
  }

  /** Open `GET` streams on this instance. */
  get streams(): number {
    return this.#streams;
  }

  /** Sessions cached on this instance. */
  get cached(): number {
    return this.#cache.size;
  }

  /** Opens a session for `identity` after a successful `initialize`. */
  async create(
    identity: Identity,
    init: Pick<SessionRecord, "protocolVersion" | "clientInfo" | "clientCapabilities">,
  ): Promise<SessionRecord> {
    const now = this.#now();
    this.#sweep(now);
    const record: SessionRecord = {
      id: randomToken(32),
      userId: identity.userId,
      clientId: identity.clientId,
      grantId: identity.grantId,
      ...init,
      permissions: [...identity.permissions],
      createdAt: now,
      lastSeenAt: now,
    };
    const { versionstamp } = await this.#kv.set(keys.mcpSession(record.userId, record.id), record, {
      expireIn: this.#idleMs + EXPIRY_SLACK_MS,
    });
    this.#cache.set(record.id, { record, checkedAt: now, persistedSeenAt: now, versionstamp });
    this.#listen();
    return record;
  }

  /**
   * The session `id` of `identity`, marked as used; null when unknown, idle, ended, or opened by another
   * user, client or grant.
   */
  async find(identity: Identity, id: string): Promise<SessionRecord | null> {
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(id)) return null;
    const now = this.#now();
    this.#sweep(now);
    let entry = this.#cache.get(id);
    if (entry && entry.record.userId !== identity.userId) return null;
    if (!entry || now - entry.checkedAt >= CACHE_MS) {
      const stored = await this.#kv.get<SessionRecord>(keys.mcpSession(identity.userId, id));
      if (!stored.value) {
        if (entry) this.#drop(id);
        return null;
      }
      const seen = Math.max(stored.value.lastSeenAt, entry?.record.lastSeenAt ?? 0);
      const record = { ...stored.value, lastSeenAt: seen };
      const versionstamp = stored.versionstamp;
      entry = entry
        ? Object.assign(entry, { record, checkedAt: now, versionstamp })
        : { record, checkedAt: now, persistedSeenAt: stored.value.lastSeenAt, versionstamp };
      this.#cache.set(id, entry);
      this.#listen();
    }
    const { record } = entry;
    if (record.clientId !== identity.clientId || record.grantId !== identity.grantId) return null;
    if (this.#isIdle(entry, now)) {
      await this.end(record);
      return null;
    }
    return (await this.#touch(entry, now)) ? record : null;
  }

  /** Ends a session: closes its stream and deletes the record. Idempotent. */
  async end(record: Pick<SessionRecord, "id" | "userId">): Promise<void> {
    this.#drop(record.id);
    await this.#kv.delete(keys.mcpSession(record.userId, record.id));
    this.#bus?.publish({ kind: "session_ended", userId: record.userId, sessionId: record.id });
  }

  /**
   * Opens the session's standalone event stream (`GET /mcp`), replacing an earlier one on this instance
   * so each message goes to exactly one stream. (A second `GET` on another instance does not replace
   * one held here: both get `list_changed`, which is harmless; clients open one stream at a time.) The stream receives `tools/list_changed` when the grant's permissions
   * differ from those the session last saw (so a change between `initialize` and this `GET` is not
   * missed), and the session ends when the grant is revoked.
   *
   * Resumability: event ids are positions in the KV event bus (`bus.ts`), which keeps every
   * `tools_list_changed` for a bounded window. The stream starts with a priming event (for 2025-11-25
   * clients) and `retry:`; a client reconnecting with `Last-Event-ID` (on any instance) first gets
   * `tools/list_changed` if one was published since that id, or if the window no longer reaches back
   * that far (re-listing is harmless; missing a change is not). Grant changes need no replay: the
   * permissions baseline comparison above catches them on any instance.
   *
   * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports §Listening for Messages from the Server,
   *   §Resumability and Redelivery
   */
  openStream(record: SessionRecord, keepAliveMs?: number, lastEventId?: string | null): SseStream {
    const entry = this.#cache.get(record.id) ??
      { record, checkedAt: this.#now(), persistedSeenAt: record.lastSeenAt, versionstamp: null };
    this.#cache.set(record.id, entry);
    this.#listen();
    entry.stream?.close();
    const stream: SseStream = createSseStream({
      ...(keepAliveMs === undefined ? {} : { keepAliveMs }),
      onKeepAlive: () => {
        this.#touch(entry, this.#now()).catch((err) =>
          log("warn", "session touch failed", errorFields(err))
        );
      },
      onClose: () => {
        this.#streams--;
        if (entry.stream !== stream) return;
        entry.unwatch?.();
        delete entry.stream;
        delete entry.unwatch;
      },
    });
    this.#streams++;
    entry.stream = stream;
    entry.unwatch = this.#watcher.watch(record.grantId, entry.record.permissions, (change) => {
      if (change.kind === "permissions") {
        entry.record.permissions = [...change.permissions];
        stream.send("message", TOOLS_LIST_CHANGED, this.#eventId());
        return;
      }
      this.end(record).catch((err) => log("warn", "session end failed", errorFields(err)));
    });
    this.#resume(record, stream, lastEventId ?? null).catch((err) =>
      log("warn", "stream resumption failed", errorFields(err))
    );
    return stream;
  }

  /** Primes `stream` and replays what a resuming client missed (see {@linkcode openStream}). */
  async #resume(
    record: SessionRecord,
    stream: SseStream,
    lastEventId: string | null,
  ): Promise<void> {
    if (!this.#bus) return;
    const from = lastEventId !== null && /^\d{1,15}$/.test(lastEventId)
      ? Number(lastEventId)
      : null;
    const missed = from === null ? null : await this.#bus.since(from);
    const head = missed?.head ?? await this.#bus.head();
    if (stream.closed) return;
    const primeId = String(from !== null && from <= head ? from : head);
    if (record.protocolVersion >= PRIMING_SINCE) stream.prime(primeId, STREAM_RETRY_MS);
    else stream.retry(STREAM_RETRY_MS);
    if (lastEventId === null) return;
    // An id we cannot read, or a window that no longer reaches it, counts as "something changed".
    const changed = !missed || !missed.complete ||
      missed.events.some((e) => e.kind === "tools_list_changed");
    if (changed) stream.send("message", TOOLS_LIST_CHANGED, String(head));
  }

  /**
   * Whether a POST of this session gets a resumable SSE response (`post_streams.ts`): the session
   * negotiated 2025-11-25 or later, whose clients accept a priming event.
   */
  resumes(record: SessionRecord): boolean {
    return record.protocolVersion >= PRIMING_SINCE;
  }

  /** Makes the SDK's SSE response to a POST of `record` resumable; other responses pass unchanged. */
  resumable(record: SessionRecord, res: Response): Response {
    const sse = res.headers.get("content-type")?.startsWith("text/event-stream");
    if (!this.resumes(record) || !sse) return res;
    return resumablePostResponse(res, { store: this.#postEvents, sessionId: record.id });
  }

  /** A resumable answer of `record` carrying `message` (the fast path's result). */
  resumableAnswer(
    record: SessionRecord,
    message: unknown,
    headers: Record<string, string>,
  ): Response {
    return resumableAnswer(
      message,
      { store: this.#postEvents, batches: this.#answers, sessionId: record.id },
      headers,
    );
  }

  /**
   * For a `GET` whose `Last-Event-ID` names an event of a POST stream: its replay, `"finished"` when
   * nothing is left to send, or null when that id names no POST stream of this session. Undefined when
   * the id is not a POST stream's.
   */
  async replayPost(
    record: SessionRecord,
    lastEventId: string | null,
    pollMs: number,
  ): Promise<SseStream | "finished" | null | undefined> {
    if (lastEventId === null) return undefined;
    const ctx = { kv: this.#kv, sessionId: record.id, pollMs };
    if (isAnswerEventId(lastEventId)) return await replayAnswer(lastEventId, ctx);
    if (!isPostEventId(lastEventId)) return undefined;
    return await replayPostStream(lastEventId, ctx);
  }

  /** The id of an event sent now: how far this instance has read the bus. */
  #eventId(): string | undefined {
    const position = this.#bus?.position;
    return position === undefined ? undefined : String(position);
  }

  /**
   * Closes every open stream and empties the cache (shutdown; records stay in KV, so the sessions go on
   * on other instances). With `retryMs`, each stream first tells its client when to reconnect.
   */
  closeAll(retryMs?: number): void {
    for (const [id, entry] of [...this.#cache]) {
      if (retryMs !== undefined) entry.stream?.retry(retryMs);
      this.#drop(id);
    }
  }

  /**
   * Listens on the bus exactly while sessions are cached here: `session_ended` evicts them (and closes
   * their streams) within a poll interval; `tools_list_changed` reaches the open streams.
   */
  #listen(): void {
    if (!this.#bus) return;
    if (this.#cache.size > 0 && !this.#unsubscribe) {
      this.#unsubscribe = this.#bus.subscribe((event) => {
        if (event.kind === "session_ended") this.#drop(event.sessionId);
        if (event.kind !== "tools_list_changed") return;
        const id = this.#eventId();
        for (const entry of this.#cache.values()) {
          entry.stream?.send("message", TOOLS_LIST_CHANGED, id);
        }
      });
    } else if (this.#cache.size === 0 && this.#unsubscribe) {
      this.#unsubscribe();
      this.#unsubscribe = undefined;
    }
  }

  #isIdle(entry: CacheEntry, now: number): boolean {
    const open = entry.stream !== undefined && !entry.stream.closed;
    return !open && now - entry.record.lastSeenAt >= this.#idleMs;
  }

  /**
   * Marks the session used, writing `lastSeenAt` back now and then. The write checks the versionstamp,
   * so a session ended on another instance is never brought back: resolves to false when it is gone.
   */
  async #touch(entry: CacheEntry, now: number): Promise<boolean> {
    entry.record.lastSeenAt = now;
    if (now - entry.persistedSeenAt < Math.min(TOUCH_MS, this.#idleMs / 4)) return true;
    entry.persistedSeenAt = now;
    const key = keys.mcpSession(entry.record.userId, entry.record.id);
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await this.#kv.atomic()
        .check({ key, versionstamp: entry.versionstamp })
        .set(key, entry.record, { expireIn: this.#idleMs + EXPIRY_SLACK_MS })
        .commit();
      if (result.ok) {
        entry.versionstamp = result.versionstamp;
        return true;
      }
      const current = await this.#kv.get<SessionRecord>(key);
      if (!current.value) {
        this.#drop(entry.record.id);
        return false;
      }
      entry.versionstamp = current.versionstamp;
    }
    return true; // others keep touching it: it is alive
  }

  #drop(id: string): void {
    const entry = this.#cache.get(id);
    if (!entry) return;
    this.#cache.delete(id);
    this.#listen();
    entry.unwatch?.();
    entry.stream?.close();
  }

  /** Forgets cached sessions idle on this instance (at most once per a tenth of the idle time). */
  #sweep(now: number): void {
    if (now - this.#lastSweep < Math.min(TOUCH_MS, this.#idleMs / 10)) return;
    this.#lastSweep = now;
    for (const [id, entry] of this.#cache) {
      if (this.#isIdle(entry, now)) this.#drop(id);
    }
  }
}

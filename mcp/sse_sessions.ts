/**
 * 2024-11-05 SSE sessions that work whichever instance a request lands on. The stream (`GET /sse`) is
 * held by the instance that opened it; a KV record under `["mcp","sse", userId, sessionId]` says who
 * opened it (user, client, grant) and which instance holds it. A `POST /messages` is served where it
 * lands, by a fresh per-request server (`mcp/dispatch.ts`), and its output goes to the stream: written
 * directly when the stream is here, else through the holder's KV outbox (`mcp/sse_relay.ts`).
 *
 * A POST is accepted only from the user, client and grant that opened the stream; anything else is "not
 * found". While a stream is open its grant is watched: a permission change sends
 * `notifications/tools/list_changed`, a revocation ends the stream. `tools_list_changed` events on the
 * cross-instance bus reach every stream too.
 *
 * @see 2024-11-05 basic/transports.mdx §HTTP with SSE; mcp-spec.md §3 "Legacy SSE ... owner check"
 * @module
 */
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { randomToken } from "../auth/crypto.ts";
import type { Identity } from "../auth/identity.ts";
import { keys } from "../lib/kv_keys.ts";
import { errorFields, log } from "../lib/log.ts";
import type { KvEventBus } from "./bus.ts";
import type { KvPoller } from "./kv_poller.ts";
import type { GrantWatcher } from "./list_changed.ts";
import { TOOLS_LIST_CHANGED } from "./sessions.ts";
import { SseRelay } from "./sse_relay.ts";
import { createSseStream, type SseStream } from "./sse_stream.ts";

/** KV keeps a record this long at most (garbage collection for instances that died holding streams). */
const RECORD_TTL_MS = 24 * 60 * 60 * 1000;

/** An SSE session as stored in KV. */
export interface SseRecord {
  id: string;
  userId: string;
  clientId: string;
  grantId: string;
  /** The instance holding the stream. */
  instanceId: string;
  createdAt: number;
}

interface LocalStream {
  record: SseRecord;
  stream: SseStream;
  unwatch: () => void;
}

/** What {@linkcode SseSessions} needs. */
export interface SseSessionsDeps {
  kv: Deno.Kv;
  watcher: GrantWatcher;
  bus: KvEventBus;
  poller: KvPoller;
  /** This instance's id (the holder named in records of streams opened here). */
  instanceId: string;
  /** Keep-alive comment interval of streams (default 15 s). */
  keepAliveMs?: number;
  /** How long a POST waits for another instance to take its output (default 5 s). */
  deliveryTimeoutMs?: number;
  now?: () => number;
}

/** The SSE sessions of this instance, and the way to reach those of others. */
export class SseSessions {
  #deps: SseSessionsDeps;
  #local = new Map<string, LocalStream>();
  #relay: SseRelay;
  #unsubscribe: (() => void) | undefined;
  #cleanups = new Set<Promise<void>>();

  constructor(deps: SseSessionsDeps) {
    this.#deps = deps;
    this.#relay = new SseRelay(
      deps.kv,
      deps.poller,
      deps.instanceId,
      (id, messages) => this.#writeLocal(id, messages),
      deps.deliveryTimeoutMs === undefined ? {} : { timeoutMs: deps.deliveryTimeoutMs },
    );
  }

  /** Streams open on this instance. */
  get size(): number {
    return this.#local.size;
  }

  /**
   * Opens a session for `identity`: records it, and returns the stream whose first event is
   * `endpoint` (`<endpoint>?sessionId=<id>`).
   */
  async open(identity: Identity, endpoint: string): Promise<SseStream> {
    const now = (this.#deps.now ?? Date.now)();
    const record: SseRecord = {
      id: randomToken(32),
      userId: identity.userId,
      clientId: identity.clientId,
      grantId: identity.grantId,
      instanceId: this.#deps.instanceId,
      createdAt: now,
    };
    await this.#deps.kv.set(keys.sseSession(record.userId, record.id), record, {
      expireIn: RECORD_TTL_MS,
    });
    const stream = createSseStream({
      ...(this.#deps.keepAliveMs === undefined ? {} : { keepAliveMs: this.#deps.keepAliveMs }),
      onClose: () => this.#ended(record),
    });
    const unwatch = this.#deps.watcher.watch(record.grantId, identity.permissions, (change) => {
      if (change.kind === "revoked") stream.close();
      else stream.send("message", TOOLS_LIST_CHANGED);
    });
    this.#local.set(record.id, { record, stream, unwatch });
    this.#sync();
    stream.send("endpoint", `${endpoint}?sessionId=${encodeURIComponent(record.id)}`);
    return stream;
  }

  /**
   * The session `id` if `identity` (same user, client and grant) opened it and its stream may still be
   * open (here, or on the instance its record names); else null.
   */
  async find(identity: Identity, id: string): Promise<SseRecord | null> {
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(id)) return null;
    const local = this.#local.get(id);
    if (local) return owns(local.record, identity) && !local.stream.closed ? local.record : null;
    const stored = await this.#deps.kv.get<SseRecord>(keys.sseSession(identity.userId, id));
    const record = stored.value;
    if (!record || !owns(record, identity)) return null;
    if (record.instanceId === this.#deps.instanceId) {
      // Recorded as held here but not open here: it ended without cleaning up.
      await this.#deps.kv.delete(stored.key);
      return null;
    }
    return record;
  }

  /**
   * Puts `messages` on the stream of `record`, wherever it is held. Resolves to false when the stream
   * is gone (its record is then deleted, so later POSTs get 404 at once).
   */
  async deliver(record: SseRecord, messages: JSONRPCMessage[]): Promise<boolean> {
    if (messages.length === 0) return true;
    if (record.instanceId === this.#deps.instanceId) return this.#writeLocal(record.id, messages);
    const outcome = await this.#relay.send(record.instanceId, record.id, messages);
    if (outcome === "delivered") return true;
    log("info", "SSE stream unreachable", { instance: record.instanceId, outcome });
    await this.#deps.kv.delete(keys.sseSession(record.userId, record.id));
    return false;
  }

  /**
   * Closes every stream of this instance (shutdown): each gets `retry: retryMs` first, so clients
   * reconnect soon (to another instance). Resolves once their records are deleted.
   */
  async closeAll(retryMs?: number): Promise<void> {
    for (const { stream } of [...this.#local.values()]) {
      if (retryMs !== undefined) stream.retry(retryMs);
      stream.close();
    }
    await Promise.all([...this.#cleanups]);
  }

  #writeLocal(id: string, messages: JSONRPCMessage[]): boolean {
    const local = this.#local.get(id);
    if (!local || local.stream.closed) return false;
    return messages.every((message) => local.stream.send("message", JSON.stringify(message)));
  }

  #ended(record: SseRecord): void {
    const local = this.#local.get(record.id);
    if (!local) return;
    this.#local.delete(record.id);
    local.unwatch();
    this.#sync();
    const cleanup = this.#deps.kv.delete(keys.sseSession(record.userId, record.id))
      .catch((err) => log("warn", "SSE record delete failed", errorFields(err)))
      .finally(() => this.#cleanups.delete(cleanup));
    this.#cleanups.add(cleanup);
  }

  /** Drains the outbox and listens on the bus exactly while streams are open here. */
  #sync(): void {
    const open = this.#local.size > 0;
    this.#relay.setListening(open);
    if (open && !this.#unsubscribe) {
      this.#unsubscribe = this.#deps.bus.subscribe((event) => {
        if (event.kind !== "tools_list_changed") return;
        for (const { stream } of this.#local.values()) stream.send("message", TOOLS_LIST_CHANGED);
      });
    } else if (!open && this.#unsubscribe) {
      this.#unsubscribe();
      this.#unsubscribe = undefined;
    }
  }
}

function owns(record: SseRecord, identity: Identity): boolean {
  return record.userId === identity.userId && record.clientId === identity.clientId &&
    record.grantId === identity.grantId;
}

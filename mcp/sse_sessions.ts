/**
 * 2024-11-05 SSE sessions that work whichever instance a request lands on. The stream (`GET /sse`) is
 * held by the instance that opened it; a KV record under `["mcp","sse", userId, sessionId]` says who
 * opened it (user, client, grant) and which instance holds it. A `POST /messages` is served where it
 * lands, by a fresh per-request server (`mcp/dispatch.ts`), and its output goes to the stream: written
 * directly when the stream is here, else through the holder's KV outbox (`mcp/cluster/sse_relay.ts`).
 *
 * A POST is accepted only from the user, client and grant that opened the stream; anything else is "not
 * found". While a stream is open its grant is watched: a permission change sends
 * `notifications/tools/list_changed`, a revocation ends the stream. `tools_list_changed` events on the
 * cross-instance bus reach every stream too. When a delivery to another instance fails, the record is
 * deleted and `sse_closed` is published, so a holder that was only slow ends the stream too (its client
 * reconnects) rather than keeping a stream no other instance can reach.
 *
 * Known limits: the POST is answered (202) once its reply is on the stream, so it stays open for the
 * length of the tool call; progress notifications arrive with the result, not before; and
 * `notifications/cancelled` reaches a fresh server that does not know the request (a client that
 * disconnects the POST does abort the call).
 *
 * @see https://modelcontextprotocol.io/specification/2024-11-05/basic/transports §HTTP with SSE
 * @see https://modelcontextprotocol.io/docs/tutorials/security/security_best_practices §Session Hijacking (verify every inbound request; bind sessions to the user)
 * @module
 */
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { randomToken } from "../auth/crypto.ts";
import type { Identity } from "../auth/identity.ts";
import { keys } from "../lib/kv_keys.ts";
import { errorFields, log } from "../lib/log.ts";
import type { KvEventBus } from "./cluster/bus.ts";
import type { KvPoller } from "./cluster/kv_poller.ts";
import type { GrantWatcher } from "./cluster/grant_watcher.ts";
import { TOOLS_LIST_CHANGED } from "./sessions.ts";
import { SseRelay } from "./cluster/sse_relay.ts";
import { createSseStream, type SseStream } from "./sse_stream.ts";

/** KV keeps a record this long unless refreshed (garbage collection after instances that died). */
const RECORD_TTL_MS = 24 * 60 * 60 * 1000;
/** An open stream's record is rewritten (its TTL renewed) at most this often, on a keep-alive. */
const RECORD_REFRESH_MS = 60 * 60 * 1000;
/** Clients of a stream ended because it was unreachable are told to reconnect after this long. */
const RECONNECT_MS = 1000;

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
  refreshedAt: number;
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
      {
        isOpen: (id) => this.#local.get(id)?.stream.closed === false,
        write: (id, messages) => this.#writeLocal(id, messages),
      },
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
    await this.#persist(record);
    const stream = createSseStream({
      ...(this.#deps.keepAliveMs === undefined ? {} : { keepAliveMs: this.#deps.keepAliveMs }),
      onClose: () => this.#ended(record),
      onKeepAlive: () => this.#refresh(record.id),
    });
    const unwatch = this.#deps.watcher.watch(record.grantId, identity.permissions, (change) => {
      if (change.kind === "revoked") stream.close();
      else stream.send("message", TOOLS_LIST_CHANGED);
    });
    this.#local.set(record.id, { record, stream, unwatch, refreshedAt: now });
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
    this.#deps.bus.publish({ kind: "sse_closed", sessionId: record.id });
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

  async #persist(record: SseRecord): Promise<void> {
    await this.#deps.kv.set(keys.sseSession(record.userId, record.id), record, {
      expireIn: RECORD_TTL_MS,
    });
  }

  /** Renews the record of an open stream (on a keep-alive, at most hourly). */
  #refresh(id: string): void {
    const local = this.#local.get(id);
    const now = (this.#deps.now ?? Date.now)();
    if (!local || now - local.refreshedAt < RECORD_REFRESH_MS) return;
    local.refreshedAt = now;
    this.#persist(local.record).catch((err) =>
      log("warn", "SSE record refresh failed", errorFields(err))
    );
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
        if (event.kind === "sse_closed") {
          const stream = this.#local.get(event.sessionId)?.stream;
          stream?.retry(RECONNECT_MS);
          stream?.close();
        }
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

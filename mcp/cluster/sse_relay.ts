/**
 * Delivery of JSON-RPC messages to a 2024-11-05 SSE stream held by another instance: a KV outbox per
 * instance plus one doorbell key per instance (never one per stream), polled by the holder through the
 * shared {@linkcode KvPoller}.
 *
 * The sender writes the messages as one outbox entry (split into 60 KiB chunks, since KV values are
 * limited to 64 KiB and an image result is larger) and rewrites the holder's doorbell in the same
 * atomic. The holder lists its outbox and, for each entry whose stream is open here, claims it (an
 * atomic delete that checks the entry is unchanged) and only then writes it to the stream; for an entry
 * whose stream has ended it marks it `gone`. The sender waits for that: deleted means delivered;
 * `gone`, or no answer within `timeoutMs`, means not delivered: the sender withdraws the entry with the
 * same check, so exactly one of "claimed and written" and "withdrawn" happens. The client then gets a
 * clean 404 instead of a reply that never comes.
 *
 * @module
 */
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { randomToken } from "../../auth/crypto.ts";
import { keys } from "../../lib/kv_keys.ts";
import type { KvPoller } from "./kv_poller.ts";

/** Bytes per chunk: below the 64 KiB value limit with room for the key and framing. */
const CHUNK_BYTES = 60_000;
/** Chunks per atomic write: 10 × 60 KB stays below the 800 KiB atomic limit. */
const CHUNKS_PER_WRITE = 10;
/** KV keeps an undelivered entry this long (garbage collection only; the sender decides sooner). */
const ENTRY_TTL_MS = 60_000;
/** KV keeps a doorbell this long after its last ring (instances get new ids on every start). */
const DOORBELL_TTL_MS = 24 * 60 * 60 * 1000;
/** Default wait for the holder to take a delivery. */
export const DELIVERY_TIMEOUT_MS = 5000;

/** What happened to a delivery. */
export type DeliveryOutcome = "delivered" | "gone" | "timeout";

/** The streams of the instance a relay drains for. */
export interface LocalStreams {
  /** Whether the stream of `sessionId` is open here. */
  isOpen(sessionId: string): boolean;
  /** Writes `messages` to the stream of `sessionId`; false when it is not open (any more). */
  write(sessionId: string, messages: JSONRPCMessage[]): boolean;
}

interface OutboxEntry {
  sessionId: string;
  status: "pending" | "gone";
  /** The payload when it fits one chunk; else `chunks` chunk keys hold it. */
  data?: Uint8Array;
  chunks: number;
  createdAt: number;
}

/** See the module documentation. */
export class SseRelay {
  /** The instance whose outbox this relay drains. */
  readonly instanceId: string;
  #kv: Deno.Kv;
  #poller: KvPoller;
  #streams: LocalStreams;
  #timeoutMs: number;
  #waitMs: number;
  #unwatch: (() => void) | undefined;

  constructor(
    kv: Deno.Kv,
    poller: KvPoller,
    instanceId: string,
    streams: LocalStreams,
    options: { timeoutMs?: number } = {},
  ) {
    this.#kv = kv;
    this.#poller = poller;
    this.instanceId = instanceId;
    this.#streams = streams;
    this.#timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS;
    this.#waitMs = Math.max(10, Math.min(50, poller.intervalMs / 2));
  }

  /** Starts or stops draining this instance's outbox: on while it holds streams, off otherwise. */
  setListening(on: boolean): void {
    if (on && !this.#unwatch) {
      this.#unwatch = this.#poller.watch(keys.doorbell(this.instanceId), () => this.drain());
    } else if (!on && this.#unwatch) {
      this.#unwatch();
      this.#unwatch = undefined;
    }
  }

  /**
   * Delivers `messages` to stream `sessionId` held by instance `instanceId`; resolves once the holder
   * wrote them (`delivered`), found no such stream (`gone`) or did not answer in time (`timeout`).
   */
  async send(
    instanceId: string,
    sessionId: string,
    messages: JSONRPCMessage[],
  ): Promise<DeliveryOutcome> {
    const entryId = `${Date.now().toString(36).padStart(9, "0")}-${randomToken(9)}`;
    const bytes = new TextEncoder().encode(JSON.stringify(messages));
    const chunks = bytes.length <= CHUNK_BYTES ? 0 : Math.ceil(bytes.length / CHUNK_BYTES);
    for (let first = 0; first < chunks; first += CHUNKS_PER_WRITE) {
      const op = this.#kv.atomic();
      for (let i = first; i < Math.min(chunks, first + CHUNKS_PER_WRITE); i++) {
        op.set(
          keys.sseChunk(instanceId, entryId, i),
          bytes.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES),
          { expireIn: ENTRY_TTL_MS },
        );
      }
      await commit(op, "write an outbox chunk");
    }
    const entry: OutboxEntry = {
      sessionId,
      status: "pending",
      chunks,
      createdAt: Date.now(),
      ...(chunks === 0 ? { data: bytes } : {}),
    };
    const key = keys.sseOutbox(instanceId, entryId);
    await commit(
      this.#kv.atomic()
        .set(key, entry, { expireIn: ENTRY_TTL_MS })
        .set(keys.doorbell(instanceId), { rungAt: Date.now() }, { expireIn: DOORBELL_TTL_MS }),
      "write an outbox entry",
    );
    return await this.#awaitOutcome(instanceId, entryId);
  }

  /** Writes every entry waiting in this instance's outbox to its stream (the doorbell handler). */
  async drain(): Promise<void> {
    const iter = this.#kv.list<OutboxEntry>({ prefix: keys.sseOutboxes(this.instanceId) });
    for await (const entry of iter) {
      if (entry.value.status !== "pending") continue;
      const entryId = String(entry.key.at(-1));
      const { sessionId } = entry.value;
      const messages = this.#streams.isOpen(sessionId)
        ? await this.#read(entryId, entry.value)
        : null;
      const claim = () => this.#withoutChunks(this.#kv.atomic().check(entry), entryId, entry.value);
      if (messages === null) {
        const { data: _data, ...rest } = entry.value;
        const gone: OutboxEntry = { ...rest, status: "gone", chunks: 0 };
        await claim().set(entry.key, gone, { expireIn: ENTRY_TTL_MS }).commit();
        continue;
      }
      // Claim first, write second: a sender that withdrew the entry in the meantime wins.
      const claimed = await claim().delete(entry.key).commit();
      if (claimed.ok) this.#streams.write(sessionId, messages);
    }
  }

  async #read(entryId: string, entry: OutboxEntry): Promise<JSONRPCMessage[] | null> {
    let bytes = entry.data;
    if (!bytes) {
      const parts: Uint8Array[] = [];
      const iter = this.#kv.list<Uint8Array>({ prefix: keys.sseChunks(this.instanceId, entryId) });
      for await (const part of iter) parts.push(part.value);
      if (parts.length !== entry.chunks) return null;
      bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let offset = 0;
      for (const part of parts) {
        bytes.set(part, offset);
        offset += part.length;
      }
    }
    try {
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return null;
    }
  }

  /** Adds the deletion of an entry's chunks to `op` (in the same atomic as the entry's own change). */
  #withoutChunks(
    op: Deno.AtomicOperation,
    entryId: string,
    entry: OutboxEntry,
    instanceId = this.instanceId,
  ): Deno.AtomicOperation {
    for (let i = 0; i < entry.chunks; i++) op.delete(keys.sseChunk(instanceId, entryId, i));
    return op;
  }

  async #awaitOutcome(instanceId: string, entryId: string): Promise<DeliveryOutcome> {
    const key = keys.sseOutbox(instanceId, entryId);
    const deadline = Date.now() + this.#timeoutMs;
    while (true) {
      const entry = await this.#kv.get<OutboxEntry>(key);
      if (!entry.value) return "delivered";
      if (entry.value.status === "gone") {
        await this.#kv.atomic().check(entry).delete(key).commit();
        return "gone";
      }
      if (Date.now() >= deadline) {
        // Withdraw the entry; if the holder took it at the last moment, the check fails: look again.
        const withdrawn = await this.#withoutChunks(
          this.#kv.atomic().check(entry),
          entryId,
          entry.value,
          instanceId,
        ).delete(key).commit();
        if (withdrawn.ok) return "timeout";
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, this.#waitMs));
    }
  }
}

async function commit(op: Deno.AtomicOperation, what: string): Promise<void> {
  const result = await op.commit();
  if (!result.ok) throw new Error(`Cannot ${what}: the KV commit failed`);
}

/**
 * The cross-instance event bus: a KV-backed implementation of the SDK's `ServerEventBus` (so 2026-07-28
 * `subscriptions/listen` streams on every instance get `notifications/tools/list_changed`), carrying our
 * own events too (a 2025 session ended on another instance).
 *
 * `publish()` delivers to this instance's listeners synchronously, then appends the event to a short
 * log in KV: a head key holding the latest sequence number and one key per event, written in one atomic
 * that checks the head (so concurrent publishers get consecutive numbers). Every instance with listeners
 * polls the head through the shared {@linkcode KvPoller} and reads the events it has not seen, skipping
 * its own. Events are kept {@linkcode EVENT_TTL_MS}; the log is not a history, only a doorbell with a
 * payload.
 *
 * @see https://github.com/modelcontextprotocol/typescript-sdk (`ServerEventBus` in `@modelcontextprotocol/server`:
 *   "multi-process deployments implement this interface over their own pub/sub")
 * @module
 */
import type { ServerEvent, ServerEventBus } from "@modelcontextprotocol/server";
import { keys } from "../../lib/kv_keys.ts";
import { errorFields, log } from "../../lib/log.ts";
import type { KvPoller } from "./kv_poller.ts";

/**
 * How long an event stays readable in KV: also the window in which a 2025 `GET` stream resumed with
 * `Last-Event-ID` gets what it missed (`mcp/sessions.ts`).
 */
export const EVENT_TTL_MS = 5 * 60_000;
/** A resumption further behind than this many events is not replayed event by event. */
const REPLAY_MAX = 500;
/** How many of the latest events a new listener's first read looks at. */
const BASELINE_LOOKBACK = 20;
/** Attempts of the head-checked append before giving up (only concurrent publishers conflict). */
const APPEND_ATTEMPTS = 20;

/**
 * What travels on the bus: the SDK's change events, a 2025 session that ended, and an SSE stream that
 * another instance could not reach (its holder, if alive, ends it).
 */
export type BusEvent =
  | ServerEvent
  | { kind: "session_ended"; userId: string; sessionId: string }
  | { kind: "sse_closed"; sessionId: string };

type Listener = (event: BusEvent) => void;
interface Registration {
  listener: Listener;
  /** Registered through {@linkcode KvEventBus.sdk} (a `subscriptions/listen` stream). */
  sdk: boolean;
}

interface StoredEvent {
  event: BusEvent;
  origin: string;
  publishedAt: number;
}

const SDK_KINDS: ReadonlySet<string> = new Set([
  "tools_list_changed",
  "prompts_list_changed",
  "resources_list_changed",
  "resource_updated",
]);

/** See the module documentation. */
export class KvEventBus {
  /** This instance's id: events it published are not delivered back to it from KV. */
  readonly origin: string;
  #kv: Deno.Kv;
  #poller: KvPoller;
  #now: () => number;
  #listeners = new Set<Registration>();
  #unwatch: (() => void) | undefined;
  /** The last sequence number read; undefined until the first poll sets the baseline. */
  #seq: number | undefined;
  /** When the first current listener subscribed: events published since then are theirs. */
  #subscribedAt = 0;
  #pending = new Set<Promise<void>>();

  constructor(kv: Deno.Kv, poller: KvPoller, origin: string, options: { now?: () => number } = {}) {
    this.#kv = kv;
    this.#poller = poller;
    this.origin = origin;
    this.#now = options.now ?? Date.now;
  }

  /** The bus as the SDK's `ServerEventBus` (only the SDK's event kinds pass). */
  readonly sdk: ServerEventBus = {
    publish: (event) => this.publish(event),
    subscribe: (listener) =>
      this.#register((event) => {
        if (SDK_KINDS.has(event.kind)) listener(event as ServerEvent);
      }, true),
  };

  /** Delivers `event` here at once and to every other instance within a poll interval. */
  publish(event: BusEvent): void {
    this.publishLocal(event);
    const append = this.#append(event)
      .catch((err) => log("warn", "bus publish failed", { kind: event.kind, ...errorFields(err) }))
      .finally(() => this.#pending.delete(append));
    this.#pending.add(append);
  }

  /**
   * Delivers `event` to this instance's listeners only; with `sdkOnly`, only to the SDK's (the
   * `subscriptions/listen` streams).
   */
  publishLocal(event: BusEvent, options: { sdkOnly?: boolean } = {}): void {
    for (const { listener, sdk } of [...this.#listeners]) {
      if (options.sdkOnly && !sdk) continue;
      try {
        listener(event);
      } catch (err) {
        log("warn", "bus listener failed", { kind: event.kind, ...errorFields(err) });
      }
    }
  }

  /** Registers a listener; returns an idempotent unsubscribe function. */
  subscribe(listener: Listener): () => void {
    return this.#register(listener, false);
  }

  #register(listener: Listener, sdk: boolean): () => void {
    const wrapped: Registration = { listener, sdk };
    this.#listeners.add(wrapped);
    if (!this.#unwatch) {
      this.#subscribedAt = this.#now();
      this.#unwatch = this.#poller.watch(keys.busHead(), (entry) => this.#onHead(entry));
    }
    return () => {
      if (!this.#listeners.delete(wrapped) || this.#listeners.size > 0) return;
      this.#unwatch?.();
      this.#unwatch = undefined;
      this.#seq = undefined;
    };
  }

  /** The sequence number of the events this instance has read so far (the KV head as last polled). */
  get position(): number | undefined {
    return this.#seq;
  }

  /** The latest sequence number in KV (0 when nothing was ever published). */
  async head(): Promise<number> {
    return (await this.#kv.get<{ seq: number }>(keys.busHead())).value?.seq ?? 0;
  }

  /**
   * The events published after `afterSeq`, up to the current head, that are still in the log, and
   * whether they are all of them (false when some expired, or `afterSeq` is too far behind).
   */
  async since(afterSeq: number): Promise<{ head: number; events: BusEvent[]; complete: boolean }> {
    const head = await this.head();
    if (afterSeq >= head) return { head, events: [], complete: afterSeq === head };
    if (head - afterSeq > REPLAY_MAX) return { head, events: [], complete: false };
    const entries = await Array.fromAsync(this.#kv.list<StoredEvent>({
      start: keys.busEvent(afterSeq + 1),
      end: keys.busEvent(head + 1),
    }));
    return {
      head,
      events: entries.map((e) => e.value.event),
      complete: entries.length === head - afterSeq,
    };
  }

  /** Waits for appends in flight (shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  async #append(event: BusEvent): Promise<void> {
    for (let attempt = 0; attempt < APPEND_ATTEMPTS; attempt++) {
      const head = await this.#kv.get<{ seq: number }>(keys.busHead());
      const seq = (head.value?.seq ?? 0) + 1;
      const publishedAt = this.#now();
      const stored: StoredEvent = { event, origin: this.origin, publishedAt };
      const result = await this.#kv.atomic()
        .check(head)
        .set(keys.busHead(), { seq })
        .set(keys.busEvent(seq), stored, { expireIn: EVENT_TTL_MS })
        .commit();
      if (result.ok) return;
    }
    throw new Error(`Cannot publish ${event.kind}: the bus head kept changing`);
  }

  async #onHead(entry: Deno.KvEntryMaybe<unknown>): Promise<void> {
    const head = (entry.value as { seq?: number } | null)?.seq ?? 0;
    if (this.#seq === undefined || head < this.#seq) {
      // Baseline: only what was published since the listeners subscribed (between subscribing and
      // this first read) is theirs; older events are not replayed.
      const recent = await Array.fromAsync(this.#kv.list<StoredEvent>(
        { prefix: keys.busEvents(), end: keys.busEvent(head + 1) },
        { reverse: true, limit: BASELINE_LOOKBACK },
      ));
      this.#seq = head;
      this.#deliver(recent.reverse(), this.#subscribedAt);
      return;
    }
    if (head === this.#seq) return;
    const events = await Array.fromAsync(this.#kv.list<StoredEvent>({
      start: keys.busEvent(this.#seq + 1),
      end: keys.busEvent(head + 1),
    }));
    this.#seq = head; // only once read: a failed list is retried on the next poll
    this.#deliver(events, this.#now() - EVENT_TTL_MS);
  }

  #deliver(entries: Deno.KvEntry<StoredEvent>[], since: number): void {
    for (const { value } of entries) {
      if (value.origin === this.origin || value.publishedAt < since) continue;
      this.publishLocal(value.event);
    }
  }
}

/**
 * The audit trail in Deno KV, kept for a retention period and readable per user (or per grant), newest
 * first. Recording never fails its caller: a failing KV write or sink is logged, and the tool call or
 * OAuth step that caused the event goes on.
 *
 * @example
 * ```ts
 * const audit = new AuditLog(kv, { retentionDays: 30, sinks: [createWorkOSAuditSink(workos)] });
 * await audit.record({
 *   action: "mcp.tool_called", outcome: "success", durationMs: 12, tool: "add",
 *   userId: "user_1", organizationId: "org_1", clientId: "client_1", grantId: "grant_1",
 * });
 * const mine = await audit.listForUser("user_1", { limit: 20 });
 * ```
 * @module
 */
import { errorFields, log } from "../lib/log.ts";
import { type AuditEvent, type AuditEventInput, type AuditSink, clampDetail } from "./events.ts";
import {
  EVENTS_PER_ENTRY,
  eventsOf,
  pack,
  type PackedEntry,
  type StoredAuditEvent,
} from "./compact.ts";
import { auditKeys } from "./keys.ts";

/** Default retention (`AUDIT_RETENTION_DAYS`), in days. */
export const DEFAULT_RETENTION_DAYS = 30;
/** Default number of events `listForUser` returns. */
export const DEFAULT_LIST_LIMIT = 50;
/** The most events one `listForUser` call returns. */
export const MAX_LIST_LIMIT = 500;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Options of {@linkcode AuditLog}. */
export interface AuditLogOptions {
  /** How long events are kept; default {@linkcode DEFAULT_RETENTION_DAYS}. */
  retentionDays?: number;
  /** Milliseconds since the epoch; default `Date.now`. */
  now?: () => number;
  /** Where events are also delivered (e.g. WorkOS Audit Logs). */
  sinks?: AuditSink[];
}

/** Options of {@linkcode AuditLog.listForUser}. */
export interface ListOptions {
  /** At most this many events; default {@linkcode DEFAULT_LIST_LIMIT}, at most {@linkcode MAX_LIST_LIMIT}. */
  limit?: number;
  /** Only events of these grants (e.g. the user's live grants). */
  grantIds?: readonly string[];
}

let sequence = 0;
/** Random bytes drawn 4 KiB at a time (one call into the runtime per 512 ids, not one per id). */
let pool = new Uint8Array(0);
let drawn = 0;

/** A time-sortable event id: 15-digit ms, a per-process sequence, and 64 random bits. */
function eventId(occurredAt: number): string {
  sequence = (sequence + 1) % 1_000_000;
  if (drawn + 8 > pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(4096));
    drawn = 0;
  }
  const random = pool.subarray(drawn, drawn += 8).toHex();
  const ms = String(Math.max(0, Math.trunc(occurredAt))).padStart(15, "0");
  return `aud_${ms}_${String(sequence).padStart(6, "0")}_${random}`;
}

/** Events are written at most this long after they were recorded (one KV commit per batch). */
export const BATCH_MS = 50;
/**
 * Most events per KV commit: at worst (every event another user's) two mutations each (Deno KV allows
 * 1000 per commit) and about 200 bytes of keys (it allows 80 KiB of keys per commit).
 */
export const BATCH_SIZE = 300;
/** Events held in memory at most while KV is slow; beyond that new ones are dropped and logged. */
export const MAX_QUEUED = 10_000;

interface Queued {
  event: AuditEvent;
  /** Resolves `record()`'s promise; absent for `enqueue()`. */
  done: (() => void) | undefined;
}

/**
 * The audit trail: records events in KV (and to sinks) and lists them for their user.
 *
 * Events are written off the response path: `record()` queues the event; {@linkcode BATCH_MS} later
 * one KV commit writes what was queued (up to {@linkcode BATCH_SIZE} events per commit; what arrives
 * meanwhile goes into the next, about one commit per {@linkcode BATCH_MS} under load). `flush()` writes
 * what is queued now; the service calls it on shutdown, so a clean stop loses nothing. A crash loses
 * what was queued and not yet committed: the events of the last {@linkcode BATCH_MS} ms (plus any
 * still waiting behind a slow KV; at most {@linkcode MAX_QUEUED} are held, further ones are dropped
 * and logged).
 */
export class AuditLog {
  #kv: Deno.Kv;
  #retentionMs: number;
  #now: () => number;
  #sinks: AuditSink[];
  #queue: Queued[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> = Promise.resolve();
  #busy = false;
  /** Set by `flush()`: write without waiting for batches to fill. */
  #urgent = false;
  #wake: (() => void) | undefined;
  /** Events recorded and not yet written (queued, or in a batch being written). */
  #held = 0;
  #dropped = 0;

  /**
   * @param kv the store
   * @param options retention, clock and sinks
   * @throws {RangeError} when `retentionDays` is not a positive number
   */
  constructor(kv: Deno.Kv, options: AuditLogOptions = {}) {
    const days = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
    if (!Number.isFinite(days) || days <= 0) {
      throw new RangeError(`"retentionDays" option must be a positive number: received ${days}`);
    }
    this.#kv = kv;
    this.#retentionMs = days * DAY_MS;
    this.#now = options.now ?? Date.now;
    this.#sinks = [...(options.sinks ?? [])];
  }

  /**
   * Records an event: queues it for the next KV batch, after which it goes to every sink. Never
   * rejects: failures are logged. Resolves with the event (its assigned id and time) once its batch
   * was written (or failed); callers on a response path do not wait for it.
   */
  record(input: AuditEventInput): Promise<AuditEvent> {
    const event = this.#build(input);
    return new Promise((resolve) => {
      if (!this.#push(event, () => resolve(event))) resolve(event);
    });
  }

  /**
   * Records an event like {@linkcode AuditLog.record}, for a caller that does not wait for it (a tool
   * call on the response path): no promise is made for it.
   */
  enqueue(input: AuditEventInput): void {
    this.#push(this.#build(input), undefined);
  }

  /** Queues `event` for the next batch; false when it was dropped (the queue is full). */
  #push(event: AuditEvent, done: (() => void) | undefined): boolean {
    if (this.#held >= MAX_QUEUED) {
      this.#drop(event);
      return false;
    }
    this.#held++;
    this.#queue.push({ event, done });
    if (this.#timer === undefined && !this.#busy) {
      this.#timer = setTimeout(() => this.#drain(), BATCH_MS);
    }
    return true;
  }

  /**
   * Writes what is queued, one commit of up to {@linkcode BATCH_SIZE} events after another, until the
   * queue is empty. Less than a full batch waiting is given {@linkcode BATCH_MS} to gather first, so a
   * busy instance makes about one commit per {@linkcode BATCH_MS}, not one after another (each costs
   * KV time on a shared machine). `urgent` (flush) writes everything without waiting.
   */
  #drain(urgent = false): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (urgent) {
      this.#urgent = true;
      this.#wake?.();
    }
    if (this.#busy) return this.#writing;
    this.#busy = true;
    this.#writing = (async () => {
      try {
        while (this.#queue.length > 0) {
          await this.#commit(this.#queue.splice(0, BATCH_SIZE));
          if (!this.#urgent && this.#queue.length > 0 && this.#queue.length < BATCH_SIZE) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, BATCH_MS);
              this.#wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
            this.#wake = undefined;
          }
        }
      } finally {
        this.#busy = false;
        this.#urgent = false;
      }
    })();
    return this.#writing;
  }

  async #commit(batch: Queued[]): Promise<void> {
    try {
      const now = this.#now();
      const op = this.#kv.atomic();
      const byUser = new Map<string, AuditEvent[]>();
      for (const { event } of batch) {
        const expiresAt = event.occurredAt + this.#retentionMs;
        if (expiresAt <= now) continue;
        if (event.userId === null) {
          const stored: StoredAuditEvent = { ...event, expiresAt };
          op.set(auditKeys.anonEvent(event.id), stored, { expireIn: expiresAt - now });
          continue;
        }
        const list = byUser.get(event.userId);
        if (list) list.push(event);
        else byUser.set(event.userId, [event]);
      }
      for (const [userId, events] of byUser) {
        for (let i = 0; i < events.length; i += EVENTS_PER_ENTRY) {
          const chunk = events.slice(i, i + EVENTS_PER_ENTRY);
          const entryId = chunk[0]!.id;
          const expiresAt = Math.max(...chunk.map((e) => e.occurredAt)) + this.#retentionMs;
          const options = { expireIn: expiresAt - now };
          const entry: PackedEntry = { v: 2, expiresAt, events: chunk.map(pack) };
          op.set(auditKeys.userEvent(userId, entryId), entry, options);
          const grants = new Set(chunk.map((e) => e.grantId).filter((g) => g !== null));
          for (const grantId of grants) {
            op.set(auditKeys.grantEvent(grantId, entryId), userId, options);
          }
        }
      }
      const res = await op.commit();
      if (!res.ok) throw new Error("Cannot commit audit event: atomic check failed");
    } catch (err) {
      const first = batch[0]!.event;
      log("error", "Cannot record audit event", {
        eventId: first.id,
        action: first.action,
        ...(batch.length > 1 ? { events: batch.length } : {}),
        ...errorFields(err),
      });
    }
    this.#held -= batch.length;
    for (const { event, done } of batch) {
      this.#send(event);
      done?.();
    }
  }

  #send(event: AuditEvent): void {
    for (const sink of this.#sinks) {
      try {
        sink.send(event);
      } catch (err) {
        log("error", "Cannot hand audit event to sink", {
          sink: sink.name,
          eventId: event.id,
          ...errorFields(err),
        });
      }
    }
  }

  /** Drops `event` because KV cannot keep up; says so on the first drop and every 1000th. */
  #drop(event: AuditEvent): void {
    if (this.#dropped++ % 1000 !== 0) return;
    log("error", "Cannot record audit event: the write queue is full", {
      eventId: event.id,
      action: event.action,
      dropped: this.#dropped,
      queued: this.#held,
    });
  }

  #build(input: AuditEventInput): AuditEvent {
    const occurredAt = input.occurredAt ?? this.#now();
    const event: AuditEvent = {
      id: eventId(occurredAt),
      action: input.action,
      occurredAt,
      userId: input.userId ?? null,
      organizationId: input.organizationId ?? null,
      clientId: input.clientId ?? null,
      grantId: input.grantId ?? null,
      outcome: input.outcome,
    };
    if (input.tool !== undefined) event.tool = input.tool;
    if (input.durationMs !== undefined) event.durationMs = input.durationMs;
    if (input.detail !== undefined) event.detail = clampDetail(String(input.detail));
    if (input.ip !== undefined) event.ip = input.ip;
    return event;
  }

  /**
   * The user's unexpired events, newest first; with `grantIds`, only those of the listed grants.
   * Events this instance still holds are written first, so they are listed too.
   * @throws {RangeError} when `limit` is not an integer from 1 to {@linkcode MAX_LIST_LIMIT}
   */
  async listForUser(userId: string, options: ListOptions = {}): Promise<AuditEvent[]> {
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new RangeError(
        `"limit" option must be an integer from 1 to ${MAX_LIST_LIMIT}: received ${limit}`,
      );
    }
    // Read your writes: what this instance recorded is written before it is listed.
    if (this.#queue.length > 0 || this.#busy) await this.#drain(true);
    if (options.grantIds === undefined) {
      return await this.#collect(auditKeys.userEvents(userId), userId, limit);
    }
    const lists = await Promise.all(
      [...new Set(options.grantIds)].map((grantId) => this.#collectGrant(grantId, userId, limit)),
    );
    return lists.flat().sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).slice(0, limit);
  }

  /** Up to `limit` unexpired events of `userId` in grant `grantId`, newest first. */
  async #collectGrant(grantId: string, userId: string, limit: number): Promise<AuditEvent[]> {
    const now = this.#now();
    const entryIds: string[] = [];
    const events: AuditEvent[] = [];
    const iter = this.#kv.list<string | StoredAuditEvent>(
      { prefix: auditKeys.grantEvents(grantId) },
      { reverse: true, batchSize: Math.min(limit + 10, MAX_LIST_LIMIT) },
    );
    for await (const { key, value } of iter) {
      if (typeof value === "string") {
        if (value === userId) entryIds.push(String(key.at(-1)));
      } else if (value.userId === userId && value.expiresAt > now) {
        // The form before compact entries kept a copy of the event under its grant.
        const { expiresAt: _, ...event } = value;
        events.push(event);
      }
      // Each entry holds at least one of the grant's events.
      if (entryIds.length + events.length >= limit) break;
    }
    for (let i = 0; i < entryIds.length; i += 10) { // getMany reads at most 10 keys
      const entries = await this.#kv.getMany<(PackedEntry | StoredAuditEvent)[]>(
        entryIds.slice(i, i + 10).map((id) => auditKeys.userEvent(userId, id)),
      );
      for (const { value } of entries) {
        if (!value) continue;
        for (const { event, expiresAt } of eventsOf(value, userId, this.#retentionMs)) {
          if (expiresAt > now && event.grantId === grantId) events.push(event);
        }
      }
    }
    return newestFirst(events).slice(0, limit);
  }

  /** Up to `limit` unexpired events of `userId` under `prefix`, newest first. */
  async #collect(prefix: Deno.KvKey, userId: string, limit: number): Promise<AuditEvent[]> {
    const now = this.#now();
    const events: AuditEvent[] = [];
    const iter = this.#kv.list<PackedEntry | StoredAuditEvent>({ prefix }, {
      reverse: true,
      batchSize: Math.min(limit + 10, MAX_LIST_LIMIT),
    });
    for await (const entry of iter) {
      for (const { event, expiresAt } of eventsOf(entry.value, userId, this.#retentionMs)) {
        if (expiresAt > now) events.push(event);
      }
      if (events.length >= limit) break;
    }
    return newestFirst(events).slice(0, limit);
  }

  /** Writes every queued event now; resolves when they are written and every sink has flushed. */
  async flush(): Promise<void> {
    await this.#drain(true);
    await Promise.allSettled(this.#sinks.map((sink) => sink.flush()));
  }

  /** Closes every sink (call {@linkcode AuditLog.flush} first to deliver what is queued). */
  close(): void {
    for (const sink of this.#sinks) {
      try {
        sink.close();
      } catch (err) {
        log("error", "Cannot close audit sink", { sink: sink.name, ...errorFields(err) });
      }
    }
  }
}

/** `events` sorted by id, newest first (ids sort by time, then by recording order). */
function newestFirst(events: AuditEvent[]): AuditEvent[] {
  return events.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

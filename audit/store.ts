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
import { auditKeys } from "./keys.ts";

/** Default retention (`AUDIT_RETENTION_DAYS`), in days. */
export const DEFAULT_RETENTION_DAYS = 30;
/** Default number of events `listForUser` returns. */
export const DEFAULT_LIST_LIMIT = 50;
/** The most events one `listForUser` call returns. */
export const MAX_LIST_LIMIT = 500;

const DAY_MS = 24 * 60 * 60 * 1000;

/** An event as stored: it carries its own expiry, checked on read (`expireIn` is only for GC). */
interface StoredAuditEvent extends AuditEvent {
  expiresAt: number;
}

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

/** A time-sortable event id: 15-digit ms, a per-process sequence, and 64 random bits. */
function eventId(occurredAt: number): string {
  sequence = (sequence + 1) % 1_000_000;
  const random = Array.from(crypto.getRandomValues(new Uint8Array(8)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const ms = String(Math.max(0, Math.trunc(occurredAt))).padStart(15, "0");
  return `aud_${ms}_${String(sequence).padStart(6, "0")}_${random}`;
}

function withoutExpiry(stored: StoredAuditEvent): AuditEvent {
  const { expiresAt: _, ...event } = stored;
  return event;
}

/** The audit trail: records events in KV (and to sinks) and lists them for their user. */
export class AuditLog {
  #kv: Deno.Kv;
  #retentionMs: number;
  #now: () => number;
  #sinks: AuditSink[];
  #pending = new Set<Promise<unknown>>();

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
   * Records an event in KV and hands it to every sink. Never rejects: failures are logged, and the
   * event (with its assigned id and time) is returned anyway.
   */
  record(input: AuditEventInput): Promise<AuditEvent> {
    const promise = this.#record(input);
    this.#pending.add(promise);
    return promise.finally(() => this.#pending.delete(promise));
  }

  async #record(input: AuditEventInput): Promise<AuditEvent> {
    const event = this.#build(input);
    try {
      const now = this.#now();
      const expiresAt = event.occurredAt + this.#retentionMs;
      if (expiresAt > now) {
        const stored: StoredAuditEvent = { ...event, expiresAt };
        const options = { expireIn: expiresAt - now };
        const op = this.#kv.atomic();
        op.set(
          event.userId === null
            ? auditKeys.anonEvent(event.id)
            : auditKeys.userEvent(event.userId, event.id),
          stored,
          options,
        );
        if (event.grantId !== null) {
          op.set(auditKeys.grantEvent(event.grantId, event.id), stored, options);
        }
        const res = await op.commit();
        if (!res.ok) throw new Error("Cannot commit audit event: atomic check failed");
      }
    } catch (err) {
      log("error", "Cannot record audit event", {
        eventId: event.id,
        action: event.action,
        ...errorFields(err),
      });
    }
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
    return event;
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
   * @throws {RangeError} when `limit` is not an integer from 1 to {@linkcode MAX_LIST_LIMIT}
   */
  async listForUser(userId: string, options: ListOptions = {}): Promise<AuditEvent[]> {
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new RangeError(
        `"limit" option must be an integer from 1 to ${MAX_LIST_LIMIT}: received ${limit}`,
      );
    }
    if (options.grantIds === undefined) {
      return await this.#collect(auditKeys.userEvents(userId), userId, limit);
    }
    const lists = await Promise.all(
      [...new Set(options.grantIds)].map((grantId) =>
        this.#collect(auditKeys.grantEvents(grantId), userId, limit)
      ),
    );
    return lists.flat().sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).slice(0, limit);
  }

  /** Up to `limit` unexpired events of `userId` under `prefix`, newest first. */
  async #collect(prefix: Deno.KvKey, userId: string, limit: number): Promise<AuditEvent[]> {
    const now = this.#now();
    const events: AuditEvent[] = [];
    const iter = this.#kv.list<StoredAuditEvent>({ prefix }, {
      reverse: true,
      batchSize: Math.min(limit + 10, MAX_LIST_LIMIT),
    });
    for await (const entry of iter) {
      const stored = entry.value;
      if (stored.expiresAt <= now || stored.userId !== userId) continue;
      events.push(withoutExpiry(stored));
      if (events.length >= limit) break;
    }
    return events;
  }

  /** Resolves when every `record()` so far has finished and every sink has flushed. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
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

/**
 * Sends audit events to WorkOS Audit Logs (`auditLogs.createEvent`), enabled by
 * `WORKOS_AUDIT_LOGS=true`. WorkOS audit logs are organization-scoped, so events without an
 * organization are skipped (and counted). Delivery runs in the background from a bounded in-memory
 * queue, one request at a time, retrying transient failures with exponential backoff; the event id is
 * the idempotency key, so a retry of a request WorkOS did receive is not stored twice.
 *
 * @see https://workos.com/docs/reference/audit-logs/event/create (the `POST /audit_logs/events` body)
 * @see https://github.com/workos/workos-node/blob/main/src/audit-logs/audit-logs.ts (`createEvent`)
 * @see audit/README.md (the schema admins define in the WorkOS Dashboard)
 * @module
 */
import type { CreateAuditLogEventOptions, WorkOS } from "@workos-inc/node";
import { errorFields, log } from "../lib/log.ts";
import type { AuditEvent, AuditSink } from "./events.ts";

/** Options of {@linkcode createWorkOSAuditSink}. */
export interface WorkOSAuditSinkOptions {
  /** Attempts per event, the first included; default 5. */
  maxAttempts?: number;
  /** The first retry delay in ms, doubled each retry; default 1000. */
  baseDelayMs?: number;
  /** The longest retry delay in ms; default 60000. */
  maxDelayMs?: number;
  /** The most events waiting; when full, the oldest is dropped. Default 1000. */
  maxQueue?: number;
}

/** Delivery counters of a {@linkcode WorkOSAuditSink}. */
export interface WorkOSAuditSinkStats {
  /** Events WorkOS accepted. */
  sent: number;
  /** Events skipped because they have no organization. */
  skipped: number;
  /** Events given up after a permanent error or the last attempt. */
  failed: number;
  /** Events dropped because the queue was full or the sink closed. */
  dropped: number;
  /** Retries scheduled so far. */
  retries: number;
  /** Events waiting or in flight. */
  queued: number;
}

/** An {@linkcode AuditSink} for WorkOS Audit Logs, with its counters. */
export interface WorkOSAuditSink extends AuditSink {
  /** A snapshot of the counters. */
  stats(): WorkOSAuditSinkStats;
}

/** HTTP statuses worth retrying; any other status is permanent (e.g. 400: no schema for the action). */
const RETRYABLE_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`"${name}" option must be a positive integer: received ${value}`);
  }
  return value;
}

/** Whether `err` is transient: a network error (no status) or a retryable HTTP status. */
export function isRetryable(err: unknown): boolean {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status !== "number" || RETRYABLE_STATUSES.has(status);
}

/**
 * The WorkOS `createEvent` body for an organization-scoped event. The actor is the user (or, without
 * one, the client); targets are the tool and the client, or the organization when neither is known.
 * Metadata values are short strings.
 */
export function toWorkOSEvent(event: AuditEvent): CreateAuditLogEventOptions {
  const actor = event.userId !== null
    ? { id: event.userId, type: "user" }
    : { id: event.clientId ?? "unknown", type: event.clientId !== null ? "mcp_client" : "system" };
  const targets = [];
  if (event.tool !== undefined) targets.push({ id: event.tool, type: "mcp_tool" });
  if (event.clientId !== null) targets.push({ id: event.clientId, type: "mcp_client" });
  if (targets.length === 0) targets.push({ id: event.organizationId ?? "", type: "organization" });
  const metadata: Record<string, string> = { outcome: event.outcome };
  if (event.grantId !== null) metadata["grant_id"] = event.grantId;
  if (event.clientId !== null) metadata["client_id"] = event.clientId;
  if (event.tool !== undefined) metadata["tool"] = event.tool;
  if (event.durationMs !== undefined) metadata["duration_ms"] = String(event.durationMs);
  if (event.detail !== undefined) metadata["detail"] = event.detail.slice(0, 500);
  return {
    action: event.action,
    occurredAt: new Date(event.occurredAt),
    actor,
    targets,
    context: { location: event.ip || "0.0.0.0" },
    metadata,
  };
}

/**
 * Creates the WorkOS Audit Logs sink. `send()` returns at once; call `flush()` before shutdown and
 * `close()` last (it clears the retry timer; a request already in flight is not aborted).
 *
 * @param workos the SDK client (its own `maxRetries` applies inside each attempt)
 * @param options retry and queue limits
 * @throws {TypeError} when an option is not a positive integer
 * @example
 * ```ts
 * const sink = createWorkOSAuditSink(workos, { maxAttempts: 5 });
 * const audit = new AuditLog(kv, { sinks: [sink] });
 * ```
 */
export function createWorkOSAuditSink(
  workos: WorkOS,
  options: WorkOSAuditSinkOptions = {},
): WorkOSAuditSink {
  const maxAttempts = positiveInteger("maxAttempts", options.maxAttempts ?? 5);
  const baseDelayMs = positiveInteger("baseDelayMs", options.baseDelayMs ?? 1000);
  const maxDelayMs = positiveInteger("maxDelayMs", options.maxDelayMs ?? 60_000);
  const maxQueue = positiveInteger("maxQueue", options.maxQueue ?? 1000);

  const queue: AuditEvent[] = [];
  const stats = { sent: 0, skipped: 0, failed: 0, dropped: 0, retries: 0 };
  let inFlight = false;
  let closed = false;
  let draining: Promise<void> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      wake = resolve;
      timer = setTimeout(() => {
        timer = undefined;
        wake = undefined;
        resolve();
      }, ms);
    });

  async function deliver(event: AuditEvent): Promise<void> {
    const organizationId = event.organizationId ?? "";
    for (let attempt = 1; !closed; attempt++) {
      try {
        await workos.auditLogs.createEvent(organizationId, toWorkOSEvent(event), {
          idempotencyKey: event.id,
        });
        stats.sent++;
        return;
      } catch (err) {
        const retry = isRetryable(err) && attempt < maxAttempts && !closed;
        const fields = { eventId: event.id, action: event.action, attempt, ...errorFields(err) };
        if (!retry) {
          stats.failed++;
          log("error", "Cannot send audit event to WorkOS: giving up", fields);
          return;
        }
        stats.retries++;
        log("warn", "Cannot send audit event to WorkOS: will retry", fields);
        const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
        await sleep(Math.round(delay * (0.8 + Math.random() * 0.2)));
      }
    }
    stats.dropped++; // closed while waiting to retry
  }

  async function drain(): Promise<void> {
    try {
      for (let event = queue.shift(); event && !closed; event = queue.shift()) {
        inFlight = true;
        await deliver(event);
        inFlight = false;
      }
    } catch (err) {
      log("error", "Cannot drain the WorkOS audit queue", errorFields(err));
    } finally {
      inFlight = false;
      draining = null;
    }
  }

  return {
    name: "workos",
    send(event: AuditEvent): void {
      if (closed) {
        stats.dropped++;
        return;
      }
      if (!event.organizationId) {
        stats.skipped++;
        return;
      }
      if (queue.length >= maxQueue) {
        const oldest = queue.shift();
        stats.dropped++;
        log("warn", "Dropping the oldest queued audit event: WorkOS queue full", {
          eventId: oldest?.id,
          maxQueue,
        });
      }
      queue.push(event);
      draining ??= drain();
    },
    async flush(): Promise<void> {
      while (draining) await draining;
    },
    close(): void {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      wake?.();
      wake = undefined;
      if (queue.length > 0 || inFlight) {
        log("warn", "Closing the WorkOS audit sink with undelivered events", {
          dropped: queue.length,
          inFlight,
        });
        stats.dropped += queue.length;
        queue.length = 0;
      }
    },
    stats: () => ({ ...stats, queued: queue.length + (inFlight ? 1 : 0) }),
  };
}

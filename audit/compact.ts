/**
 * The compact stored form of the audit trail. One KV entry holds one user's events of one write batch
 * (up to {@linkcode EVENTS_PER_ENTRY}), each as a positional tuple: no field names, no user id (it is in
 * the key), no per-event expiry (derived from `occurredAt` and the retention). A grant's index entry
 * holds only the user id, under the same entry id. Events without a user are stored one per entry, as
 * plain {@linkcode AuditEvent} objects.
 *
 * Entries written before this form (one event object per entry, with `expiresAt`) are still read.
 *
 * @module
 */
import type { AuditAction, AuditEvent, AuditOutcome } from "./events.ts";

/** Most events in one entry: a tuple is at most ~700 bytes (a 500-character detail), KV values ≤ 64 KiB. */
export const EVENTS_PER_ENTRY = 50;

/** One event, positionally; `undefined` marks an absent optional field. */
export type PackedEvent = [
  id: string,
  action: AuditAction,
  occurredAt: number,
  organizationId: string | null,
  clientId: string | null,
  grantId: string | null,
  outcome: AuditOutcome,
  tool: string | undefined,
  durationMs: number | undefined,
  detail: string | undefined,
  ip: string | null | undefined,
];

/** One user's events of one batch, as stored under `["audit", "user", userId, <first event id>]`. */
export interface PackedEntry {
  v: 2;
  /** When the newest event in it expires (KV's `expireIn` is only for collection). */
  expiresAt: number;
  events: PackedEvent[];
}

/** An event as stored before the compact form (and still for events without a user). */
export interface StoredAuditEvent extends AuditEvent {
  expiresAt: number;
}

/** `event` as a tuple (its `userId` goes in the key). */
export function pack(event: AuditEvent): PackedEvent {
  return [
    event.id,
    event.action,
    event.occurredAt,
    event.organizationId,
    event.clientId,
    event.grantId,
    event.outcome,
    event.tool,
    event.durationMs,
    event.detail,
    event.ip,
  ];
}

/** The event a tuple stored under `userId` holds. */
export function unpack(packed: PackedEvent, userId: string | null): AuditEvent {
  const [id, action, occurredAt, organizationId, clientId, grantId, outcome] = packed;
  const event: AuditEvent = {
    id,
    action,
    occurredAt,
    userId,
    organizationId,
    clientId,
    grantId,
    outcome,
  };
  if (packed[7] !== undefined) event.tool = packed[7];
  if (packed[8] !== undefined) event.durationMs = packed[8];
  if (packed[9] !== undefined) event.detail = packed[9];
  if (packed[10] !== undefined) event.ip = packed[10];
  return event;
}

/**
 * The events a stored value under `userId` holds, oldest first, with the time each expires: a packed
 * entry (expiry from `retentionMs`) or an event stored alone (its own `expiresAt`).
 */
export function eventsOf(
  value: PackedEntry | StoredAuditEvent,
  userId: string,
  retentionMs: number,
): { event: AuditEvent; expiresAt: number }[] {
  if ("v" in value && value.v === 2) {
    return value.events.map((packed) => ({
      event: unpack(packed, userId),
      expiresAt: packed[2] + retentionMs,
    }));
  }
  const { expiresAt, ...event } = value as StoredAuditEvent;
  return event.userId === userId ? [{ event, expiresAt }] : [];
}

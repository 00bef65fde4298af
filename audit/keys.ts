/**
 * The audit trail's Deno KV keys (tuples, like `lib/kv_keys.ts`; kept beside the audit module so it
 * stays self-contained). The last element of each key is the event id, which sorts by time, so a
 * reverse prefix list yields newest first.
 *
 * Layout:
 * - `["audit", "user", userId, eventId]` → the event (every event with a user);
 * - `["audit", "grant", grantId, eventId]` → the same event (every event with a grant);
 * - `["audit", "anon", eventId]` → the event (events without a user).
 *
 * @module
 */

/** KV key builders for the audit trail. */
export const auditKeys = {
  /** An event under its user. */
  userEvent: (userId: string, eventId: string): Deno.KvKey => ["audit", "user", userId, eventId],
  /** Prefix of {@linkcode auditKeys.userEvent}. */
  userEvents: (userId: string): Deno.KvKey => ["audit", "user", userId],
  /** An event under its grant (a copy, so a grant's events are one prefix list). */
  grantEvent: (
    grantId: string,
    eventId: string,
  ): Deno.KvKey => ["audit", "grant", grantId, eventId],
  /** Prefix of {@linkcode auditKeys.grantEvent}. */
  grantEvents: (grantId: string): Deno.KvKey => ["audit", "grant", grantId],
  /** An event without a user. */
  anonEvent: (eventId: string): Deno.KvKey => ["audit", "anon", eventId],
} as const;

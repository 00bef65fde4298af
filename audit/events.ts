/**
 * The audit event: what happened, to whom, through which client, and how it ended. One closed union of
 * stable dotted action names, shared by the KV trail (`audit/store.ts`) and the WorkOS Audit Logs sink
 * (`audit/workos_sink.ts`). The names are a contract with WorkOS admins, who define a schema per
 * action in the Dashboard: never rename one, add a new one instead.
 *
 * @see audit/README.md (the actions, for admins defining the WorkOS schema)
 * @module
 */

/** Every action the service records. Stable: WorkOS schemas are keyed by these names. */
export type AuditAction =
  | "user.signed_in"
  | "oauth.consent_granted"
  | "oauth.consent_denied"
  | "oauth.token_issued"
  | "oauth.token_refreshed"
  | "oauth.refresh_refused"
  | "oauth.token_revoked"
  | "oauth.grant_revoked"
  | "oauth.code_reuse_detected"
  | "oauth.refresh_reuse_detected"
  | "mcp.tool_called"
  | "mcp.tool_refused"
  | "permissions.changed";

/** What each action means, for the README and the WorkOS schema descriptions. */
export const ACTION_DESCRIPTIONS: Readonly<Record<AuditAction, string>> = {
  "user.signed_in": "The user signed in with AuthKit and a grant was created for the client.",
  "oauth.consent_granted": "The user approved a client's access request on the consent page.",
  "oauth.consent_denied": "The user denied a client's access request on the consent page.",
  "oauth.token_issued": "An authorization code was redeemed for an access and refresh token.",
  "oauth.token_refreshed": "A refresh token was exchanged for a new token pair.",
  "oauth.refresh_refused":
    "A refresh was refused (unknown, expired or revoked token, or WorkOS ended the session).",
  "oauth.token_revoked": "A client revoked one of its tokens (RFC 7009).",
  "oauth.grant_revoked": "A grant and every token issued from it were revoked.",
  "oauth.code_reuse_detected":
    "An authorization code was presented twice; the grant it issued was revoked.",
  "oauth.refresh_reuse_detected":
    "A rotated refresh token was presented again; the grant was revoked.",
  "mcp.tool_called": "An MCP tool was called and ran (outcome success or failure).",
  "mcp.tool_refused": "An MCP tool call was refused because the user lacks its permission.",
  "permissions.changed": "WorkOS reported different permissions for the grant's user.",
};

/** Every action, in declaration order. */
export const AUDIT_ACTIONS: readonly AuditAction[] = Object.freeze(
  Object.keys(ACTION_DESCRIPTIONS) as AuditAction[],
);

/** How an event ended: it worked, it failed, or policy refused it. */
export type AuditOutcome = "success" | "failure" | "refused";

/** The most characters `detail` keeps (WorkOS metadata values are limited to 500). */
export const MAX_DETAIL_LENGTH = 500;

/** One recorded event. Holds ids only: never tokens, codes, secrets or tool arguments. */
export interface AuditEvent {
  /** Time-sortable unique id; also the WorkOS idempotency key. */
  id: string;
  action: AuditAction;
  /** When it happened, in ms since the epoch. */
  occurredAt: number;
  /** WorkOS user id (`user_…`), or null when no user is known (e.g. a refused unknown token). */
  userId: string | null;
  /** WorkOS organization id (`org_…`), or null without one (then WorkOS Audit Logs skips it). */
  organizationId: string | null;
  /** The OAuth client id, when one is involved. */
  clientId: string | null;
  /** Our grant id, when one is involved. */
  grantId: string | null;
  /** The MCP tool name, for `mcp.*` actions. */
  tool?: string;
  outcome: AuditOutcome;
  /** How long the operation took, in ms. */
  durationMs?: number;
  /** A short human-readable note (≤ {@linkcode MAX_DETAIL_LENGTH} characters). Never a secret. */
  detail?: string;
  /** The caller's IP address, when known. */
  ip?: string | null;
}

/** What callers pass to `AuditLog.record()`: the id is assigned, the time defaults to now. */
export type AuditEventInput = Omit<AuditEvent, "id" | "occurredAt"> & { occurredAt?: number };

/**
 * Somewhere events are also delivered (e.g. WorkOS Audit Logs). `send` must return at once and never
 * throw; delivery, retries and failures are the sink's business.
 */
export interface AuditSink {
  /** A short name for log lines. */
  readonly name: string;
  /** Queues the event for delivery; returns at once. */
  send(event: AuditEvent): void;
  /** Resolves when every queued event was delivered or given up. */
  flush(): Promise<void>;
  /** Stops delivery and clears its timers; events still queued are dropped. */
  close(): void;
}

/**
 * Shortens `detail` to {@linkcode MAX_DETAIL_LENGTH} characters (code points) and replaces control
 * characters with spaces, so one log line stays one line.
 *
 * @example
 * ```ts
 * clampDetail("a\nb"); // "a b"
 * ```
 */
export function clampDetail(detail: string): string {
  // deno-lint-ignore no-control-regex
  const flat = detail.replace(/[\u0000-\u001f\u007f]/g, " ");
  const chars = Array.from(flat);
  return chars.length <= MAX_DETAIL_LENGTH ? flat : chars.slice(0, MAX_DETAIL_LENGTH).join("");
}

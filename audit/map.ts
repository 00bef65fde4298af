/**
 * From domain events to audit records: what the trail says when a tool is called, a grant is revoked or
 * a user's permissions change. The wiring only connects a hook to `AuditLog.record`
 * (`onToolCall: (call) => audit.enqueue(toolCallEvent(call))`); the choice of action, outcome and wording
 * lives here, next to the action names it must keep stable.
 *
 * The inputs are small structural types, so this folder needs nothing from `auth/` or `mcp/`: an
 * `Identity`, a `Grant` or an `mcp/` tool-call record fits them as it is.
 *
 * @module
 */
import type { AuditEventInput, AuditOutcome } from "./events.ts";

/** Who acted: the ids of the caller's identity that the trail keeps. */
export interface AuditedIdentity {
  /** WorkOS user id (`user_…`). */
  readonly userId: string;
  /** WorkOS organization id (`org_…`), or null without one. */
  readonly organizationId: string | null;
  /** The OAuth client the token was issued to. */
  readonly clientId: string;
  /** Our grant id. */
  readonly grantId: string;
}

/** One tool call, allowed or refused. */
export interface AuditedToolCall {
  readonly identity: AuditedIdentity;
  readonly tool: string;
  readonly outcome: AuditOutcome;
  readonly durationMs: number;
  readonly detail?: string;
}

/** A grant, as far as the trail needs it. */
export interface AuditedGrant {
  /** Our grant id. */
  readonly id: string;
  readonly userId: string;
  readonly organizationId: string | null;
  readonly clientId: string;
  /** AuthKit permission slugs. */
  readonly permissions: readonly string[];
}

/**
 * The record of a tool call: `mcp.tool_refused` when policy refused it, else `mcp.tool_called` with its
 * outcome and duration.
 *
 * @example
 * ```ts
 * onToolCall: (call) => audit.enqueue(toolCallEvent(call))
 * ```
 */
export function toolCallEvent(call: AuditedToolCall): AuditEventInput {
  return {
    action: call.outcome === "refused" ? "mcp.tool_refused" : "mcp.tool_called",
    userId: call.identity.userId,
    organizationId: call.identity.organizationId,
    clientId: call.identity.clientId,
    grantId: call.identity.grantId,
    tool: call.tool,
    outcome: call.outcome,
    durationMs: call.durationMs,
    ...(call.detail ? { detail: call.detail } : {}),
  };
}

/** The record of a grant revoked because WorkOS refused its session refresh, `reason` being WorkOS's word. */
export function grantRevokedByWorkOS(grant: AuditedGrant, reason: string): AuditEventInput {
  return {
    ...grantIds(grant),
    action: "oauth.grant_revoked",
    outcome: "success",
    detail: `WorkOS refused the session refresh: ${reason}`,
  };
}

/** The record of a grant the signed-in user `userId` revoked on the `/account` page. */
export function grantRevokedByUser(grant: AuditedGrant, userId: string): AuditEventInput {
  return {
    ...grantIds(grant),
    userId,
    action: "oauth.grant_revoked",
    outcome: "success",
    detail: "revoked by the user on /account",
  };
}

/** The record of WorkOS reporting different permissions for a grant's user: the lists before and after. */
export function permissionsChanged(before: AuditedGrant, after: AuditedGrant): AuditEventInput {
  return {
    ...grantIds(after),
    action: "permissions.changed",
    outcome: "success",
    detail: `[${before.permissions.join(", ")}] → [${after.permissions.join(", ")}]`,
  };
}

function grantIds(grant: AuditedGrant) {
  return {
    userId: grant.userId,
    organizationId: grant.organizationId,
    clientId: grant.clientId,
    grantId: grant.id,
  };
}

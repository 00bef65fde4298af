/**
 * Audit events as sentences for the account page ("Called generateImage — allowed"), instead of raw
 * action names and client ids.
 *
 * @module
 */

/** One line of recent activity, as the account page receives it. */
export interface ActivityLine {
  at: number;
  /** The audit action, e.g. `mcp.tool_called`. */
  action: string;
  tool?: string | undefined;
  outcome?: string | undefined;
  /** The client's name, when known. */
  client?: string | undefined;
  detail?: string | undefined;
}

const OUTCOME: Record<string, string> = {
  success: "allowed",
  failure: "failed",
  refused: "refused",
};

const SENTENCES: Record<string, (line: ActivityLine) => string> = {
  "user.signed_in": () => "Signed in",
  "oauth.consent_granted": () => "Approved access",
  "oauth.consent_denied": () => "Denied access",
  "oauth.token_issued": () => "Connected",
  "oauth.token_refreshed": () => "Renewed its connection",
  "oauth.refresh_refused": () => "Renewal refused; it must sign in again",
  "oauth.token_revoked": () => "Disconnected itself",
  "oauth.grant_revoked": () => "Access revoked",
  "oauth.code_reuse_detected": () => "Access revoked: a sign-in code was used twice",
  "oauth.refresh_reuse_detected": () => "Access revoked: an old token was used again",
  "mcp.tool_called": (l) =>
    `Called ${l.tool ?? "a tool"} — ${OUTCOME[l.outcome ?? ""] ?? "allowed"}`,
  "mcp.tool_refused": (l) => `Called ${l.tool ?? "a tool"} — refused (no permission)`,
  "permissions.changed": () => "Your permissions changed",
};

/**
 * The sentence for `line`; an unknown action is shown as it is.
 *
 * @example
 * ```ts
 * describeActivity({ at: 0, action: "mcp.tool_called", tool: "add", outcome: "success" });
 * // "Called add — allowed"
 * ```
 */
export function describeActivity(line: ActivityLine): string {
  return SENTENCES[line.action]?.(line) ?? line.action;
}

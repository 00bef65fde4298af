/**
 * Loopback host names, as RFC 8252 §7.3 and the MCP authorization spec treat them: `localhost` and
 * the loopback IP literals. Used by the configuration (plain http is allowed only there) and by the
 * redirect URI rules.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
 * @module
 */

/** Whether `host` (as `URL.hostname` gives it) is a loopback host. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Which error format a path answers in: JSON-RPC on the MCP transports, RFC 6749 JSON on the OAuth and
 * other API endpoints, an HTML page where a person's browser is the caller. `app.onError` and
 * `app.notFound` in `app/app.ts` use it so every refusal of a route reads like the route's own
 * errors.
 *
 * @module
 */

/** How an error is answered. */
export type ErrorFormat = "oauth" | "jsonrpc" | "page";

const JSONRPC_PATHS = ["/mcp", "/sse", "/messages"];
const API_PATHS = ["/register", "/token", "/revoke", "/healthz"];
const API_PREFIXES = ["/.well-known/", "/user_management/", "/sso/", "/audit_logs/", "/_emulator/"];
const PAGE_PATHS = ["/", "/authorize", "/callback", "/callback/organization", "/account"];
const PAGE_PREFIXES = ["/account/"];

/**
 * The format for `path`; an unknown path answers a page only to a caller that asks for HTML.
 *
 * @example
 * ```ts
 * errorFormatFor("/token", null); // "oauth"
 * errorFormatFor("/nope", "text/html"); // "page"
 * ```
 */
export function errorFormatFor(path: string, accept: string | null | undefined): ErrorFormat {
  const p = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  if (JSONRPC_PATHS.includes(p)) return "jsonrpc";
  if (API_PATHS.includes(p) || API_PREFIXES.some((x) => p.startsWith(x))) return "oauth";
  if (PAGE_PATHS.includes(p) || PAGE_PREFIXES.some((x) => p.startsWith(x))) return "page";
  return (accept ?? "").includes("text/html") ? "page" : "oauth";
}

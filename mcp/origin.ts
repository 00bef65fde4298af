/**
 * Origin validation in front of every MCP route (DNS-rebinding protection). A request without `Origin`
 * (a non-browser client) passes; one whose `Origin` is not allowed gets 403 with a JSON-RPC error body
 * without `id`. There is deliberately no `Host` allow-list: behind a proxy or on Deno Deploy the
 * `Host` a server sees need not be PUBLIC_URL's, and the bearer check already authenticates every request.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports §Security Warning
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import type { Config } from "../lib/config.ts";
import { ERROR_CODES, jsonRpcError } from "./jsonrpc.ts";

/** Options of {@linkcode checkOrigin}. */
export interface CheckOriginOptions {
  /** Allowed origins, e.g. `["https://mcp.example.com"]`; compared case-insensitively. */
  allowed: readonly string[];
}

/**
 * Refuses requests whose `Origin` header is present and not in `allowed`.
 *
 * @throws {TypeError} when `allowed` is empty or holds something that is not an origin.
 * @example
 * ```ts
 * app.use("/mcp", checkOrigin({ allowed: [config.publicUrl, ...config.mcp.allowedOrigins] }));
 * ```
 */
export function checkOrigin(options: CheckOriginOptions): MiddlewareHandler {
  if (options.allowed.length === 0) {
    throw new TypeError('"allowed" option must name at least one origin');
  }
  const allowed = originSet(options.allowed);
  // Not async: a passing request continues with `next()` itself (one async frame less).
  return function originCheck(c, next) {
    const header = c.req.header("origin");
    if (header !== undefined) {
      const origin = parseOrigin(header);
      if (!origin || !allowed.has(origin)) {
        const res = jsonRpcError(403, ERROR_CODES.badRequest, "Forbidden: Origin not allowed");
        throw new HTTPException(403, { res });
      }
    }
    return next();
  };
}

/** Request headers a browser-based MCP client sends (all but `Authorization` are MCP's own). */
export const MCP_REQUEST_HEADERS = [
  "Authorization",
  "Content-Type",
  "Accept",
  "Mcp-Session-Id",
  "MCP-Protocol-Version",
  "Mcp-Method",
  "Mcp-Name",
  "Last-Event-ID",
] as const;
/** Response headers a browser-based MCP client must be able to read. */
export const MCP_EXPOSED_HEADERS = ["Mcp-Session-Id", "WWW-Authenticate"] as const;

/**
 * CORS for the MCP endpoints, for browser-based clients on the allowed origins only: a preflight is
 * answered (204) before any token is asked for; every response to an allowed origin carries
 * `Access-Control-Allow-Origin` and exposes `Mcp-Session-Id` and `WWW-Authenticate` (so a 401 can start
 * discovery). No credentials: clients send bearer tokens, never cookies. Mount it after
 * {@linkcode checkOrigin}, which refuses other origins outright.
 *
 * @throws {TypeError} when `allowed` is empty or holds something that is not an origin.
 * @see https://fetch.spec.whatwg.org/#http-cors-protocol
 * @example
 * ```ts
 * app.use("/mcp", checkOrigin({ allowed }), mcpCors({ allowed, methods: ["GET", "POST", "DELETE"] }));
 * ```
 */
export function mcpCors(
  options: CheckOriginOptions & { methods: readonly string[] },
): MiddlewareHandler {
  if (options.allowed.length === 0) {
    throw new TypeError('"allowed" option must name at least one origin');
  }
  const allowed = originSet(options.allowed);
  const forBrowsers = cors({
    origin: (origin) => {
      const parsed = parseOrigin(origin);
      return parsed && allowed.has(parsed) ? origin : null;
    },
    allowMethods: [...options.methods, "OPTIONS"],
    allowHeaders: [...MCP_REQUEST_HEADERS],
    exposeHeaders: [...MCP_EXPOSED_HEADERS],
    maxAge: 600,
  });
  // A request without Origin is not a CORS request (a browser sends Origin on every cross-origin
  // request and preflight): its response is left as the route built it, with no CORS headers and no
  // `Vary: Origin`. The Vary would protect a cache that could hand that response to a browser's CORS
  // request; none can: every MCP request carries Authorization, which shared caches do not store
  // responses for (RFC 9111 §3.5), and a browser sends no-Origin requests here only from pages of
  // this origin, none of which call MCP. Both headers cost: Hono's `cors` sets its headers on a
  // placeholder response and copies them over, and any header added to a built response takes it off
  // Deno's native response path (a fifth of a tool call's throughput, measured with bench/load.ts).
  return function corsForOrigin(c, next) {
    return c.req.raw.headers.has("origin") ? forBrowsers(c, next) : next();
  };
}

function originSet(values: readonly string[]): Set<string> {
  return new Set(values.map((value) => {
    const origin = parseOrigin(value);
    if (!origin) throw new TypeError(`"allowed" option holds "${value}", which is not an origin`);
    return origin;
  }));
}

/** The serialized origin of `value` (lowercase scheme and host, default port dropped), or null. */
function parseOrigin(value: string): string | null {
  if (value === "null") return null;
  try {
    const url = new URL(value);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    return url.origin;
  } catch {
    return null;
  }
}

/** The origins MCP routes accept: PUBLIC_URL's plus ALLOWED_ORIGINS. */
export function allowedOrigins(config: Pick<Config, "publicUrl" | "mcp">): string[] {
  return [config.publicUrl, ...config.mcp.allowedOrigins];
}

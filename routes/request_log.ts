/**
 * One structured log line per request: method, route (the pattern, never the raw path or query, which
 * may carry an email or a session id), status, duration, and keyed pseudonyms of the user and the MCP
 * session, so one user's or one session's requests can be followed across instances without logging
 * who they are. Tokens, cookies and bodies are never logged.
 *
 * Written here rather than with Hono's `logger()`, which prints free text with the raw path.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { pseudonymSync } from "../auth/crypto.ts";
import type { Identity } from "../auth/identity.ts";
import { logLater } from "../lib/log.ts";

/** Options of {@linkcode requestLog}. */
export interface RequestLogOptions {
  /** HMAC key bytes of the pseudonyms (`deriveLogKeyBytes(COOKIE_ENCRYPTION_KEY)`). */
  key: Uint8Array;
  /** This instance's id, so lines from several instances can be told apart. */
  instance: string;
}

/** How many pseudonyms are remembered (then the memory starts over). */
const MAX_REMEMBERED = 10_000;

/** The middleware; mount it first. */
export function requestLog(options: RequestLogOptions): MiddlewareHandler {
  // An HMAC through `node:crypto` still costs ~6 µs in Deno (a hash object and a buffer pool per
  // call), and a client sends the same user and session ids request after request: each is computed once.
  const remembered = new Map<string, string>();
  const pseudonym = (value: string): string => {
    let known = remembered.get(value);
    if (known === undefined) {
      if (remembered.size >= MAX_REMEMBERED) remembered.clear();
      known = pseudonymSync(options.key, value);
      remembered.set(value, known);
    }
    return known;
  };
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = matchedRoutes(c)[c.req.routeIndex]?.path ?? "(none)";
      const identity = c.get("identity" as never) as Identity | undefined;
      const session = c.req.header("mcp-session-id") ?? c.req.query("sessionId") ??
        c.res.headers.get("mcp-session-id") ?? undefined;
      const fields: Record<string, unknown> = {
        method: c.req.method,
        route: route === "*" || route === "/*" ? "(unmatched)" : route,
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        instance: options.instance,
      };
      // The line is written with the next batch.
      if (identity?.userId) fields.user = pseudonym(identity.userId);
      if (session) fields.session = pseudonym(session);
      logLater("request", fields);
    }
  };
}

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

/** How many pseudonyms {@linkcode Pseudonyms} remembers (then its memory starts over). */
export const MAX_REMEMBERED = 10_000;
/** What a user id (`user_…`) or a session id we issued looks like; other values are not remembered. */
const REMEMBERED_SHAPE = /^[A-Za-z0-9_-]{1,64}$/;
/** The most of an unremembered value that is hashed. */
const MAX_HASHED = 256;

/**
 * Keyed pseudonyms of ids, each computed once. An HMAC through `node:crypto` costs ~6 µs in Deno (a
 * hash object and a buffer pool per call), and a client sends the same user and session ids request
 * after request. Only values of the shape we issue are remembered: a session id arrives from the
 * client before any check, and remembering whatever it sends would let anyone fill memory with huge
 * headers; other values are hashed each time (their first {@linkcode MAX_HASHED} characters).
 */
export class Pseudonyms {
  #key: Uint8Array;
  #remembered = new Map<string, string>();

  /** @param key HMAC key bytes (`deriveLogKeyBytes(COOKIE_ENCRYPTION_KEY)`) */
  constructor(key: Uint8Array) {
    this.#key = key;
  }

  /** How many pseudonyms are remembered now. */
  get size(): number {
    return this.#remembered.size;
  }

  /** The pseudonym of `value`. */
  of(value: string): string {
    if (!REMEMBERED_SHAPE.test(value)) return pseudonymSync(this.#key, value.slice(0, MAX_HASHED));
    let known = this.#remembered.get(value);
    if (known === undefined) {
      if (this.#remembered.size >= MAX_REMEMBERED) this.#remembered.clear();
      known = pseudonymSync(this.#key, value);
      this.#remembered.set(value, known);
    }
    return known;
  }
}

/** The middleware; mount it first. */
export function requestLog(options: RequestLogOptions): MiddlewareHandler {
  const pseudonyms = new Pseudonyms(options.key);
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
      if (identity?.userId) fields.user = pseudonyms.of(identity.userId);
      if (session) fields.session = pseudonyms.of(session);
      logLater("request", fields);
    }
  };
}

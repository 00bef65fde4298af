/**
 * Per-address limits on the two things an anonymous caller can do that store something: registering
 * a client (`POST /register`) and starting an authorization (`GET /authorize`, which stores the request
 * while the user consents and signs in, and `GET /account` without a browser session, which starts a
 * sign-in to the account page). Counted in KV (`lib/rate_limit.ts`), so the budget holds across
 * instances; past it, 429 with `Retry-After` in the route's error format.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { WEB_SESSION_COOKIE } from "../auth/web_sessions.ts";
import type { Config } from "../lib/config.ts";
import { consumeRate, type RateLimit } from "../lib/rate_limit.ts";
import { clientAddress } from "./client_address.ts";

const HOUR_MS = 60 * 60 * 1000;

/**
 * The only paths {@linkcode rateLimitAnonymous} counts: mount it on these alone, so no other request
 * (an MCP call) passes through it.
 */
export const RATE_LIMITED_PATHS = ["/register", "/authorize", "/account"] as const;

/** Options of {@linkcode rateLimitAnonymous}. */
export interface RateLimitOptions {
  kv: Deno.Kv;
  limits: Config["limits"];
  now?: () => number;
}

/** Middleware counting `POST /register` and `GET /authorize` per caller address. */
export function rateLimitAnonymous(options: RateLimitOptions): MiddlewareHandler {
  const register: RateLimit = {
    action: "register",
    max: options.limits.registerPerHour,
    windowMs: HOUR_MS,
  };
  const authorize: RateLimit = {
    action: "authorize",
    max: options.limits.authorizePerHour,
    windowMs: HOUR_MS,
  };
  const now = options.now ?? Date.now;
  // Not async: the requests it does not count pass with `next()` itself (one async frame less).
  return function rateLimit(c, next) {
    const limit = c.req.method === "POST" && c.req.path === "/register"
      ? register
      // HEAD runs the GET handler (and stores the same pending sign-in): it counts like GET.
      : (c.req.method === "GET" || c.req.method === "HEAD") &&
          (c.req.path === "/authorize" ||
            c.req.path === "/account" && getCookie(c, WEB_SESSION_COOKIE) === undefined)
      ? authorize
      : null;
    if (!limit) return next();
    return consumeRate(
      options.kv,
      limit,
      clientAddress(c, options.limits.trustedProxyHeader),
      now(),
    ).then(next);
  };
}

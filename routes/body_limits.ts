/**
 * Request body limits, per route, enforced while the body streams in (Hono's `bodyLimit`: a declared
 * `Content-Length` over the limit is refused before reading; a chunked body is counted as it arrives
 * and refused the moment it passes the limit), so no caller can make us hold more than the limit.
 * The refusal is a {@linkcode RequestError} `body_too_large` (413), which `app.onError` answers in the
 * route's own error format.
 *
 * Sizes and why:
 * - MCP (`/mcp`, `/messages`): 4 MiB, the MCP SDK's own default and what tool arguments (images as
 *   base64) need;
 * - OAuth (`/token`, `/revoke`, `/register`) and the browser forms: 16 KiB; a token request is well
 *   under 2 KiB and registration metadata is capped at 8 KiB (`auth/client_limits.ts`);
 * - everything else: 64 KiB (the emulator's API, which our own server calls).
 *
 * @see https://hono.dev/docs/middleware/builtin/body-limit
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-15.5.14 (413 Content Too Large)
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { RequestError } from "../lib/errors.ts";
import { MAX_BODY_BYTES } from "../mcp/jsonrpc.ts";

/** Limit of OAuth requests and browser forms. */
export const SMALL_BODY_BYTES = 16 * 1024;
/** Limit of any other route. */
export const DEFAULT_BODY_BYTES = 64 * 1024;
/** Limit of MCP messages. */
export const MCP_BODY_BYTES = MAX_BODY_BYTES;

const MCP_PATHS = ["/mcp", "/messages"];
const SMALL_PATHS = [
  "/register",
  "/token",
  "/revoke",
  "/authorize",
  "/callback/organization",
  "/account/revoke",
  "/account/signout",
];

/** The body limit of `path`. */
export function bodyLimitFor(path: string): number {
  if (MCP_PATHS.includes(path)) return MCP_BODY_BYTES;
  if (SMALL_PATHS.includes(path)) return SMALL_BODY_BYTES;
  return DEFAULT_BODY_BYTES;
}

/**
 * Middleware refusing bodies over {@linkcode bodyLimitFor} the request's path with a 413
 * {@linkcode RequestError}.
 */
export function limitBodies(): MiddlewareHandler {
  const limiters = new Map<number, MiddlewareHandler>();
  for (const size of [MCP_BODY_BYTES, SMALL_BODY_BYTES, DEFAULT_BODY_BYTES]) {
    limiters.set(
      size,
      bodyLimit({
        maxSize: size,
        onError: () => {
          throw new RequestError(
            "body_too_large",
            `Request body is too large (limit ${size} bytes)`,
          );
        },
      }),
    );
  }
  // Not async: a body within its limit passes with `next()` itself (one async frame less).
  return function limitBody(c, next) {
    const raw = c.req.raw;
    if (raw.method === "GET" || raw.method === "HEAD") return next();
    const limit = bodyLimitFor(c.req.path);
    // A declared length is checked without touching `raw.body`: reading that getter makes Deno build
    // a ReadableStream, and the body is then read through it instead of in one piece (Hono's
    // `bodyLimit` makes the same check, after asking for the stream).
    const declared = raw.headers.get("content-length");
    const chunked = raw.headers.has("transfer-encoding");
    if (declared !== null && !chunked && Number.parseInt(declared, 10) <= limit) return next();
    if (declared === null && !chunked && raw.body === null) return next();
    return limiters.get(limit)!(c, next);
  };
}

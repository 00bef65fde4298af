/**
 * Per-caller rate limits kept in KV, so every instance counts against the same budget: a fixed window
 * per (action, caller), counted with a versionstamp check so concurrent requests on several instances
 * never lose a count. Past the limit, a {@linkcode RequestError} `rate_limited` (429) with
 * `Retry-After` until the window ends.
 *
 * Written here because Hono has no KV-backed limiter and the common ones keep counts in memory (one
 * instance's view only). Callers are keyed by the SHA-256 of their address, never the address itself.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6585#section-4 (429 Too Many Requests)
 * @module
 */
import { RequestError } from "./errors.ts";
import { keys } from "./kv_keys.ts";

/** One limit: at most `max` requests per `windowMs` per caller. */
export interface RateLimit {
  /** A short name of the action, part of the KV key (e.g. `register`). */
  action: string;
  max: number;
  windowMs: number;
}

interface Window {
  count: number;
  /** When the window ends (ms since the epoch); KV's `expireIn` is lazy, so it is checked here. */
  resetAt: number;
}

const ATTEMPTS = 5;

/**
 * Counts one request of `caller` against `limit`.
 * @throws {RequestError} `rate_limited` with `Retry-After` when the caller is over the limit.
 */
export async function consumeRate(
  kv: Deno.Kv,
  limit: RateLimit,
  caller: string,
  now: number = Date.now(),
): Promise<void> {
  if (limit.max <= 0) return; // 0 turns the limit off
  const windowStart = now - (now % limit.windowMs);
  const resetAt = windowStart + limit.windowMs;
  const key = keys.rateWindow(limit.action, await hash(caller), windowStart);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const entry = await kv.get<Window>(key);
    const count = entry.value?.count ?? 0;
    if (count >= limit.max) {
      const seconds = Math.max(1, Math.ceil((resetAt - now) / 1000));
      throw new RequestError(
        "rate_limited",
        `Too many ${limit.action} requests from this address; retry in ${seconds} s`,
        { headers: { "retry-after": String(seconds) } },
      );
    }
    const res = await kv.atomic().check(entry).set(key, { count: count + 1, resetAt }, {
      expireIn: resetAt - now + 1000,
    }).commit();
    if (res.ok) return;
  }
  // Heavy contention on one caller's counter: that caller is sending a burst, so refuse this one.
  throw new RequestError("rate_limited", `Too many ${limit.action} requests at once; retry`, {
    headers: { "retry-after": "1" },
  });
}

async function hash(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return new Uint8Array(digest).toHex().slice(0, 32);
}

/**
 * The caller's network address, for per-address limits. By default the connection's peer address
 * (`Deno.serve` passes it to Hono as `c.env.remoteAddr`, which `getConnInfo` from `hono/deno` reads).
 * Behind a reverse proxy every connection comes from the proxy, so TRUSTED_PROXY_HEADER names the
 * header that proxy sets (`x-forwarded-for`, `cf-connecting-ip`, `fly-client-ip`); its rightmost value
 * is used, the one the proxy itself appended. The header is never trusted unless configured, since any
 * caller can send it.
 *
 * IPv6 addresses are grouped by their /64 prefix (one host usually holds a whole /64).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7239#section-5.2 (forwarded-for, appended by each proxy)
 * @module
 */
import type { Context } from "hono";

/** The address `c`'s request came from, or `unknown` (an in-process request without a connection). */
export function clientAddress(c: Context, trustedHeader: string | undefined): string {
  if (trustedHeader) {
    const value = c.req.header(trustedHeader);
    const last = value?.split(",").map((s) => s.trim()).filter(Boolean).at(-1);
    if (last) return group(last);
  }
  const remote = (c.env as { remoteAddr?: { hostname?: string } } | undefined)?.remoteAddr;
  return remote?.hostname ? group(remote.hostname) : "unknown";
}

function group(address: string): string {
  const bare = address.replace(/^\[|\]$/g, "").toLowerCase();
  if (!bare.includes(":")) return bare;
  if (bare.includes(".")) return bare.slice(bare.lastIndexOf(":") + 1); // IPv4-mapped
  const [head = "", tail] = bare.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const full = tail === undefined
    ? h
    : [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill("0"), ...t];
  return `${full.slice(0, 4).map((x) => (parseInt(x, 16) || 0).toString(16)).join(":")}::/64`;
}

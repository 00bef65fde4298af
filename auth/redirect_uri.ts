/**
 * Which redirect URIs a client may register: https; http only on a loopback host (any port, RFC 8252
 * §7.3); or a private-use scheme for native apps (RFC 8252 §7.1, e.g. `cursor://`). Never a fragment,
 * never a scheme that runs code or inlines content.
 *
 * @module
 */
import { isLoopbackHost } from "../lib/loopback.ts";

const FORBIDDEN_SCHEMES = new Set([
  "javascript:",
  "data:",
  "vbscript:",
  "file:",
  "blob:",
  "about:",
  "filesystem:",
  "ws:",
  "wss:",
  "ftp:",
]);
const SCHEME = /^[a-z][a-z0-9+.-]*:$/;

export { isLoopbackHost };

/**
 * Why `uri` may not be registered as a redirect URI, or null when it may.
 *
 * @example
 * ```ts
 * redirectUriProblem("http://evil.example/cb"); // "http is allowed only on a loopback host"
 * ```
 */
export function redirectUriProblem(uri: string): string | null {
  if (uri.length > 2000) return "too long";
  if (uri.includes("#")) return "must not contain a fragment";
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "not an absolute URI";
  }
  const scheme = url.protocol.toLowerCase();
  if (FORBIDDEN_SCHEMES.has(scheme)) return `the ${scheme} scheme is not allowed`;
  if (scheme === "https:") return url.hostname ? null : "https URI without a host";
  if (scheme === "http:") {
    return isLoopbackHost(url.hostname) ? null : "http is allowed only on a loopback host";
  }
  if (!SCHEME.test(scheme)) return "invalid scheme";
  return null;
}

/** A loopback http redirect URI split around its port: `http://<host>` and the rest, both verbatim. */
const LOOPBACK_REDIRECT =
  /^(http:\/\/(?:localhost|127(?:\.\d{1,3}){3}|\[::1\]))(?::\d{1,5})?([/?].*)?$/;

/**
 * `uri` without its port when it is a loopback `http` redirect URI (`http://127.0.0.1:5000/cb` →
 * `http://127.0.0.1/cb`), or null when it is not one. Everything else is kept verbatim.
 */
export function loopbackWithoutPort(uri: string): string | null {
  if (uri.includes("#")) return null;
  const parts = LOOPBACK_REDIRECT.exec(uri);
  return parts ? `${parts[1]}${parts[2] ?? ""}` : null;
}

/**
 * Whether `presented` (the `redirect_uri` of an authorization request) matches one of `registered`:
 * exactly, character for character; except that for a loopback `http` redirect URI the port may differ
 * from the registered one, and a registered loopback URI without a port matches any port. Scheme, host,
 * path and query still match exactly, and non-loopback URIs never match on another port.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3 (loopback: "MUST allow any port")
 * @example
 * ```ts
 * redirectUriMatches(["http://127.0.0.1/callback"], "http://127.0.0.1:53123/callback"); // true
 * redirectUriMatches(["https://app.example/cb"], "https://app.example:8443/cb"); // false
 * ```
 */
export function redirectUriMatches(registered: readonly string[], presented: string): boolean {
  if (registered.includes(presented)) return true;
  const asked = loopbackWithoutPort(presented);
  return asked !== null && registered.some((uri) => loopbackWithoutPort(uri) === asked);
}

/**
 * Random identifiers in WorkOS's shapes (`user_…`, `session_…`, `key_…`) and opaque secrets.
 *
 * @module
 */

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A random id like WorkOS's: `prefix` + 26 Crockford base32 characters, e.g. `session_01H…`. */
export function randomId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(26));
  return prefix + Array.from(bytes, (b) => CROCKFORD[b % 32]).join("");
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** An opaque, URL-safe secret of `bytes` random bytes (authorization codes, refresh tokens). */
export function randomSecret(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** `base64url(SHA-256(text))`, the PKCE S256 transform (RFC 7636 §4.2). */
export async function s256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return base64url(new Uint8Array(digest));
}

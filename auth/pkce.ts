/**
 * PKCE (RFC 7636), S256 only: OAuth 2.1 and MCP forbid `plain`.
 *
 * @module
 */
import { randomToken, sha256, timingSafeEqual } from "./crypto.ts";

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Whether `challenge` has the shape of an S256 challenge (base64url of 32 bytes). */
export function isS256Challenge(challenge: string): boolean {
  return CHALLENGE.test(challenge);
}

/** The S256 challenge of `verifier`. */
export async function s256(verifier: string): Promise<string> {
  return await sha256(verifier);
}

/**
 * Whether `verifier` (RFC 7636 §4.1 syntax) matches `challenge`.
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.6
 */
export async function verifyPkce(verifier: string, challenge: string): Promise<boolean> {
  if (!VERIFIER.test(verifier)) return false;
  return timingSafeEqual(await s256(verifier), challenge);
}

/** A fresh verifier and its S256 challenge, for our own request to AuthKit. */
export async function createPkcePair(): Promise<{ verifier: string; challenge: string }> {
  const verifier = randomToken(32);
  return { verifier, challenge: await s256(verifier) };
}

/**
 * Base64 helpers for image bytes (std's `encodeBase64`/`decodeBase64` names; JSR is unreachable here).
 *
 * @module
 */

const CHUNK = 0x8000;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Encodes `bytes` as standard, padded base64. */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/**
 * Decodes standard base64 (whitespace ignored).
 *
 * @throws {SyntaxError} When `text` is not valid base64.
 */
export function decodeBase64(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  if (!BASE64_RE.test(clean)) throw new SyntaxError("Cannot decode base64: invalid input");
  const binary = atob(clean);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

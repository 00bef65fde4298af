/**
 * base64url without padding (RFC 4648 §5), via jose's codec so we do not hand-roll one.
 *
 * @module
 */
import { base64url } from "jose";

/** Encodes bytes as base64url without padding. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return base64url.encode(bytes);
}

/** Decodes base64url (padding optional); throws on invalid input. */
export function decodeBase64Url(value: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(base64url.decode(value));
}

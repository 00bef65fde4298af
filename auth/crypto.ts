/**
 * Small crypto helpers on WebCrypto: random tokens, SHA-256 hashes for storing secrets, and keys derived
 * from COOKIE_ENCRYPTION_KEY (HKDF) for cookie signing and for encryption at rest (AES-GCM).
 *
 * Written here rather than taken from a library because each is a few lines over WebCrypto; jose's JWE
 * would do the encryption too, but adds a JSON envelope we do not need.
 *
 * @module
 */
import { createHash, createHmac, hkdfSync } from "node:crypto";

/** The runtime's base64 codec options for base64url without padding (RFC 4648 §5). */
const BASE64URL = { alphabet: "base64url", omitPadding: true } as const;

/** A random token of `bytes` bytes (default 32: 256 bits), base64url without padding. */
export function randomToken(bytes = 32): string {
  return crypto.getRandomValues(new Uint8Array(bytes)).toBase64(BASE64URL);
}

/**
 * SHA-256 of `value`, base64url: how secrets are keyed and stored in KV. Computed with `node:crypto`
 * on the calling thread (~2 µs): WebCrypto's `digest` hands the work to another thread and back, which
 * costs 30–80 µs on every bearer check. Async for its callers' sake; see {@linkcode sha256Sync}.
 */
export function sha256(value: string): Promise<string> {
  return Promise.resolve(sha256Sync(value));
}

/** {@linkcode sha256}, synchronously. */
export function sha256Sync(value: string): string {
  return createHash("sha256").update(value).digest("base64url");
}

/** Compares two strings in time independent of where they differ. */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Keys derived from the one configured secret, each for one purpose. */
export interface DerivedKeys {
  /** HMAC secret for signed cookies (hex). */
  readonly cookieSecret: string;
  /** AES-GCM key for secrets stored in KV. */
  readonly encryptionKey: CryptoKey;
  /** HMAC key for pseudonyms in logs (user and session ids), the same on every instance. */
  readonly logKey: CryptoKey;
  /**
   * Cookie secrets to verify with: the current one first, then those of COOKIE_ENCRYPTION_KEY_PREVIOUS.
   * New cookies are always signed with the current one.
   */
  readonly cookieSecrets: readonly string[];
  /** Seals with the current key; opens with the current or a previous one. */
  readonly sealer: Sealer;
}

/** A sealed value that none of our keys opens: the key changed, or the value was tampered with. */
export class SealedValueError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "SealedValueError";
  }
}

/**
 * Encryption at rest with key rotation: seals with the first key, opens with any of them (AES-GCM
 * authenticates, so a wrong key fails cleanly rather than yielding garbage).
 */
export class Sealer {
  #keys: readonly CryptoKey[];
  constructor(keys: readonly CryptoKey[]) {
    if (keys.length === 0) throw new TypeError("Cannot create a Sealer without a key");
    this.#keys = keys;
  }

  /** Encrypts `plaintext` with the current key; `aad` binds it to its record. */
  seal(plaintext: string, aad: string): Promise<string> {
    return encrypt(this.#keys[0]!, plaintext, aad);
  }

  /** Decrypts with the current key, else a previous one. @throws {SealedValueError} when none opens it. */
  async open(sealed: string, aad: string): Promise<string> {
    for (const key of this.#keys) {
      try {
        return await decrypt(key, sealed, aad);
      } catch {
        // Try the next key.
      }
    }
    throw new SealedValueError(
      "Cannot open a sealed value with COOKIE_ENCRYPTION_KEY or COOKIE_ENCRYPTION_KEY_PREVIOUS",
    );
  }
}

/**
 * Derives independent keys for cookies and for encryption at rest from `secret` (HKDF-SHA-256 with
 * distinct `info` labels), so a leak of one does not expose the other. `previous` are earlier secrets
 * still accepted for opening sealed values and verifying cookies (key rotation).
 */
export async function deriveKeys(
  secret: string,
  previous: readonly string[] = [],
): Promise<DerivedKeys> {
  const current = await deriveOne(secret);
  const older = await Promise.all(previous.map(deriveOne));
  return {
    ...current,
    cookieSecrets: [current.cookieSecret, ...older.map((k) => k.cookieSecret)],
    sealer: new Sealer([current.encryptionKey, ...older.map((k) => k.encryptionKey)]),
  };
}

async function deriveOne(
  secret: string,
): Promise<{ cookieSecret: string; encryptionKey: CryptoKey; logKey: CryptoKey }> {
  const base = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    "HKDF",
    false,
    ["deriveBits", "deriveKey"],
  );
  const params = (info: string): HkdfParams => ({
    name: "HKDF",
    hash: "SHA-256",
    salt: new TextEncoder().encode("mcp-authkit"),
    info: new TextEncoder().encode(info),
  });
  const cookieBits = await crypto.subtle.deriveBits(params("cookie-signing-v1"), base, 256);
  const encryptionKey = await crypto.subtle.deriveKey(
    params("kv-encryption-v1"),
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  const logKey = await crypto.subtle.deriveKey(
    params("log-pseudonym-v1"),
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign"],
  );
  const cookieSecret = new Uint8Array(cookieBits).toHex();
  return { cookieSecret, encryptionKey, logKey };
}

/** A short keyed pseudonym of `value` for logs: HMAC-SHA-256, base64url, first 12 characters. */
export async function pseudonym(key: CryptoKey, value: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(value));
  return new Uint8Array(mac).toBase64(BASE64URL).slice(0, 12);
}

/**
 * The bytes of the pseudonym key {@linkcode deriveKeys} derives as `logKey` (HKDF-SHA-256, the same
 * salt and `log-pseudonym-v1` label), for {@linkcode pseudonymSync}: same secret, same pseudonyms.
 */
export function deriveLogKeyBytes(secret: string): Uint8Array {
  return new Uint8Array(
    hkdfSync("sha256", new TextEncoder().encode(secret), "mcp-authkit", "log-pseudonym-v1", 32),
  );
}

/**
 * {@linkcode pseudonym} on the calling thread with `node:crypto` (~3 µs, against ~150 µs for a
 * WebCrypto `sign` and its thread hand-off): what the request log computes for every request.
 */
export function pseudonymSync(key: Uint8Array, value: string): string {
  return createHmac("sha256", key).update(value).digest("base64url").slice(0, 12);
}

/** Encrypts `plaintext` (AES-GCM, random 96-bit IV); `aad` binds it to its record. */
export async function encrypt(key: CryptoKey, plaintext: string, aad: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(aad) },
    key,
    new TextEncoder().encode(plaintext),
  );
  return `v1.${iv.toBase64(BASE64URL)}.${new Uint8Array(sealed).toBase64(BASE64URL)}`;
}

/** Decrypts what {@linkcode encrypt} produced with the same `aad`; throws if it was tampered with. */
export async function decrypt(key: CryptoKey, sealed: string, aad: string): Promise<string> {
  const [version, iv, data] = sealed.split(".");
  if (version !== "v1" || !iv || !data) throw new TypeError("Cannot decrypt value: unknown format");
  const plain = await crypto.subtle.decrypt(
    {
      name: "AES-GCM",
      iv: Uint8Array.fromBase64(iv, BASE64URL),
      additionalData: new TextEncoder().encode(aad),
    },
    key,
    Uint8Array.fromBase64(data, BASE64URL),
  );
  return new TextDecoder().decode(plain);
}

/**
 * The emulator's RS256 signing keys and its AuthKit access tokens.
 *
 * Rotation adds a new current key and keeps every earlier public key in the JWKS, so tokens
 * signed before a rotation still verify.
 *
 * @module
 */
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { randomId } from "./ids.ts";
import type { Grant } from "./users.ts";

/** Lifetime of an access token, in seconds (WorkOS's default: 5 minutes). */
export const ACCESS_TOKEN_TTL_SECONDS = 300;

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** The claims of an access token beyond the registered ones. */
export interface AccessTokenSubject {
  issuer: string;
  userId: string;
  sessionId: string;
  grant: Grant;
}

async function createKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const kid = randomId("key_");
  const { kty, n, e } = await exportJWK(publicKey);
  const publicJwk: JWK = {
    kty: kty ?? "RSA",
    n: n ?? "",
    e: e ?? "",
    kid,
    alg: "RS256",
    use: "sig",
  };
  return { kid, privateKey, publicJwk };
}

/** A growing set of signing keys; the newest signs. Create with {@linkcode KeyRing.create}. */
export class KeyRing {
  #keys: SigningKey[];

  private constructor(first: SigningKey) {
    this.#keys = [first];
  }

  /** A key ring with one fresh key. */
  static async create(): Promise<KeyRing> {
    return new KeyRing(await createKey());
  }

  /** The `kid` of the key that signs new tokens. */
  get currentKid(): string {
    return this.#current().kid;
  }

  /** Adds a new signing key; earlier keys stay listed in {@linkcode KeyRing.jwks}. */
  async rotate(): Promise<void> {
    this.#keys.push(await createKey());
  }

  /** The public keys, newest first, as served at `/sso/jwks/:clientId`. */
  jwks(): { keys: JWK[] } {
    return { keys: this.#keys.map((key) => ({ ...key.publicJwk })).reverse() };
  }

  /**
   * Signs an AuthKit access token: `iss, sub, sid, org_id?, role?, roles?, permissions, exp,
   * iat, jti`, header `{alg: "RS256", typ: "JWT", kid}`.
   */
  async signAccessToken(subject: AccessTokenSubject, nowMs: number): Promise<string> {
    const key = this.#current();
    const iat = Math.floor(nowMs / 1000);
    const { grant } = subject;
    const claims: Record<string, unknown> = { sid: subject.sessionId };
    if (grant.organizationId !== null) {
      claims["org_id"] = grant.organizationId;
      if (grant.role !== undefined) claims["role"] = grant.role;
      if (grant.roles !== undefined) claims["roles"] = grant.roles;
    }
    claims["permissions"] = grant.permissions;
    return await new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: key.kid })
      .setIssuer(subject.issuer)
      .setSubject(subject.userId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ACCESS_TOKEN_TTL_SECONDS)
      .setJti(crypto.randomUUID())
      .sign(key.privateKey);
  }

  #current(): SigningKey {
    const key = this.#keys.at(-1);
    if (!key) throw new Error("Cannot sign: the key ring is empty");
    return key;
  }
}

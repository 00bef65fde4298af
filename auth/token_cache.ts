/**
 * Verified access tokens, remembered in memory for a short, stated bound ({@linkcode TOKEN_CACHE_MS},
 * 2 s), so the bearer check of a client's next requests costs no hash and no KV read. A revocation
 * (RFC 7009 `/revoke`, `/account`, refresh-token reuse, a WorkOS refusal) deletes records in KV; every
 * instance reads KV again once its entry is {@linkcode TOKEN_CACHE_MS} old, so a revoked token stops
 * working everywhere within that bound. On the instance that revoked it ends at once:
 * {@linkcode forgetOnRevoke} has the stores tell the cache.
 *
 * Only successful lookups are remembered: an unknown token is looked up every time. An entry never
 * outlives its token or its grant.
 *
 * @module
 */
import type { Grant, GrantStore } from "./grants.ts";
import type { AccessTokenRecord, TokenStore } from "./tokens.ts";

/** How long a verified token is trusted without reading KV again: the revocation bound. */
export const TOKEN_CACHE_MS = 2000;
/** Most tokens remembered; the oldest is forgotten first. */
export const TOKEN_CACHE_MAX = 10_000;

/** What a successful verification yields. */
export type VerifiedToken = { token: AccessTokenRecord; grant: Grant };

interface Entry {
  verified: VerifiedToken;
  until: number;
}

/** A bounded, time-limited memory of verified tokens in front of {@linkcode TokenStore}. */
export class TokenCache {
  #tokens: Pick<TokenStore, "verifyAccessToken">;
  #now: () => number;
  #ttlMs: number;
  #entries = new Map<string, Entry>();

  /**
   * @param tokens the store that verifies a token against KV
   * @param options `ttlMs` (default {@linkcode TOKEN_CACHE_MS}; 0 turns the cache off) and a clock
   * @throws {RangeError} when `ttlMs` is negative or not finite
   */
  constructor(
    tokens: Pick<TokenStore, "verifyAccessToken">,
    options: { ttlMs?: number; now?: () => number } = {},
  ) {
    const ttlMs = options.ttlMs ?? TOKEN_CACHE_MS;
    if (!Number.isFinite(ttlMs) || ttlMs < 0) {
      throw new RangeError(`"ttlMs" option must be a non-negative number: received ${ttlMs}`);
    }
    this.#tokens = tokens;
    this.#now = options.now ?? Date.now;
    this.#ttlMs = ttlMs;
  }

  /** Tokens remembered now. */
  get size(): number {
    return this.#entries.size;
  }

  /** What is remembered for `token` and still within its bounds, or undefined (synchronous). */
  peek(token: string): VerifiedToken | undefined {
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    const now = this.#now();
    const { verified } = entry;
    if (now < entry.until && now < verified.token.expiresAt && now < verified.grant.expiresAt) {
      return verified;
    }
    this.#entries.delete(token);
    return undefined;
  }

  /** Verifies `token` as {@linkcode TokenStore.verifyAccessToken} does, from memory when recent. */
  async verify(token: string): Promise<VerifiedToken | null> {
    return this.peek(token) ?? await this.load(token);
  }

  /** Reads `token` from the store (a miss of {@linkcode peek}) and remembers it when good. */
  async load(token: string): Promise<VerifiedToken | null> {
    const verified = await this.#tokens.verifyAccessToken(token);
    if (verified && this.#ttlMs > 0) this.remember(token, verified);
    return verified;
  }

  /** Replaces what is remembered for `token` (e.g. its grant after a permissions refresh). */
  remember(token: string, verified: VerifiedToken): void {
    this.#entries.delete(token);
    if (this.#entries.size >= TOKEN_CACHE_MAX) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(token, { verified, until: this.#now() + this.#ttlMs });
  }

  /** Forgets `token`. */
  forget(token: string): void {
    this.#entries.delete(token);
  }

  /** Forgets every token of grant `grantId` (this instance revoked it, or saw it revoked). */
  forgetGrant(grantId: string): void {
    for (const [token, entry] of this.#entries) {
      if (entry.verified.grant.id === grantId) this.#entries.delete(token);
    }
  }
}

/**
 * Has `grants` and `tokens` tell `cache` about every revocation made through them on this instance
 * (grant revocations: `/account`, refresh-token reuse, code replay, a WorkOS refusal; token revocation:
 * `/revoke`), so a revoked token stops working here at once; other instances read KV again within
 * {@linkcode TOKEN_CACHE_MS}. Wraps the two methods in place rather than changing the stores, which
 * know nothing of caching.
 */
export function forgetOnRevoke(
  cache: TokenCache,
  grants: Pick<GrantStore, "onRevoke">,
  tokens: Pick<TokenStore, "onAccessTokenRevoked">,
): void {
  grants.onRevoke((grantId) => cache.forgetGrant(grantId));
  tokens.onAccessTokenRevoked((token) => cache.forget(token));
}

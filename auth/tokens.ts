/**
 * Our access and refresh tokens. Both are opaque random strings, stored only as SHA-256 hashes. An access
 * token has the form `<grantId>.<secret>`, so verifying one reads the token record and its grant in a
 * single KV round trip; the grant id in it is not secret, and the hash covers the whole token.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-10.4 refresh token rotation (OAuth 2.1 §4.3.1)
 * @module
 */
import { OAuthError } from "../lib/errors.ts";
import { keys } from "../lib/kv_keys.ts";
import { randomToken, sha256 } from "./crypto.ts";
import { type Grant, GRANT_TTL_MS, type GrantStore, live } from "./grants.ts";

/** Access tokens live 10 minutes. */
export const ACCESS_TOKEN_TTL_MS = 10 * 60 * 1000;
/** Refresh tokens live 30 days. */
export const REFRESH_TOKEN_TTL_MS = GRANT_TTL_MS;
/** How long a reuse waits for the in-flight exchange it raced with. */
const REUSE_WAIT_MS = 10_000;
/** A used refresh token is remembered this long, so its reuse is detected and revokes the grant. */
const USED_REFRESH_MEMORY_MS = REFRESH_TOKEN_TTL_MS;

/** An access token record. */
export interface AccessTokenRecord {
  grantId: string;
  clientId: string;
  resource: string | null;
  scopes: string[];
  expiresAt: number;
}

/** A refresh token record; `usedAt` is set once it has been exchanged. */
export interface RefreshTokenRecord extends AccessTokenRecord {
  usedAt: number | null;
  /** Set once the exchange that used the token has issued its new pair. */
  completedAt?: number;
}

/** A token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token: string;
  scope?: string;
}

/** Issues, verifies, rotates and revokes tokens. */
export class TokenStore {
  #kv: Deno.Kv;
  #grants: GrantStore;
  #now: () => number;

  constructor(kv: Deno.Kv, grants: GrantStore, now: () => number = Date.now) {
    this.#kv = kv;
    this.#grants = grants;
    this.#now = now;
  }

  /**
   * Issues a token pair for `grant` and extends the grant's life, in one atomic operation that also checks
   * the grant is unchanged (so a grant revoked meanwhile gets no tokens). `op` may carry further checks and
   * mutations (the code or refresh token being consumed).
   */
  async issue(
    grantEntry: Deno.KvEntry<Grant>,
    op: Deno.AtomicOperation = this.#kv.atomic(),
  ): Promise<TokenResponse | null> {
    const grant = grantEntry.value;
    const now = this.#now();
    const access = `${grant.id}.${randomToken()}`;
    const refresh = `${grant.id}.${randomToken()}`;
    const [accessHash, refreshHash] = await Promise.all([sha256(access), sha256(refresh)]);
    const base = {
      grantId: grant.id,
      clientId: grant.clientId,
      resource: grant.resource,
      scopes: grant.scopes,
    };
    const accessRecord: AccessTokenRecord = { ...base, expiresAt: now + ACCESS_TOKEN_TTL_MS };
    const refreshRecord: RefreshTokenRecord = {
      ...base,
      expiresAt: now + REFRESH_TOKEN_TTL_MS,
      usedAt: null,
    };
    const extended: Grant = { ...grant, expiresAt: now + GRANT_TTL_MS, lastUsedAt: now };
    const res = await op
      .check(grantEntry)
      .set(keys.grant(grant.id), extended, { expireIn: GRANT_TTL_MS })
      .set(keys.userGrant(grant.userId, grant.id), grant.clientId, { expireIn: GRANT_TTL_MS })
      .set(keys.accessToken(accessHash), accessRecord, { expireIn: ACCESS_TOKEN_TTL_MS })
      .set(keys.refreshToken(refreshHash), refreshRecord, { expireIn: USED_REFRESH_MEMORY_MS })
      .set(keys.grantToken(grant.id, "access", accessHash), "access", {
        expireIn: ACCESS_TOKEN_TTL_MS,
      })
      .set(keys.grantToken(grant.id, "refresh", refreshHash), "refresh", {
        expireIn: USED_REFRESH_MEMORY_MS,
      })
      .commit();
    if (!res.ok) return null;
    return {
      access_token: access,
      token_type: "Bearer",
      expires_in: ACCESS_TOKEN_TTL_MS / 1000,
      refresh_token: refresh,
      ...(grant.scopes.length > 0 ? { scope: grant.scopes.join(" ") } : {}),
    };
  }

  /**
   * Verifies an access token: known, unexpired, and its grant alive. Returns null otherwise (the caller
   * answers 401 `invalid_token`). One KV round trip.
   */
  async verifyAccessToken(
    token: string,
  ): Promise<{ token: AccessTokenRecord; grant: Grant } | null> {
    const grantId = grantIdOf(token);
    if (!grantId) return null;
    const [tokenEntry, grantEntry] = await this.#kv.getMany<[AccessTokenRecord, Grant]>([
      keys.accessToken(await sha256(token)),
      keys.grant(grantId),
    ]);
    const now = this.#now();
    const record = tokenEntry.value;
    const grant = live(grantEntry.value, now);
    if (!record || !grant || record.expiresAt <= now || record.grantId !== grant.id) return null;
    return { token: record, grant };
  }

  /**
   * Exchanges a refresh token for a new pair (rotation). A token already used revokes the whole grant
   * (OAuth 2.1 §4.3.1: reuse means it was stolen or raced). `beforeIssue` runs once the token is known
   * good, e.g. to refresh the grant's permissions upstream; it throws an {@linkcode OAuthError} to refuse.
   */
  async refresh(
    token: string,
    clientId: string,
    resource: string | null,
    beforeIssue?: (grant: Grant) => Promise<void>,
  ): Promise<TokenResponse> {
    const key = keys.refreshToken(await sha256(token));
    const entry = await this.#kv.get<RefreshTokenRecord>(key);
    const record = entry.value;
    const now = this.#now();
    if (!record || record.expiresAt <= now) {
      throw new OAuthError("invalid_grant", "Cannot refresh: refresh token unknown or expired");
    }
    if (record.clientId !== clientId) {
      throw new OAuthError(
        "invalid_grant",
        "Cannot refresh: refresh token was issued to another client",
      );
    }
    if (record.usedAt !== null) return await this.#reused(key, record.grantId);
    if (resource !== null && record.resource !== null && resource !== record.resource) {
      throw new OAuthError(
        "invalid_target",
        "Cannot refresh: resource differs from the grant's resource",
      );
    }
    const before = await this.#grants.get(record.grantId);
    if (!before) throw new OAuthError("invalid_grant", "Cannot refresh: grant revoked or expired");
    // Claim the token before any upstream work, so exactly one of several concurrent uses proceeds
    // (and asks WorkOS); the others are reuse.
    const claimed = await this.#kv.atomic().check(entry).set(key, { ...record, usedAt: now }, {
      expireIn: Math.max(1, record.expiresAt - now),
    }).commit();
    if (!claimed.ok) return await this.#reused(key, record.grantId);
    if (beforeIssue) {
      try {
        await beforeIssue(before);
      } catch (err) {
        // A temporary failure gives the token back, so the client can retry with it.
        if (err instanceof OAuthError && err.code === "temporarily_unavailable") {
          await this.#kv.set(key, record, { expireIn: Math.max(1, record.expiresAt - now) });
        }
        throw err;
      }
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const grantEntry = await this.#grants.getEntry(record.grantId);
      if (!grantEntry.value || !live(grantEntry.value, this.#now())) break;
      const issued = await this.issue(grantEntry as Deno.KvEntry<Grant>);
      if (!issued) continue;
      await this.#kv.set(key, { ...record, usedAt: now, completedAt: this.#now() }, {
        expireIn: Math.max(1, record.expiresAt - now),
      });
      return issued;
    }
    throw new OAuthError("invalid_grant", "Cannot refresh: grant revoked or changed meanwhile");
  }

  /**
   * A used refresh token was presented again: reuse revokes the grant. If the exchange that used it is
   * still in flight, wait for it first, so that of concurrent uses exactly one gets its tokens.
   */
  async #reused(key: Deno.KvKey, grantId: string): Promise<never> {
    const deadline = Date.now() + REUSE_WAIT_MS;
    while (Date.now() < deadline) {
      const current = (await this.#kv.get<RefreshTokenRecord>(key)).value;
      if (!current || current.completedAt !== undefined) break;
      if (current.usedAt === null) {
        throw new OAuthError(
          "temporarily_unavailable",
          "Cannot refresh: a concurrent refresh is being retried",
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await this.#grants.revoke(grantId);
    throw new OAuthError(
      "invalid_grant",
      "Cannot refresh: refresh token already used; grant revoked",
    );
  }

  /**
   * Revokes `token` if `clientId` owns it (RFC 7009): an access token alone; a refresh token with its
   * whole grant (§2.1: "SHOULD also invalidate all access tokens based on the same authorization grant").
   * Returns what was revoked, for auditing; a token of another client is left untouched.
   */
  async revoke(token: string, clientId: string): Promise<"access" | "refresh" | null> {
    const hash = await sha256(token);
    const [access, refresh] = await this.#kv.getMany<[AccessTokenRecord, RefreshTokenRecord]>([
      keys.accessToken(hash),
      keys.refreshToken(hash),
    ]);
    if (access.value && access.value.clientId === clientId) {
      await this.#kv.atomic()
        .delete(keys.accessToken(hash))
        .delete(keys.grantToken(access.value.grantId, "access", hash))
        .commit();
      return "access";
    }
    if (refresh.value && refresh.value.clientId === clientId) {
      await this.#grants.revoke(refresh.value.grantId);
      return "refresh";
    }
    return null;
  }
}

/** The grant id an access or refresh token names, or null for a malformed token. */
export function grantIdOf(token: string): string | null {
  const dot = token.indexOf(".");
  if (dot <= 0 || token.length > 200) return null;
  const id = token.slice(0, dot);
  return /^grant_[A-Za-z0-9_-]+$/.test(id) ? id : null;
}

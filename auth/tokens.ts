/**
 * Our access and refresh tokens. Both are opaque random strings, stored only as SHA-256 hashes. An access
 * token has the form `<grantId>.<secret>`, so verifying one reads the token record and its grant in a
 * single KV round trip; the grant id in it is not secret, and the hash covers the whole token.
 *
 * Refresh tokens rotate (OAuth 2.1 §4.3.1), with a policy that tolerates races and lost responses and
 * still catches theft:
 *
 * - An exchange first **claims** the refresh token (atomically), then asks WorkOS, then issues the new
 *   pair and marks the token completed in one atomic write that also keeps the pair, sealed, for the
 *   grace window. A claim is only as good as its heartbeat: a process killed mid-exchange stops renewing
 *   it, and after {@linkcode CLAIM_MS} the client's retry takes it over. No claim outlives its process.
 * - A request that arrives while an exchange of the same token is in flight waits for it and gets the
 *   same pair: concurrent refreshes all end with the client holding one working pair.
 * - After the exchange, the old token stays usable **by the same client, within the grace window
 *   (`REFRESH_GRACE_SECONDS`), while neither the new refresh token nor the new access token has been
 *   used**: the answer is the same pair again (a retry after a lost response).
 * - Anything else is reuse: the old token presented after a successor was used, or after the window.
 *   Reuse revokes the grant, as a stolen token must.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-10.4 refresh token rotation
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.3.1
 * @see https://datatracker.ietf.org/doc/html/rfc9700#section-4.14.2 refresh token protection
 * @module
 */
import { OAuthError } from "../lib/errors.ts";
import { keys } from "../lib/kv_keys.ts";
import { randomToken, type Sealer, sha256 } from "./crypto.ts";
import { type Grant, GRANT_TTL_MS, type GrantStore, live } from "./grants.ts";

/** Access tokens live 10 minutes. */
export const ACCESS_TOKEN_TTL_MS = 10 * 60 * 1000;
/** Refresh tokens live 30 days. */
export const REFRESH_TOKEN_TTL_MS = GRANT_TTL_MS;
/** Default grace window of a rotated refresh token (REFRESH_GRACE_SECONDS). */
export const DEFAULT_REFRESH_GRACE_MS = 120_000;
/** How long a claim lives without a heartbeat: a dead exchange blocks a retry at most this long. */
export const CLAIM_MS = 3000;
/** How often a live exchange renews its claim. */
const HEARTBEAT_MS = 1000;
/** How often a request waiting for an exchange in flight looks again. */
const WAIT_POLL_MS = 25;
/**
 * The pair issued for a token is kept at least this long, so requests that raced with the exchange get it
 * even with a grace window of 0.
 */
const MIN_PAIR_KEEP_MS = 30_000;
/** A used refresh token is remembered this long, so its reuse is detected and revokes the grant. */
const USED_REFRESH_MEMORY_MS = REFRESH_TOKEN_TTL_MS;

/** An access token record. */
export interface AccessTokenRecord {
  grantId: string;
  clientId: string;
  resource: string | null;
  scopes: string[];
  expiresAt: number;
  /** When the token was first presented at an MCP route (its predecessor's grace ends there). */
  usedAt?: number;
}

/** A refresh token record; `usedAt` is set once an exchange claimed it. */
export interface RefreshTokenRecord extends Omit<AccessTokenRecord, "usedAt"> {
  usedAt: number | null;
  /** The exchange that holds the claim (changes when a retry takes over a dead claim). */
  claimOwner?: string;
  /** Set once the exchange issued its new pair. */
  completedAt?: number;
  /** Hashes of the pair issued in exchange, to tell whether either has been used. */
  successor?: { access: string; refresh: string };
}

/** A token pair issued in exchange for a refresh token or a code, sealed, kept for the grace window. */
export interface IssuedPair {
  sealed: string;
  issuedAt: number;
  keepUntil: number;
}

/** A token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token: string;
  scope?: string;
}

/** A freshly minted pair and the hashes under which it is stored. */
export interface Minted {
  response: TokenResponse;
  accessHash: string;
  refreshHash: string;
  issuedAt: number;
}

/** Options of {@linkcode TokenStore}. */
export interface TokenStoreOptions {
  /** Seals issued pairs kept for the grace window. */
  sealer: Sealer;
  /** Grace window of a rotated refresh token; default {@linkcode DEFAULT_REFRESH_GRACE_MS}. */
  graceMs?: number;
  now?: () => number;
}

/** Issues, verifies, rotates and revokes tokens. */
export class TokenStore {
  #kv: Deno.Kv;
  #grants: GrantStore;
  #sealer: Sealer;
  #graceMs: number;
  #now: () => number;
  #accessRevokedListeners: Array<(token: string) => void> = [];

  constructor(kv: Deno.Kv, grants: GrantStore, options: TokenStoreOptions) {
    this.#kv = kv;
    this.#grants = grants;
    this.#sealer = options.sealer;
    this.#graceMs = options.graceMs ?? DEFAULT_REFRESH_GRACE_MS;
    this.#now = options.now ?? Date.now;
  }

  /** How long an issued pair is kept sealed for replays and racing requests. */
  get pairKeepMs(): number {
    return Math.max(this.#graceMs, MIN_PAIR_KEEP_MS);
  }

  /**
   * Issues a token pair for `grant` and extends the grant's life, in one atomic operation that also checks
   * the grant is unchanged (so a grant revoked meanwhile gets no tokens). `op` may carry further checks and
   * mutations (the code or refresh token being consumed); `extend` adds more once the pair is known.
   */
  async issue(
    grantEntry: Deno.KvEntry<Grant>,
    op: Deno.AtomicOperation = this.#kv.atomic(),
    extend?: (minted: Minted, op: Deno.AtomicOperation) => Promise<void>,
  ): Promise<Minted | null> {
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
    const minted: Minted = {
      response: {
        access_token: access,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL_MS / 1000,
        refresh_token: refresh,
        ...(grant.scopes.length > 0 ? { scope: grant.scopes.join(" ") } : {}),
      },
      accessHash,
      refreshHash,
      issuedAt: now,
    };
    this.#grants.extendIn(op, grantEntry, now);
    op.set(keys.accessToken(accessHash), accessRecord, { expireIn: ACCESS_TOKEN_TTL_MS })
      .set(keys.refreshToken(refreshHash), refreshRecord, { expireIn: USED_REFRESH_MEMORY_MS })
      .set(keys.grantToken(grant.id, "access", accessHash), "access", {
        expireIn: ACCESS_TOKEN_TTL_MS,
      })
      .set(keys.grantToken(grant.id, "refresh", refreshHash), "refresh", {
        expireIn: USED_REFRESH_MEMORY_MS,
      });
    if (extend) await extend(minted, op);
    const res = await op.commit();
    return res.ok ? minted : null;
  }

  /** Seals `minted` for keeping under `key` (bound to it) until the grace window ends. */
  async sealPair(key: Deno.KvKey, minted: Minted): Promise<IssuedPair> {
    return {
      sealed: await this.#sealer.seal(JSON.stringify(minted.response), JSON.stringify(key)),
      issuedAt: minted.issuedAt,
      keepUntil: minted.issuedAt + this.pairKeepMs,
    };
  }

  /**
   * The pair kept under `key`, with `expires_in` counting down from its issue; null when it is gone, past
   * its keeping time, or no configured key opens it.
   */
  async openPair(key: Deno.KvKey): Promise<TokenResponse | null> {
    const pair = (await this.#kv.get<IssuedPair>(key)).value;
    const now = this.#now();
    if (!pair || pair.keepUntil <= now) return null;
    let response: TokenResponse;
    try {
      response = JSON.parse(await this.#sealer.open(pair.sealed, JSON.stringify(key)));
    } catch {
      return null;
    }
    const left = Math.floor((pair.issuedAt + ACCESS_TOKEN_TTL_MS - now) / 1000);
    return { ...response, expires_in: Math.max(1, left) };
  }

  /** Whether either token of an issued pair has been used (a refresh claimed, an access token presented). */
  async successorUsed(successor: { access: string; refresh: string }): Promise<boolean> {
    const [access, refresh] = await this.#kv.getMany<[AccessTokenRecord, RefreshTokenRecord]>([
      keys.accessToken(successor.access),
      keys.refreshToken(successor.refresh),
    ]);
    return access.value?.usedAt !== undefined || (refresh.value?.usedAt ?? null) !== null ||
      // A refresh record gone while the pair is young means the grant was revoked: not usable.
      refresh.value === null;
  }

  /**
   * Verifies an access token: known, unexpired, and its grant alive. Returns null otherwise (the caller
   * answers 401 `invalid_token`). One KV round trip, plus one write the first time a token is used (which
   * ends its predecessor's grace window).
   */
  async verifyAccessToken(
    token: string,
  ): Promise<{ token: AccessTokenRecord; grant: Grant } | null> {
    const grantId = grantIdOf(token);
    if (!grantId) return null;
    const hash = await sha256(token);
    const [tokenEntry, grant] = await this.#grants.readWith<AccessTokenRecord>(
      keys.accessToken(hash),
      grantId,
    );
    const now = this.#now();
    const record = tokenEntry.value;
    if (!record || !grant || record.expiresAt <= now || record.grantId !== grant.id) return null;
    if (record.usedAt === undefined) {
      // Checked against the entry, so a token revoked meanwhile is not written back.
      await this.#kv.atomic().check(tokenEntry)
        .set(keys.accessToken(hash), { ...record, usedAt: now }, {
          expireIn: Math.max(1, record.expiresAt - now),
        })
        .commit();
    }
    return { token: record, grant };
  }

  /**
   * Exchanges a refresh token for a new pair under the policy in the module documentation. `beforeIssue`
   * runs once per exchange, when the token is known good, e.g. to refresh the grant's permissions
   * upstream; it throws an {@linkcode OAuthError} to refuse (`temporarily_unavailable` gives the token
   * back, so the client can retry with it).
   */
  async refresh(
    token: string,
    clientId: string,
    resource: string | null,
    beforeIssue?: (grant: Grant) => Promise<void>,
  ): Promise<TokenResponse> {
    const hash = await sha256(token);
    const key = keys.refreshToken(hash);
    let entry = await this.#kv.get<RefreshTokenRecord>(key);
    const first = entry.value;
    if (!first || first.expiresAt <= this.#now()) {
      throw new OAuthError("invalid_grant", "Cannot refresh: refresh token unknown or expired");
    }
    if (first.clientId !== clientId) {
      throw new OAuthError(
        "invalid_grant",
        "Cannot refresh: refresh token was issued to another client",
      );
    }
    if (resource !== null && first.resource !== null && resource !== first.resource) {
      throw new OAuthError(
        "invalid_target",
        "Cannot refresh: resource differs from the grant's resource",
      );
    }
    // Whether this request arrived while an exchange of the token was in flight: it raced, it is no reuse.
    let raced = false;
    for (;;) {
      const record = entry.value;
      if (!record) throw new OAuthError("invalid_grant", "Cannot refresh: grant revoked");
      if (record.completedAt !== undefined) return await this.#again(hash, record, raced);
      if (record.usedAt === null || !(await this.#claimAlive(hash))) {
        const owner = randomToken(8);
        const claimed = await this.#kv.atomic().check(entry)
          .set(key, { ...record, usedAt: record.usedAt ?? this.#now(), claimOwner: owner }, {
            expireIn: Math.max(1, record.expiresAt - this.#now()),
          })
          .set(keys.refreshClaim(hash), Date.now() + CLAIM_MS, { expireIn: CLAIM_MS })
          .commit();
        if (claimed.ok) {
          const mine = await this.#kv.get<RefreshTokenRecord>(key);
          return await this.#exchange(hash, mine as Deno.KvEntry<RefreshTokenRecord>, beforeIssue);
        }
      } else {
        raced = true;
        await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
      }
      entry = await this.#kv.get<RefreshTokenRecord>(key);
    }
  }

  /** Whether the exchange holding a refresh token's claim is still alive (its heartbeat is recent). */
  async #claimAlive(hash: string): Promise<boolean> {
    // Real time, not the injectable clock: heartbeats are real timers.
    const until = (await this.#kv.get<number>(keys.refreshClaim(hash))).value;
    return until !== null && until > Date.now();
  }

  /** The exchange proper, holding the claim on `entry` and renewing it until done. */
  async #exchange(
    hash: string,
    entry: Deno.KvEntry<RefreshTokenRecord>,
    beforeIssue?: (grant: Grant) => Promise<void>,
  ): Promise<TokenResponse> {
    const key = keys.refreshToken(hash);
    const record = entry.value;
    const untilKey = keys.refreshClaim(hash);
    const heartbeat = setInterval(() => {
      this.#kv.set(untilKey, Date.now() + CLAIM_MS, { expireIn: CLAIM_MS }).catch(() => {});
    }, HEARTBEAT_MS);
    try {
      const before = await this.#grants.get(record.grantId);
      if (!before) {
        throw new OAuthError("invalid_grant", "Cannot refresh: grant revoked or expired");
      }
      if (beforeIssue) {
        try {
          await beforeIssue(before);
        } catch (err) {
          // A temporary failure gives the token back, so the client can retry with it.
          if (err instanceof OAuthError && err.code === "temporarily_unavailable") {
            await this.#kv.atomic().check(entry)
              .set(key, { ...record, usedAt: null, claimOwner: undefined }, {
                expireIn: Math.max(1, record.expiresAt - this.#now()),
              })
              .delete(untilKey)
              .commit();
          }
          throw err;
        }
      }
      for (let attempt = 0; attempt < 3; attempt++) {
        const grantEntry = await this.#grants.getEntry(record.grantId);
        if (!grantEntry.value || !live(grantEntry.value, this.#now())) break;
        const pairKey = keys.issuedPair("refresh", hash);
        // Completing checks our claim is still ours: a retry that took over a claim we were too slow to
        // renew completes instead, and this request then answers with its pair.
        const minted = await this.issue(
          grantEntry as Deno.KvEntry<Grant>,
          this.#kv.atomic().check(entry),
          async (m, op) => {
            const pair = await this.sealPair(pairKey, m);
            op.set(key, {
              ...record,
              completedAt: m.issuedAt,
              successor: { access: m.accessHash, refresh: m.refreshHash },
            }, { expireIn: Math.max(1, record.expiresAt - this.#now()) })
              .set(pairKey, pair, { expireIn: this.pairKeepMs })
              .delete(untilKey);
          },
        );
        if (minted) return minted.response;
        const now = await this.#kv.get<RefreshTokenRecord>(key);
        if (now.versionstamp !== entry.versionstamp) {
          if (now.value?.completedAt !== undefined) return await this.#again(hash, now.value, true);
          break;
        }
      }
      throw new OAuthError("invalid_grant", "Cannot refresh: grant revoked or changed meanwhile");
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * A refresh token whose exchange completed was presented again. Answered with the same pair when the
   * request raced with the exchange, or when it comes within the grace window and neither successor has
   * been used (a lost response retried); anything else is reuse and revokes the grant.
   */
  async #again(hash: string, record: RefreshTokenRecord, raced: boolean): Promise<TokenResponse> {
    const grant = await this.#grants.get(record.grantId);
    if (!grant) throw new OAuthError("invalid_grant", "Cannot refresh: grant revoked or expired");
    const inWindow = this.#now() - (record.completedAt ?? 0) <= this.#graceMs;
    const replayable = raced ||
      (inWindow && record.successor !== undefined &&
        !(await this.successorUsed(record.successor)));
    if (replayable) {
      const pair = await this.openPair(keys.issuedPair("refresh", hash));
      if (pair) return pair;
    }
    await this.#grants.revoke(record.grantId);
    throw new OAuthError(
      "invalid_grant",
      "Cannot refresh: refresh token already used; grant revoked",
    );
  }

  /** Calls `listener` with an access token revoked here on its own (a grant's revocation is separate). */
  onAccessTokenRevoked(listener: (token: string) => void): void {
    this.#accessRevokedListeners.push(listener);
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
      this.#accessRevokedListeners.forEach((listener) => listener(token));
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

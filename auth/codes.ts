/**
 * Authorization codes: single-use, short-lived, stored by hash (OAuth 2.1 §4.1.3, RFC 6749 §10.5).
 *
 * - A code presented by another client is refused and changes nothing: only its owner can burn it.
 * - An identical redemption by the owning client (same redirect URI, a verifier that passes PKCE) within
 *   {@linkcode CODE_REPLAY_MS}, while neither issued token has been used, is answered with the same pair:
 *   a retry after a lost response, or concurrent requests, leave the client with working tokens.
 * - Any other replay by the owner revokes every token issued from the grant.
 *
 * @module
 */
import { OAuthError } from "../lib/errors.ts";
import { keys } from "../lib/kv_keys.ts";
import { randomToken, sha256 } from "./crypto.ts";
import type { Grant, GrantStore } from "./grants.ts";
import { verifyPkce } from "./pkce.ts";
import type { TokenResponse, TokenStore } from "./tokens.ts";

/** Codes live 5 minutes. */
export const CODE_TTL_MS = 5 * 60 * 1000;
/** How long after its redemption an identical redemption of a code is answered idempotently. */
export const CODE_REPLAY_MS = 10_000;

/** A code as stored; `usedAt` is set on redemption and kept so a replay is recognised. */
export interface CodeRecord {
  grantId: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  resource: string | null;
  expiresAt: number;
  usedAt: number | null;
  /** Hashes of the pair issued on redemption. */
  successor?: { access: string; refresh: string };
}

/** What the token request presents with a code. */
export interface CodeRedemption {
  code: string;
  clientId: string;
  redirectUri: string | null;
  codeVerifier: string | null;
  resource: string | null;
}

/** Issues and redeems codes. */
export class CodeStore {
  #kv: Deno.Kv;
  #grants: GrantStore;
  #tokens: TokenStore;
  #now: () => number;

  constructor(kv: Deno.Kv, grants: GrantStore, tokens: TokenStore, now: () => number = Date.now) {
    this.#kv = kv;
    this.#grants = grants;
    this.#tokens = tokens;
    this.#now = now;
  }

  /** Issues a code for `grant`, bound to the client's redirect URI, PKCE challenge and resource. */
  async issue(
    grant: Grant,
    request: { redirectUri: string; codeChallenge: string; resource: string | null },
  ): Promise<string> {
    const code = randomToken();
    const record: CodeRecord = {
      grantId: grant.id,
      clientId: grant.clientId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      resource: request.resource,
      expiresAt: this.#now() + CODE_TTL_MS,
      usedAt: null,
    };
    await this.#kv.set(keys.code(await sha256(code)), record, { expireIn: CODE_TTL_MS * 2 });
    return code;
  }

  /**
   * Redeems a code for tokens. Fails with `invalid_grant` when the code is unknown, expired, used, or
   * presented with the wrong client, redirect URI or PKCE verifier; with `invalid_target` when the
   * resource differs from the authorization request's.
   */
  async redeem(input: CodeRedemption): Promise<TokenResponse> {
    const hash = await sha256(input.code);
    const key = keys.code(hash);
    const entry = await this.#kv.get<CodeRecord>(key);
    const record = entry.value;
    const now = this.#now();
    if (!record) {
      throw new OAuthError("invalid_grant", "Cannot redeem authorization code: unknown code");
    }
    // The client first: another client's replay must not burn the owner's grant.
    if (record.clientId !== input.clientId) {
      throw new OAuthError(
        "invalid_grant",
        "Cannot redeem authorization code: issued to another client",
      );
    }
    if (record.usedAt !== null) return await this.#again(hash, record, input);
    if (record.expiresAt <= now) {
      throw new OAuthError("invalid_grant", "Cannot redeem authorization code: code expired");
    }
    await this.#checkPresentation(record, input);
    const grantEntry = await this.#grants.getEntry(record.grantId);
    if (!grantEntry.value || grantEntry.value.expiresAt <= now) {
      throw new OAuthError(
        "invalid_grant",
        "Cannot redeem authorization code: grant revoked or expired",
      );
    }
    // Single use: the code is marked used in the same atomic operation that issues the tokens and keeps
    // the pair (sealed) for an identical retry.
    const pairKey = keys.issuedPair("code", hash);
    const minted = await this.#tokens.issue(
      grantEntry as Deno.KvEntry<Grant>,
      this.#kv.atomic().check(entry),
      async (m, op) => {
        op.set(key, {
          ...record,
          usedAt: now,
          successor: { access: m.accessHash, refresh: m.refreshHash },
        }, { expireIn: CODE_TTL_MS * 2 })
          .set(pairKey, await this.#tokens.sealPair(pairKey, m), {
            expireIn: this.#tokens.pairKeepMs,
          });
      },
    );
    if (minted) return minted.response;
    const again = await this.#kv.get<CodeRecord>(key);
    if (again.value?.usedAt) return await this.#again(hash, again.value, input);
    throw new OAuthError(
      "invalid_grant",
      "Cannot redeem authorization code: grant revoked meanwhile",
    );
  }

  /** Checks what the token request presents against what the authorization request bound. */
  async #checkPresentation(record: CodeRecord, input: CodeRedemption): Promise<void> {
    if (input.redirectUri !== record.redirectUri) {
      throw new OAuthError(
        "invalid_grant",
        "Cannot redeem authorization code: redirect_uri differs from the authorization request",
      );
    }
    if (!input.codeVerifier) {
      throw new OAuthError(
        "invalid_request",
        "Cannot redeem authorization code: code_verifier is required",
      );
    }
    if (!(await verifyPkce(input.codeVerifier, record.codeChallenge))) {
      throw new OAuthError(
        "invalid_grant",
        "Cannot redeem authorization code: PKCE verification failed",
      );
    }
    if (input.resource !== null && input.resource !== record.resource) {
      throw new OAuthError(
        "invalid_target",
        "Cannot redeem authorization code: resource differs from the authorization request",
      );
    }
  }

  /**
   * The owning client presented a used code. Identical and recent, with both issued tokens unused: the same
   * pair again. Anything else: a replay, which revokes the grant.
   */
  async #again(hash: string, record: CodeRecord, input: CodeRedemption): Promise<TokenResponse> {
    const recent = record.usedAt !== null && this.#now() - record.usedAt <= CODE_REPLAY_MS;
    if (recent && record.successor) {
      let identical = true;
      try {
        await this.#checkPresentation(record, input);
      } catch {
        identical = false;
      }
      if (identical && !(await this.#tokens.successorUsed(record.successor))) {
        const pair = await this.#tokens.openPair(keys.issuedPair("code", hash));
        if (pair && (await this.#grants.get(record.grantId))) return pair;
      }
    }
    return await this.#replayed(record);
  }

  async #replayed(record: CodeRecord): Promise<never> {
    await this.#grants.revoke(record.grantId);
    throw new OAuthError(
      "invalid_grant",
      "Cannot redeem authorization code: code already used; tokens issued from it are revoked",
    );
  }
}

/**
 * Authorization codes: single-use, short-lived, stored by hash. A second redemption is treated as an
 * attack and revokes every token issued from the grant (OAuth 2.1 §4.1.3, RFC 6749 §10.5).
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

/** A code as stored; `usedAt` is set on redemption and kept so a replay is recognised. */
export interface CodeRecord {
  grantId: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  resource: string | null;
  expiresAt: number;
  usedAt: number | null;
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
    const key = keys.code(await sha256(input.code));
    const entry = await this.#kv.get<CodeRecord>(key);
    const record = entry.value;
    const now = this.#now();
    if (!record) {
      throw new OAuthError("invalid_grant", "Cannot redeem authorization code: unknown code");
    }
    if (record.usedAt !== null) return await this.#replayed(record);
    if (record.expiresAt <= now) {
      throw new OAuthError("invalid_grant", "Cannot redeem authorization code: code expired");
    }
    if (record.clientId !== input.clientId) {
      throw new OAuthError(
        "invalid_grant",
        "Cannot redeem authorization code: issued to another client",
      );
    }
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
    const grantEntry = await this.#grants.getEntry(record.grantId);
    if (!grantEntry.value || grantEntry.value.expiresAt <= now) {
      throw new OAuthError(
        "invalid_grant",
        "Cannot redeem authorization code: grant revoked or expired",
      );
    }
    // Single use: the code is marked used in the same atomic operation that issues the tokens.
    const op = this.#kv.atomic().check(entry).set(key, { ...record, usedAt: now }, {
      expireIn: CODE_TTL_MS * 2,
    });
    const tokens = await this.#tokens.issue(grantEntry as Deno.KvEntry<Grant>, op);
    if (tokens) return tokens;
    const again = await this.#kv.get<CodeRecord>(key);
    if (again.value?.usedAt) return await this.#replayed(record);
    throw new OAuthError(
      "invalid_grant",
      "Cannot redeem authorization code: grant revoked meanwhile",
    );
  }

  async #replayed(record: CodeRecord): Promise<never> {
    await this.#grants.revoke(record.grantId);
    throw new OAuthError(
      "invalid_grant",
      "Cannot redeem authorization code: code already used; tokens issued from it are revoked",
    );
  }
}

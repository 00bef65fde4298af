/**
 * Permission freshness: a grant's permissions follow WorkOS within a stated bound. A refresh of the
 * grant's WorkOS session (`authenticateWithRefreshToken`, keeping its organization) re-reads role and
 * permissions from a freshly verified WorkOS access token.
 *
 * - WorkOS refresh tokens are single-use, so concurrent refreshes of one grant share one upstream call:
 *   in-process through a shared promise, across instances through a short KV lease (the others wait for
 *   the holder's result).
 * - WorkOS saying no (session revoked, user or membership removed) revokes the grant. WorkOS being
 *   unreachable never does: the last known permissions keep serving until they are older than the bound
 *   (`PERMISSIONS_MAX_AGE_SECONDS`), then requests are refused until WorkOS answers again.
 * - A grant whose sealed WorkOS refresh token no configured key opens (COOKIE_ENCRYPTION_KEY changed
 *   without COOKIE_ENCRYPTION_KEY_PREVIOUS) can never be refreshed again: it is ended cleanly, so its
 *   client re-authenticates instead of waiting on an outage that will never end.
 * - The lease is held only as long as one WorkOS call may take, so a process killed mid-refresh delays the
 *   next refresh of that grant by at most that long.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#token-audience-binding-and-validation
 * @module
 */
import { keys } from "../lib/kv_keys.ts";
import { errorFields, log } from "../lib/log.ts";
import { randomToken, SealedValueError } from "./crypto.ts";
import type { Grant, GrantStore } from "./grants.ts";
import { suspectVariables, type Upstream, UpstreamError } from "./workos.ts";

/** Default bound on the age of a grant's permissions. */
export const DEFAULT_PERMISSIONS_MAX_AGE_MS = 300_000;
/** Default longest WorkOS call (WORKOS_TIMEOUT_MS). */
const DEFAULT_UPSTREAM_TIMEOUT_MS = 5000;
const POLL_MS = 50;

/** The grant was revoked because WorkOS refused to refresh its session. */
export class GrantRevokedError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "GrantRevokedError";
  }
}

/** WorkOS could not be asked and the grant's permissions are older than the bound. */
export class PermissionsStaleError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "PermissionsStaleError";
  }
}

interface Lease {
  owner: string;
  expiresAt: number;
}

/** Keeps grants' permissions fresh. */
export class Freshness {
  readonly maxAgeMs: number;
  #kv: Deno.Kv;
  #grants: GrantStore;
  #upstream: Upstream;
  #now: () => number;
  #inflight = new Map<string, Promise<Grant>>();
  #onChange: ((before: Grant, after: Grant) => void) | undefined;
  #onRevoke: ((grant: Grant, reason: string) => void) | undefined;
  #leaseMs: number;

  constructor(
    deps: { kv: Deno.Kv; grants: GrantStore; upstream: Upstream; now?: () => number },
    options: {
      maxAgeMs?: number;
      /** The longest one WorkOS call may take (WORKOS_TIMEOUT_MS): sizes the lease. */
      upstreamTimeoutMs?: number;
      onChange?: (before: Grant, after: Grant) => void;
      onRevoke?: (grant: Grant, reason: string) => void;
    } = {},
  ) {
    this.#kv = deps.kv;
    this.#grants = deps.grants;
    this.#upstream = deps.upstream;
    this.#now = deps.now ?? Date.now;
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_PERMISSIONS_MAX_AGE_MS;
    // The call, its JWKS fetch and our KV writes: twice the call's timeout, plus a second.
    this.#leaseMs = 2 * (options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS) + 1000;
    this.#onChange = options.onChange;
    this.#onRevoke = options.onRevoke;
  }

  /**
   * The grant with permissions no older than the bound. Past half the bound it refreshes upstream, but a
   * WorkOS outage is tolerated (the grant is returned as is); past the bound an outage is refused.
   * @throws {GrantRevokedError} when WorkOS refused and the grant was revoked.
   * @throws {PermissionsStaleError} when WorkOS is unavailable and the permissions are too old.
   */
  async ensureFresh(grant: Grant): Promise<Grant> {
    const age = this.#now() - grant.permissionsCheckedAt;
    if (age <= this.maxAgeMs / 2) return grant;
    return await this.#refreshTolerating(grant);
  }

  /**
   * Refreshes for an MCP `refresh_token` grant: always asks WorkOS, tolerating an outage within the bound.
   * @throws {GrantRevokedError} or {PermissionsStaleError}, as {@linkcode ensureFresh}.
   */
  async refreshForTokenGrant(grant: Grant): Promise<Grant> {
    return await this.#refreshTolerating(grant);
  }

  async #refreshTolerating(grant: Grant): Promise<Grant> {
    try {
      return await this.refresh(grant.id);
    } catch (err) {
      if (err instanceof GrantRevokedError) throw err;
      const age = this.#now() - grant.permissionsCheckedAt;
      const check = err instanceof UpstreamError ? suspectVariables(err) : undefined;
      if (age <= this.maxAgeMs) {
        log(check ? "error" : "warn", "upstream refresh failed; keeping last known permissions", {
          grantId: grant.id,
          ageMs: age,
          ...(check ? { check } : {}),
          ...errorFields(err),
        });
        return grant;
      }
      if (check) {
        log("error", "upstream refresh failed; refusing requests until WorkOS answers", {
          grantId: grant.id,
          ageMs: age,
          check,
          ...errorFields(err),
        });
      }
      throw new PermissionsStaleError(
        "Cannot confirm your permissions with WorkOS right now, and the last confirmation is too old; try again shortly",
        { cause: err },
      );
    }
  }

  /** Refreshes the grant upstream now, sharing one WorkOS call among concurrent callers. */
  refresh(grantId: string): Promise<Grant> {
    const running = this.#inflight.get(grantId);
    if (running) return running;
    const promise = this.#refreshOnce(grantId).finally(() => this.#inflight.delete(grantId));
    this.#inflight.set(grantId, promise);
    return promise;
  }

  async #refreshOnce(grantId: string): Promise<Grant> {
    // Every refresh stores a new (sealed) WorkOS refresh token: a changed one means someone else refreshed.
    const initial = await this.#grants.get(grantId);
    if (!initial) throw new GrantRevokedError("Cannot refresh: grant revoked");
    const marker = initial.upstreamRefreshToken;
    const owner = randomToken(8);
    const leaseKey = keys.upstreamLease(grantId);
    // Take the lease, or wait for whoever holds it to finish and use their result. A holder that died
    // leaves a lease that expires within #leaseMs, and then this loop takes it.
    const deadline = Date.now() + this.#leaseMs + 1000;
    while (!(await this.#takeLease(leaseKey, owner))) {
      const grant = await this.#grants.get(grantId);
      if (!grant) throw new GrantRevokedError("Cannot refresh: grant revoked");
      if (grant.upstreamRefreshToken !== marker) return grant;
      if (Date.now() > deadline) {
        throw new UpstreamError("unavailable", "Another refresh of this grant did not finish");
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    try {
      const grant = await this.#grants.get(grantId);
      if (!grant) throw new GrantRevokedError("Cannot refresh: grant revoked");
      if (grant.upstreamRefreshToken !== marker) return grant;
      let upstreamToken;
      try {
        upstreamToken = await this.#grants.upstreamRefreshToken(grant);
      } catch (err) {
        if (!(err instanceof SealedValueError)) throw err;
        await this.#grants.revoke(grantId);
        const reason =
          "its WorkOS session was sealed with a COOKIE_ENCRYPTION_KEY this server no longer has";
        this.#onRevoke?.(grant, reason);
        log(
          "warn",
          "1 grant ended: sealed with a key we no longer have; its client signs in again",
          {
            grantId,
            fix:
              "keep the old key in COOKIE_ENCRYPTION_KEY_PREVIOUS while rotating COOKIE_ENCRYPTION_KEY",
          },
        );
        throw new GrantRevokedError(`Cannot refresh: ${reason}; sign in again`, { cause: err });
      }
      let session;
      try {
        session = await this.#upstream.refreshSession(upstreamToken, grant.organizationId);
      } catch (err) {
        if (err instanceof UpstreamError && err.kind !== "unavailable") {
          await this.#grants.revoke(grantId);
          this.#onRevoke?.(grant, err.message);
          log("info", "grant revoked: WorkOS refused the session refresh", {
            grantId,
            ...errorFields(err),
          });
          throw new GrantRevokedError(`WorkOS ended the session (${err.message}); grant revoked`, {
            cause: err,
          });
        }
        throw err;
      }
      const sealed = await this.#grants.sealUpstreamRefreshToken(grantId, session.refreshToken);
      const updated = await this.#grants.update(grantId, (g) => ({
        ...g,
        organizationId: session.identity.organizationId,
        role: session.identity.role,
        roles: session.identity.roles,
        permissions: session.identity.permissions,
        email: session.identity.email,
        name: session.identity.name,
        sessionId: session.identity.sessionId,
        upstreamRefreshToken: sealed,
        permissionsCheckedAt: this.#now(),
      }));
      if (!updated) throw new GrantRevokedError("Cannot refresh: grant revoked meanwhile");
      if (this.#onChange && !samePermissions(grant, updated)) this.#onChange(grant, updated);
      return updated;
    } finally {
      const lease = await this.#kv.get<Lease>(leaseKey);
      if (lease.value?.owner === owner) {
        await this.#kv.atomic().check(lease).delete(leaseKey).commit();
      }
    }
  }

  async #takeLease(key: Deno.KvKey, owner: string): Promise<boolean> {
    const entry = await this.#kv.get<Lease>(key);
    if (entry.value && entry.value.expiresAt > Date.now()) return false;
    const res = await this.#kv.atomic().check(entry)
      .set(key, { owner, expiresAt: Date.now() + this.#leaseMs }, { expireIn: this.#leaseMs * 2 })
      .commit();
    return res.ok;
  }
}

function samePermissions(a: Grant, b: Grant): boolean {
  return a.organizationId === b.organizationId && a.role === b.role &&
    a.permissions.join(" ") === b.permissions.join(" ");
}

/**
 * Grants: one user signed in through one client. A grant holds what WorkOS told us about the user (the
 * organization, role and permissions) and the WorkOS session (its refresh token encrypted at rest). Every
 * token we issue points at a grant; revoking the grant ends all of them at once.
 *
 * @module
 */
import { keys } from "../lib/kv_keys.ts";
import { randomToken, type Sealer } from "./crypto.ts";

/** How long a grant lives without use: the refresh-token lifetime. */
export const GRANT_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** What WorkOS said about the user at sign-in or at the last upstream refresh. */
export interface UpstreamIdentity {
  userId: string;
  email: string;
  name: string | null;
  organizationId: string | null;
  role: string | null;
  roles: string[];
  permissions: string[];
  /** WorkOS session id (`sid`), for sign-out and revocation. */
  sessionId: string;
}

/** A grant as stored in KV. */
export interface Grant extends UpstreamIdentity {
  id: string;
  clientId: string;
  /** Scopes the client asked for. */
  scopes: string[];
  /** The resource the client asked for, or null for all of ours. */
  resource: string | null;
  /** The WorkOS refresh token, AES-GCM encrypted with the grant id as associated data. */
  upstreamRefreshToken: string;
  createdAt: number;
  /** When the permissions were last confirmed by WorkOS. */
  permissionsCheckedAt: number;
  /** When tokens were last issued from the grant (sign-in or refresh): its last use, within 10 minutes. */
  lastUsedAt?: number;
  expiresAt: number;
}

/** Store for grants. */
export class GrantStore {
  #kv: Deno.Kv;
  #sealer: Sealer;
  #now: () => number;
  #revokeListeners: Array<(grantId: string) => void> = [];

  constructor(kv: Deno.Kv, sealer: Sealer, now: () => number = Date.now) {
    this.#kv = kv;
    this.#sealer = sealer;
    this.#now = now;
  }

  /**
   * Creates a grant after a successful sign-in; it lives `ttlMs` until a code redemption extends it.
   */
  async create(
    input: {
      upstream: UpstreamIdentity;
      upstreamRefreshToken: string;
      clientId: string;
      scopes: string[];
      resource: string | null;
    },
    ttlMs: number,
  ): Promise<Grant> {
    const id = `grant_${randomToken(16)}`;
    const now = this.#now();
    const grant: Grant = {
      ...input.upstream,
      id,
      clientId: input.clientId,
      scopes: input.scopes,
      resource: input.resource,
      upstreamRefreshToken: await this.#sealer.seal(input.upstreamRefreshToken, id),
      createdAt: now,
      permissionsCheckedAt: now,
      expiresAt: now + ttlMs,
    };
    const res = await this.#kv.atomic()
      .check({ key: keys.grant(id), versionstamp: null })
      .set(keys.grant(id), grant, { expireIn: ttlMs })
      .set(keys.userGrant(grant.userId, id), grant.clientId, { expireIn: ttlMs })
      .commit();
    if (!res.ok) throw new Error("Cannot create grant: id collision");
    return grant;
  }

  /** The grant, or null when unknown, revoked or expired. */
  async get(id: string): Promise<Grant | null> {
    const entry = await this.#kv.get<Grant>(keys.grant(id));
    return live(entry.value, this.#now());
  }

  /** The grant with its versionstamp, for atomic updates. */
  async getEntry(id: string): Promise<Deno.KvEntryMaybe<Grant>> {
    return await this.#kv.get<Grant>(keys.grant(id));
  }

  /**
   * Reads the entry at `key` and grant `id` in one KV round trip (the bearer check reads a token record
   * and its grant together). The grant is null when unknown, revoked or expired.
   */
  async readWith<T>(key: Deno.KvKey, id: string): Promise<[Deno.KvEntryMaybe<T>, Grant | null]> {
    const [entry, grantEntry] = await this.#kv.getMany<[T, Grant]>([key, keys.grant(id)]);
    return [entry, live(grantEntry.value, this.#now())];
  }

  /**
   * Adds to `op` what issuing tokens does to a grant: a check that `grantEntry` is unchanged (so a grant
   * revoked or changed meanwhile fails the whole operation) and the grant extended by
   * {@linkcode GRANT_TTL_MS} from `now` and marked used, together with the user's index entry. The caller
   * commits `op`. Returns the grant as it will be stored.
   */
  extendIn(op: Deno.AtomicOperation, grantEntry: Deno.KvEntry<Grant>, now: number): Grant {
    const grant = grantEntry.value;
    const extended: Grant = { ...grant, expiresAt: now + GRANT_TTL_MS, lastUsedAt: now };
    op.check(grantEntry)
      .set(keys.grant(grant.id), extended, { expireIn: GRANT_TTL_MS })
      .set(keys.userGrant(grant.userId, grant.id), grant.clientId, { expireIn: GRANT_TTL_MS });
    return extended;
  }

  /**
   * Applies `change` to the live grant `id` and stores the result, checked against the version read and
   * retried (up to `attempts` times) when another writer got there first. Resolves to the stored grant, or
   * null when the grant is gone.
   * @throws {Error} when the grant kept changing concurrently through every attempt.
   */
  async update(id: string, change: (grant: Grant) => Grant, attempts = 5): Promise<Grant | null> {
    for (let attempt = 0; attempt < attempts; attempt++) {
      const entry = await this.#kv.get<Grant>(keys.grant(id));
      const grant = live(entry.value, this.#now());
      if (!grant) return null;
      const updated = change(grant);
      const res = await this.#kv.atomic().check(entry)
        .set(keys.grant(id), updated, { expireIn: Math.max(1, updated.expiresAt - this.#now()) })
        .commit();
      if (res.ok) return updated;
    }
    throw new Error(`Cannot update grant "${id}": it kept changing concurrently`);
  }

  /**
   * Decrypts the grant's WorkOS refresh token.
   * @throws {import("./crypto.ts").SealedValueError} when no configured key opens it (the key changed).
   */
  async upstreamRefreshToken(grant: Grant): Promise<string> {
    return await this.#sealer.open(grant.upstreamRefreshToken, grant.id);
  }

  /** Encrypts a new WorkOS refresh token for `grantId`. */
  async sealUpstreamRefreshToken(grantId: string, token: string): Promise<string> {
    return await this.#sealer.seal(token, grantId);
  }

  /**
   * Seals the grant's WorkOS refresh token again with the current key (after a key rotation). False when
   * the grant changed meanwhile (a refresh sealed it anew anyway).
   */
  async reseal(entry: Deno.KvEntry<Grant>): Promise<boolean> {
    const grant = entry.value;
    const plain = await this.#sealer.open(grant.upstreamRefreshToken, grant.id);
    const updated = { ...grant, upstreamRefreshToken: await this.#sealer.seal(plain, grant.id) };
    const res = await this.#kv.atomic().check(entry)
      .set(keys.grant(grant.id), updated, {
        expireIn: Math.max(1, grant.expiresAt - this.#now()),
      })
      .commit();
    return res.ok;
  }

  /** Ids of every grant in KV, live or not (for the key-change check at start). */
  async *allIds(): AsyncGenerator<string> {
    for await (const e of this.#kv.list({ prefix: keys.grants() })) {
      yield String(e.key[e.key.length - 1]);
    }
  }

  /**
   * Calls `listener` with the grant id whenever a grant is revoked here: once before the deletion and
   * once after it (even a failed one), so a cache that a concurrent check refilled meanwhile is cleared.
   */
  onRevoke(listener: (grantId: string) => void): void {
    this.#revokeListeners.push(listener);
  }

  /** Deletes the grant and every token issued from it. Idempotent. */
  async revoke(id: string): Promise<void> {
    const notify = () => this.#revokeListeners.forEach((listener) => listener(id));
    notify();
    try {
      await this.#deleteGrant(id);
    } finally {
      notify();
    }
  }

  async #deleteGrant(id: string): Promise<void> {
    const entry = await this.#kv.get<Grant>(keys.grant(id));
    const tokenKeys: Deno.KvKey[] = [];
    for await (const e of this.#kv.list<string>({ prefix: keys.grantTokens(id) })) {
      const [, , , kind, hash] = e.key as [string, string, string, "access" | "refresh", string];
      tokenKeys.push(e.key, kind === "access" ? keys.accessToken(hash) : keys.refreshToken(hash));
    }
    const all = [keys.grant(id), ...tokenKeys];
    if (entry.value) all.push(keys.userGrant(entry.value.userId, id));
    // An atomic allows 1000 mutations; a grant's tokens are far fewer, but batch to stay within limits.
    for (let i = 0; i < all.length; i += 500) {
      const op = this.#kv.atomic();
      for (const key of all.slice(i, i + 500)) op.delete(key);
      await op.commit();
    }
  }

  /**
   * Replaces the grant's AuthKit permissions (e.g. after an upstream refresh reports a change). Live MCP
   * sessions of the grant are told through `notifications/tools/list_changed` (`mcp/cluster/grant_watcher.ts`).
   * Resolves to the updated grant, or null when the grant is gone.
   */
  async updatePermissions(id: string, permissions: readonly string[]): Promise<Grant | null> {
    return await this.update(
      id,
      (grant) => ({ ...grant, permissions: [...permissions], permissionsCheckedAt: this.#now() }),
      3,
    );
  }

  /** Ids of the user's live grants. */
  async listForUser(userId: string): Promise<Grant[]> {
    const ids: string[] = [];
    for await (const e of this.#kv.list({ prefix: keys.userGrants(userId) })) {
      ids.push(String(e.key[e.key.length - 1]));
    }
    const grants = await Promise.all(ids.map((id) => this.get(id)));
    return grants.filter((g): g is Grant => g !== null);
  }
}

/**
 * The stored grants `ids` (at most 10, the `getMany` limit), in order; null where there is none. Expiry is
 * not applied (see {@linkcode live}). For readers that hold only the KV handle, such as the poller of the
 * grants behind open MCP streams; the records are still read here, next to the store that writes them.
 */
export async function readGrants(kv: Deno.Kv, ids: readonly string[]): Promise<(Grant | null)[]> {
  const entries = await kv.getMany<Grant[]>(ids.map((id) => keys.grant(id)));
  return entries.map((entry) => entry.value);
}

/** `grant` if it has not expired, else null. */
export function live(grant: Grant | null, now: number): Grant | null {
  return grant && grant.expiresAt > now ? grant : null;
}

/**
 * Watches the grants behind open MCP streams and reports when their permissions change or they are
 * revoked, so those streams get `notifications/tools/list_changed` (or are closed). Per process, it polls
 * the watched grants every {@linkcode POLL_INTERVAL_MS} with `getMany` batches of 10 keys, comparing a
 * fingerprint of the permissions; it runs only while something is watched, so an idle server holds no
 * timer. A permissions change is announced once the bearer checks of every instance see it: the token
 * cache (`auth/token_cache.ts`) may serve the previous grant for {@linkcode TOKEN_CACHE_MS} after the
 * change, so the push waits until the change (`permissionsCheckedAt`) is that old, and the list the
 * client then asks for is the new one.
 *
 * Across instances: a change made on another instance (a refresh there, a revoke on `/account`) is
 * seen like any other, since the poller reads KV; so each instance watches only the grants of the
 * streams it holds. (Server-wide events travel on the KV bus instead, `bus.ts`.)
 *
 * @module
 */
import { live, readGrants } from "../../auth/grants.ts";
import { TOKEN_CACHE_MS } from "../../auth/token_cache.ts";
import { errorFields, log } from "../../lib/log.ts";

/** How often watched grants are read. */
export const POLL_INTERVAL_MS = 1000;
/** Keys per `getMany` (the Deno KV limit). */
const BATCH = 10;

/** What happened to a watched grant. */
export type GrantChange =
  | { kind: "permissions"; grantId: string; permissions: readonly string[] }
  | { kind: "revoked"; grantId: string };

type Listener = (change: GrantChange) => void;

/** Polls watched grants; see the module documentation. */
export class GrantWatcher {
  #kv: Deno.Kv;
  #now: () => number;
  #intervalMs: number;
  #watched = new Map<
    string,
    { fingerprint: string; listeners: Set<Listener>; delayed?: ReturnType<typeof setTimeout> }
  >();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #polling = false;

  constructor(kv: Deno.Kv, options: { now?: () => number; intervalMs?: number } = {}) {
    this.#kv = kv;
    this.#now = options.now ?? Date.now;
    this.#intervalMs = options.intervalMs ?? POLL_INTERVAL_MS;
  }

  /** How many grants are watched. */
  get size(): number {
    return this.#watched.size;
  }

  /**
   * Calls `listener` when grant `grantId` changes from `permissions` or is revoked. Returns an idempotent
   * unsubscribe function.
   */
  watch(grantId: string, permissions: readonly string[], listener: Listener): () => void {
    let entry = this.#watched.get(grantId);
    if (!entry) {
      entry = { fingerprint: fingerprint(permissions), listeners: new Set() };
      this.#watched.set(grantId, entry);
    }
    const wrapped: Listener = (change) => listener(change);
    entry.listeners.add(wrapped);
    this.#schedule();
    return () => {
      const current = this.#watched.get(grantId);
      if (!current?.listeners.delete(wrapped)) return;
      if (current.listeners.size === 0) {
        clearTimeout(current.delayed);
        this.#watched.delete(grantId);
      }
      if (this.#watched.size === 0 && this.#timer !== undefined) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  /** Reads every watched grant once and notifies listeners of changes. */
  async poll(): Promise<void> {
    const ids = [...this.#watched.keys()];
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      const grants = await readGrants(this.#kv, batch);
      const now = this.#now();
      batch.forEach((grantId, n) => {
        const entry = this.#watched.get(grantId);
        if (!entry) return;
        const grant = live(grants[n] ?? null, now);
        if (!grant) {
          clearTimeout(entry.delayed);
          this.#watched.delete(grantId);
          notify(entry.listeners, { kind: "revoked", grantId });
          return;
        }
        const next = fingerprint(grant.permissions);
        if (next === entry.fingerprint) return;
        entry.fingerprint = next;
        const change: GrantChange = {
          kind: "permissions",
          grantId,
          permissions: grant.permissions,
        };
        const wait = grant.permissionsCheckedAt + TOKEN_CACHE_MS - now;
        clearTimeout(entry.delayed);
        if (wait <= 0) return notify(entry.listeners, change);
        entry.delayed = setTimeout(() => {
          delete entry.delayed;
          notify(entry.listeners, change);
        }, wait);
      });
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#polling || this.#watched.size === 0) return;
    this.#timer = setTimeout(async () => {
      this.#timer = undefined;
      this.#polling = true;
      try {
        await this.poll();
      } catch (err) {
        log("warn", "grant watcher poll failed", errorFields(err));
      } finally {
        this.#polling = false;
      }
      this.#schedule();
    }, this.#intervalMs);
  }
}

function fingerprint(permissions: readonly string[]): string {
  return [...new Set(permissions)].sort().join("\n");
}

function notify(listeners: Set<Listener>, change: GrantChange): void {
  for (const listener of [...listeners]) {
    try {
      listener(change);
    } catch (err) {
      log("warn", "grant watcher listener failed", {
        grantId: change.grantId,
        ...errorFields(err),
      });
    }
  }
}

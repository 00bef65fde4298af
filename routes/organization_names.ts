/**
 * Organization names for pages, asked of WorkOS (`GET /organizations/:id`) and kept in memory: names
 * rarely change, and a page must not wait on WorkOS for every id each time.
 *
 * @module
 */
import type { WorkOS } from "@workos-inc/node";

/** How long a name is kept. */
const NAME_TTL_MS = 10 * 60_000;
/** How long a failed lookup is not retried (the page shows the id meanwhile). */
const FAILURE_TTL_MS = 60_000;
/** The most names kept; the oldest entry goes first. */
const MAX_ENTRIES = 1000;

/**
 * A cached lookup of organization names; resolves to undefined when WorkOS does not answer.
 *
 * @example
 * ```ts
 * const nameOf = organizationNames(workos);
 * await nameOf("org_acme"); // "Acme Corp"
 * ```
 */
export function organizationNames(
  workos: WorkOS,
  now: () => number = Date.now,
): (id: string) => Promise<string | undefined> {
  const cache = new Map<string, { name: string | undefined; until: number }>();
  return async function organizationName(id) {
    const hit = cache.get(id);
    if (hit && hit.until > now()) return hit.name;
    let name: string | undefined;
    try {
      name = (await workos.organizations.getOrganization(id)).name;
    } catch {
      name = undefined;
    }
    cache.delete(id);
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(id, { name, until: now() + (name ? NAME_TTL_MS : FAILURE_TTL_MS) });
    return name;
  };
}

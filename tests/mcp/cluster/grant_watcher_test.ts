import { assertEquals } from "@std/assert";
import type { Grant } from "../../../auth/grants.ts";
import { TOKEN_CACHE_MS } from "../../../auth/token_cache.ts";
import { keys } from "../../../lib/kv_keys.ts";
import { type GrantChange, GrantWatcher } from "../../../mcp/cluster/grant_watcher.ts";

const NOW = 1_000_000;

function grant(id: string, permissions: string[]): Grant {
  return {
    id,
    userId: "user_1",
    email: "a@example.com",
    name: null,
    organizationId: null,
    role: null,
    roles: [],
    permissions,
    sessionId: "sess",
    clientId: "mcp_1",
    scopes: [],
    resource: null,
    upstreamRefreshToken: "sealed",
    createdAt: NOW,
    permissionsCheckedAt: NOW - TOKEN_CACHE_MS, // a change old enough to be announced at once
    expiresAt: NOW + 60_000,
  };
}

Deno.test("GrantWatcher.poll() reports permission changes once and revocations", async () => {
  using kv = await Deno.openKv(":memory:");
  const ids = Array.from({ length: 12 }, (_, i) => `grant_${i}`); // more than one getMany batch
  for (const id of ids) await kv.set(keys.grant(id), grant(id, ["a"]));
  const watcher = new GrantWatcher(kv, { now: () => NOW, intervalMs: 60_000 });
  const seen: GrantChange[] = [];
  const stops = ids.map((id) => watcher.watch(id, ["a"], (change) => seen.push(change)));
  try {
    await watcher.poll();
    assertEquals(seen, []);
    await kv.set(keys.grant("grant_11"), grant("grant_11", ["b", "a"]));
    await kv.set(keys.grant("grant_3"), grant("grant_3", ["a", "a"])); // same set: no change
    await kv.delete(keys.grant("grant_0"));
    await watcher.poll();
    await watcher.poll();
    assertEquals(seen, [
      { kind: "revoked", grantId: "grant_0" },
      { kind: "permissions", grantId: "grant_11", permissions: ["b", "a"] },
    ]);
    assertEquals(watcher.size, 11);
  } finally {
    for (const stop of stops) stop();
  }
  assertEquals(watcher.size, 0);
});

Deno.test("GrantWatcher.watch() polls on a timer only while something is watched", async () => {
  using kv = await Deno.openKv(":memory:");
  await kv.set(keys.grant("grant_t"), grant("grant_t", []));
  const watcher = new GrantWatcher(kv, { now: () => NOW, intervalMs: 10 });
  const { promise, resolve } = Promise.withResolvers<GrantChange>();
  const stop = watcher.watch("grant_t", [], resolve);
  await kv.set(keys.grant("grant_t"), grant("grant_t", ["x"]));
  assertEquals(await promise, { kind: "permissions", grantId: "grant_t", permissions: ["x"] });
  stop();
  stop();
  assertEquals(watcher.size, 0);
  await new Promise((r) => setTimeout(r, 30)); // let an in-flight poll finish before the test ends
});

Deno.test("GrantWatcher announces a permissions change once every token cache sees it", async () => {
  using kv = await Deno.openKv(":memory:");
  await kv.set(keys.grant("grant_d"), grant("grant_d", []));
  const now = NOW;
  const watcher = new GrantWatcher(kv, { now: () => now, intervalMs: 60_000 });
  const seen: GrantChange[] = [];
  const stop = watcher.watch("grant_d", [], (change) => seen.push(change));
  try {
    // Changed 10 ms before the poll: every bearer check sees it TOKEN_CACHE_MS after the change.
    await kv.set(keys.grant("grant_d"), {
      ...grant("grant_d", ["x"]),
      permissionsCheckedAt: now - 10,
    });
    await watcher.poll();
    assertEquals(seen, [], "not yet: a cached grant may still be served");
    await new Promise((r) => setTimeout(r, TOKEN_CACHE_MS - 10 + 50));
    assertEquals(seen, [{ kind: "permissions", grantId: "grant_d", permissions: ["x"] }]);
  } finally {
    stop();
  }
});

Deno.test("GrantWatcher drops a delayed announcement when the last listener leaves", async () => {
  using kv = await Deno.openKv(":memory:");
  await kv.set(keys.grant("grant_e"), grant("grant_e", []));
  const watcher = new GrantWatcher(kv, { now: () => NOW, intervalMs: 60_000 });
  const seen: GrantChange[] = [];
  const stop = watcher.watch("grant_e", [], (change) => seen.push(change));
  await kv.set(keys.grant("grant_e"), { ...grant("grant_e", ["x"]), permissionsCheckedAt: NOW });
  await watcher.poll();
  stop(); // the delayed timer is cleared (the leak sanitizer checks)
  assertEquals(seen, []);
});

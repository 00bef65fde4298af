import { assert, assertEquals, assertNotEquals } from "@std/assert";
import type { Identity } from "../../auth/identity.ts";
import { keys } from "../../lib/kv_keys.ts";
import { GrantWatcher } from "../../mcp/list_changed.ts";
import { type SessionRecord, SessionStore } from "../../mcp/sessions.ts";
import { IDENTITY } from "./tools/_context.ts";

const INIT = {
  protocolVersion: "2025-11-25",
  clientInfo: { name: "t", version: "1" },
  clientCapabilities: {},
};

async function setup(idleMs = 60_000) {
  const kv = await Deno.openKv(":memory:");
  const clock = { now: 1_000_000 };
  const store = new SessionStore(kv, {
    idleMs,
    watcher: new GrantWatcher(kv),
    now: () => clock.now,
  });
  return { kv, clock, store, [Symbol.dispose]: () => kv.close() };
}

Deno.test("SessionStore.find() returns a session only to its user, client and grant", async () => {
  using t = await setup();
  const record = await t.store.create(IDENTITY, INIT);
  assertEquals((await t.store.find(IDENTITY, record.id))?.id, record.id);
  const other = (patch: Partial<Identity>) => t.store.find({ ...IDENTITY, ...patch }, record.id);
  assertEquals(await other({ userId: "user_other" }), null);
  assertEquals(await other({ clientId: "client_other" }), null);
  assertEquals(await other({ grantId: "grant_other" }), null);
  assertEquals(await t.store.find(IDENTITY, "short"), null);
  assertEquals(
    (await t.store.find(IDENTITY, record.id))?.id,
    record.id,
    "foreign lookups do not end it",
  );
});

Deno.test("SessionStore treats KV as the truth once its cache entry is older than 2 s", async () => {
  using t = await setup();
  const record = await t.store.create(IDENTITY, INIT);
  await t.kv.delete(keys.mcpSession(IDENTITY.userId, record.id)); // e.g. a DELETE on another instance
  t.clock.now += 2_500;
  assertEquals(await t.store.find(IDENTITY, record.id), null);
  assertEquals(t.store.cached, 0);
});

Deno.test("SessionStore ends idle sessions and writes lastSeenAt back at most every quarter idle", async () => {
  using t = await setup(60_000);
  const record = await t.store.create(IDENTITY, INIT);
  const stored = async () =>
    (await t.kv.get<SessionRecord>(keys.mcpSession(IDENTITY.userId, record.id))).value;
  t.clock.now += 5_000;
  await t.store.find(IDENTITY, record.id);
  assertEquals((await stored())?.lastSeenAt, record.createdAt, "no write within 15 s");
  t.clock.now += 15_000;
  await t.store.find(IDENTITY, record.id);
  assertEquals((await stored())?.lastSeenAt, t.clock.now);
  t.clock.now += 60_000;
  assertEquals(await t.store.find(IDENTITY, record.id), null);
  assertEquals(await stored(), null);
});

Deno.test("SessionStore sweeps idle sessions from its cache", async () => {
  using t = await setup(60_000);
  await t.store.create(IDENTITY, INIT);
  await t.store.create(IDENTITY, INIT);
  assertEquals(t.store.cached, 2);
  t.clock.now += 61_000;
  await t.store.create(IDENTITY, INIT); // any use sweeps
  assertEquals(t.store.cached, 1);
});

Deno.test("SessionStore.openStream() keeps a session alive and replaces an earlier stream", async () => {
  using t = await setup(60_000);
  const record = await t.store.create(IDENTITY, INIT);
  const first = t.store.openStream(record, 0);
  const second = t.store.openStream(record, 0);
  assert(first.closed, "the earlier stream is closed");
  assertNotEquals(first, second);
  t.clock.now += 120_000;
  assertEquals((await t.store.find(IDENTITY, record.id))?.id, record.id, "an open stream is use");
  await t.store.end(record);
  assert(second.closed);
  assertEquals(await t.store.find(IDENTITY, record.id), null);
});

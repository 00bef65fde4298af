import { assert, assertEquals, assertNotEquals } from "@std/assert";
import type { Identity } from "../../auth/identity.ts";
import { keys } from "../../lib/kv_keys.ts";
import { KvEventBus } from "../../mcp/cluster/bus.ts";
import { KvPoller } from "../../mcp/cluster/kv_poller.ts";
import { GrantWatcher } from "../../mcp/cluster/grant_watcher.ts";
import { type SessionRecord, SessionStore } from "../../mcp/sessions.ts";
import { sharedKv } from "../helpers/kv.ts";
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

/** Two instances' session stores over one KV file, each with its own poller and bus. */
async function twoStores() {
  const kv = await sharedKv();
  const make = (handle: Deno.Kv, id: string) => {
    const poller = new KvPoller(handle, { intervalMs: 20 });
    const bus = new KvEventBus(handle, poller, id);
    const store = new SessionStore(handle, {
      idleMs: 60_000,
      watcher: new GrantWatcher(handle),
      bus,
    });
    return { poller, bus, store };
  };
  const a = make(kv.a, "a");
  const b = make(kv.b, "b");
  return {
    a,
    b,
    async [Symbol.asyncDispose]() {
      a.store.closeAll();
      b.store.closeAll();
      await a.poller.close();
      await b.poller.close();
      await kv[Symbol.asyncDispose]();
    },
  };
}

Deno.test("SessionStore: instance b serves a session a created, with the same user binding", async () => {
  await using t = await twoStores();
  const record = await t.a.store.create(IDENTITY, INIT);
  assertEquals((await t.b.store.find(IDENTITY, record.id))?.id, record.id);
  assertEquals(await t.b.store.find({ ...IDENTITY, userId: "user_other" }, record.id), null);
  assertEquals(await t.b.store.find({ ...IDENTITY, grantId: "grant_other" }, record.id), null);
});

Deno.test("SessionStore: ending a session on b closes its GET stream held by a", async () => {
  await using t = await twoStores();
  const record = await t.a.store.create(IDENTITY, INIT);
  const stream = t.a.store.openStream(record, 0);
  await t.a.poller.poll(); // a's bus baseline
  await t.b.store.end((await t.b.store.find(IDENTITY, record.id))!);
  const deadline = Date.now() + 5000;
  while (!stream.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert(stream.closed, "session_ended reached a within the poll interval");
  assertEquals(await t.a.store.find(IDENTITY, record.id), null);
});

Deno.test("SessionStore: closeAll(retryMs) tells the stream's client when to reconnect, keeps the record", async () => {
  await using t = await twoStores();
  const record = await t.a.store.create(IDENTITY, INIT);
  const stream = t.a.store.openStream(record, 0);
  t.a.store.closeAll(1000);
  assertEquals(await new Response(stream.body).text(), "retry: 1000\n\n");
  assertEquals((await t.b.store.find(IDENTITY, record.id))?.id, record.id, "goes on elsewhere");
});

Deno.test("SessionStore never brings back a session ended elsewhere when it writes lastSeenAt", async () => {
  using t = await setup(60_000);
  const record = await t.store.create(IDENTITY, INIT);
  t.clock.now += 14_000;
  assertEquals((await t.store.find(IDENTITY, record.id))?.id, record.id); // re-read; no write yet
  await t.kv.delete(keys.mcpSession(IDENTITY.userId, record.id)); // a DELETE on another instance
  t.clock.now += 1_500; // the cache is still trusted, and lastSeenAt is due to be written
  assertEquals(await t.store.find(IDENTITY, record.id), null);
  assertEquals((await t.kv.get(keys.mcpSession(IDENTITY.userId, record.id))).value, null);
});

import { assert, assertEquals } from "@std/assert";
import type { Identity } from "../../auth/identity.ts";
import { keys } from "../../lib/kv_keys.ts";
import { KvEventBus } from "../../mcp/cluster/bus.ts";
import { KvPoller } from "../../mcp/cluster/kv_poller.ts";
import { GrantWatcher } from "../../mcp/cluster/grant_watcher.ts";
import { SseSessions } from "../../mcp/sse_sessions.ts";
import { sharedKv } from "../helpers/kv.ts";
import { IDENTITY } from "./tools/_context.ts";

/** Instance `id` on `kv`: its poller, bus and SSE sessions. */
function instance(kv: Deno.Kv, id: string) {
  const poller = new KvPoller(kv, { intervalMs: 20 });
  const bus = new KvEventBus(kv, poller, id);
  const sse = new SseSessions({
    kv,
    watcher: new GrantWatcher(kv),
    bus,
    poller,
    instanceId: id,
    keepAliveMs: 0,
    deliveryTimeoutMs: 500,
  });
  return { poller, bus, sse };
}

async function setup() {
  const kv = await sharedKv();
  const a = instance(kv.a, "a");
  const b = instance(kv.b, "b");
  return {
    kv,
    a,
    b,
    async [Symbol.asyncDispose]() {
      await a.sse.closeAll();
      await b.sse.closeAll();
      await a.poller.close();
      await b.poller.close();
      await kv[Symbol.asyncDispose]();
    },
  };
}

/** Reads events off an SSE body: `next(n)` resolves to the next `n` events, `rest()` to the remainder. */
function eventsOf(body: ReadableStream<Uint8Array>) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    async next(count = 1): Promise<string[]> {
      while (buffer.split("\n\n").length - 1 < count) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
      }
      const parts = buffer.split("\n\n");
      buffer = parts.slice(count).join("\n\n");
      return parts.slice(0, count);
    },
    async rest(): Promise<string> {
      while (true) {
        const { value, done } = await reader.read();
        if (done) return buffer;
        buffer += value;
      }
    },
  };
}

/** Opens a stream on `sse` and reads its endpoint event; resolves to the events and the session id. */
async function openOn(sse: SseSessions) {
  const stream = await sse.open(IDENTITY, "/messages");
  const events = eventsOf(stream.body);
  const [endpoint] = await events.next();
  return { events, id: /sessionId=([\w-]+)/.exec(endpoint!)![1]! };
}

const PING_REPLY = { jsonrpc: "2.0" as const, id: 3, result: {} };

Deno.test("SseSessions: a POST landing on instance b reaches the stream held by a", async () => {
  await using t = await setup();
  const { events, id } = await openOn(t.a.sse);
  const record = await t.b.sse.find(IDENTITY, id);
  assertEquals(record?.instanceId, "a", "b finds the session in KV, held by a");
  assertEquals(await t.b.sse.deliver(record!, [PING_REPLY]), true);
  const [message] = await events.next();
  assertEquals(message, `event: message\ndata: ${JSON.stringify(PING_REPLY)}`);
});

Deno.test("SseSessions: another user, client or grant never finds the session, on any instance", async () => {
  await using t = await setup();
  const { id } = await openOn(t.a.sse);
  const other = (patch: Partial<Identity>) => ({ ...IDENTITY, ...patch });
  for (const sse of [t.a.sse, t.b.sse]) {
    assertEquals(await sse.find(other({ userId: "user_mallory" }), id), null);
    assertEquals(await sse.find(other({ clientId: "client_mallory" }), id), null);
    assertEquals(await sse.find(other({ grantId: "grant_mallory" }), id), null);
    assertEquals(await sse.find(IDENTITY, "not-an-id"), null);
  }
  assert(await t.b.sse.find(IDENTITY, id), "foreign lookups did not end it");
});

Deno.test("SseSessions: when the holder's stream is gone, deliver() is false and the record goes", async () => {
  await using t = await setup();
  const { id } = await openOn(t.a.sse);
  const record = (await t.b.sse.find(IDENTITY, id))!;
  // The holder dies without cleaning up: its poller stops, the record stays.
  await t.a.poller.close();
  assertEquals(await t.b.sse.deliver(record, [PING_REPLY]), false, "timed out: not delivered");
  assertEquals((await t.kv.b.get(keys.sseSession(IDENTITY.userId, id))).value, null);
  assertEquals(await t.b.sse.find(IDENTITY, id), null, "the next POST gets 404 at once");
});

Deno.test("SseSessions: closing a stream deletes its record; closeAll() sends retry first", async () => {
  await using t = await setup();
  const { events, id } = await openOn(t.a.sse);
  assertEquals(t.a.sse.size, 1);
  await t.a.sse.closeAll(1500);
  const rest = await events.rest();
  assertEquals(rest, "retry: 1500\n\n");
  assertEquals(t.a.sse.size, 0);
  assertEquals(await t.b.sse.find(IDENTITY, id), null, "other instances see it ended");
});

Deno.test("SseSessions: tools_list_changed on the bus reaches a stream on another instance", async () => {
  await using t = await setup();
  const { events } = await openOn(t.a.sse);
  await t.a.poller.poll(); // a's baseline of the bus head
  t.b.bus.publish({ kind: "tools_list_changed" });
  const [note] = await events.next();
  assertEquals(
    note,
    'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/tools/list_changed"}',
  );
});

Deno.test("SseSessions: sse_closed from another instance ends the stream with retry:, so its client reconnects", async () => {
  await using t = await setup();
  const { events, id } = await openOn(t.a.sse);
  await t.a.poller.poll(); // a's bus baseline
  t.b.bus.publish({ kind: "sse_closed", sessionId: id });
  assertEquals(await events.rest(), "retry: 1000\n\n");
  assertEquals(t.a.sse.size, 0);
});

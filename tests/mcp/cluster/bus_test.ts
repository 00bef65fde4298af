import { assertEquals } from "@std/assert";
import type { ServerEvent } from "@modelcontextprotocol/server";
import { type BusEvent, KvEventBus } from "../../../mcp/cluster/bus.ts";
import { KvPoller } from "../../../mcp/cluster/kv_poller.ts";
import { sharedKv } from "../../helpers/kv.ts";
import { keys } from "../../../lib/kv_keys.ts";

/** Two instances on one KV file; polls are driven by hand (no timers race the assertions). */
async function twoInstances() {
  const kv = await sharedKv();
  const pollerA = new KvPoller(kv.a, { intervalMs: 60_000 });
  const pollerB = new KvPoller(kv.b, { intervalMs: 60_000 });
  const a = new KvEventBus(kv.a, pollerA, "instance-a");
  const b = new KvEventBus(kv.b, pollerB, "instance-b");
  return {
    kv,
    a,
    b,
    pollerA,
    pollerB,
    async [Symbol.asyncDispose]() {
      await pollerA.close();
      await pollerB.close();
      await kv[Symbol.asyncDispose]();
    },
  };
}

Deno.test("KvEventBus delivers an event at once locally and once on the other instance", async () => {
  await using t = await twoInstances();
  const onA: BusEvent[] = [];
  const onB: BusEvent[] = [];
  t.a.subscribe((e) => onA.push(e));
  t.b.subscribe((e) => onB.push(e));
  await t.pollerA.poll();
  await t.pollerB.poll(); // baselines
  t.a.publish({ kind: "tools_list_changed" });
  assertEquals(onA, [{ kind: "tools_list_changed" }], "synchronous local delivery");
  await t.a.flush();
  await t.pollerB.poll();
  await t.pollerA.poll();
  assertEquals(onB, [{ kind: "tools_list_changed" }]);
  assertEquals(onA.length, 1, "not echoed back to the publisher from KV");
});

Deno.test("KvEventBus numbers concurrent publishes from two instances without losing one", async () => {
  await using t = await twoInstances();
  const onB: BusEvent[] = [];
  t.b.subscribe((e) => onB.push(e));
  await t.pollerB.poll();
  const c = new KvEventBus(t.kv.b, t.pollerB, "instance-c");
  for (let i = 0; i < 10; i++) {
    t.a.publish({ kind: "resource_updated", uri: `a://${i}` });
    c.publish({ kind: "resource_updated", uri: `c://${i}` });
  }
  await Promise.all([t.a.flush(), c.flush()]);
  assertEquals((await t.kv.a.get<{ seq: number }>(keys.busHead())).value?.seq, 20);
  await t.pollerB.poll();
  const uris = onB.map((e) => (e as { uri: string }).uri);
  assertEquals(uris.filter((u) => u.startsWith("a://")).length, 10);
  assertEquals(uris.filter((u) => u.startsWith("c://")).length, 10, "c's own events reach b too");
});

Deno.test("KvEventBus gives a new listener what was published since it subscribed, nothing older", async () => {
  await using t = await twoInstances();
  const clock = { now: 1_000 };
  const a = new KvEventBus(t.kv.a, t.pollerA, "instance-a", { now: () => clock.now });
  const b = new KvEventBus(t.kv.b, t.pollerB, "instance-b", { now: () => clock.now });
  a.publish({ kind: "tools_list_changed" }); // before b listens
  await a.flush();
  clock.now = 2_000;
  const onB: BusEvent[] = [];
  b.subscribe((e) => onB.push(e));
  clock.now = 3_000;
  a.publish({ kind: "resources_list_changed" }); // after b subscribed, before its first poll
  await a.flush();
  await t.pollerB.poll();
  assertEquals(onB, [{ kind: "resources_list_changed" }]);
  onB.length = 0;
  a.publish({ kind: "prompts_list_changed" });
  await a.flush();
  await t.pollerB.poll();
  assertEquals(onB, [{ kind: "prompts_list_changed" }]);
});

Deno.test("KvEventBus.sdk passes only the SDK's event kinds, and unsubscribing stops the polling", async () => {
  await using t = await twoInstances();
  const sdkEvents: ServerEvent[] = [];
  const stop = t.b.sdk.subscribe((e) => sdkEvents.push(e));
  assertEquals(t.pollerB.size, 1, "listening watches the bus head");
  t.b.publish({ kind: "session_ended", userId: "u", sessionId: "s" });
  t.b.sdk.publish({ kind: "tools_list_changed" });
  assertEquals(sdkEvents, [{ kind: "tools_list_changed" }]);
  stop();
  stop();
  assertEquals(t.pollerB.size, 0, "no listener: nothing polled");
  await t.b.flush();
});

Deno.test("KvEventBus.publishLocal(sdkOnly) reaches only the SDK's listen streams, and stays local", async () => {
  await using t = await twoInstances();
  const sdk: ServerEvent[] = [];
  const ours: BusEvent[] = [];
  const onB: BusEvent[] = [];
  t.a.sdk.subscribe((e) => sdk.push(e));
  t.a.subscribe((e) => ours.push(e));
  t.b.subscribe((e) => onB.push(e));
  await t.pollerB.poll();
  t.a.publishLocal({ kind: "tools_list_changed" }, { sdkOnly: true });
  assertEquals(sdk, [{ kind: "tools_list_changed" }]);
  assertEquals(ours, [], "2025 and SSE streams of other users are not bothered by one grant");
  await t.a.flush();
  await t.pollerB.poll();
  assertEquals(onB, [], "nothing was written to KV");
});

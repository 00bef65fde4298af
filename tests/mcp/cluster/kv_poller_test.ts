import { assertEquals, assertThrows } from "@std/assert";
import { KvPoller } from "../../../mcp/cluster/kv_poller.ts";
import { sharedKv } from "../../helpers/kv.ts";

const KEY = ["test", "doorbell"];

Deno.test("KvPoller reports the current entry first, then each change made through another handle", async () => {
  await using kv = await sharedKv();
  const poller = new KvPoller(kv.a, { intervalMs: 1000 });
  const seen: unknown[] = [];
  const stop = poller.watch(KEY, (entry) => {
    seen.push(entry.value);
  });
  try {
    await poller.poll();
    assertEquals(seen, [null], "baseline: the key does not exist yet");
    await kv.b.set(KEY, 1);
    await poller.poll();
    await poller.poll();
    assertEquals(seen, [null, 1], "one call per change, none when unchanged");
    await kv.b.set(KEY, 1);
    await poller.poll();
    assertEquals(seen, [null, 1, 1], "a rewrite with the same value is a new ring");
  } finally {
    stop();
    await poller.close();
  }
});

Deno.test("KvPoller polls on its own only while something is watched", async () => {
  await using kv = await sharedKv();
  const poller = new KvPoller(kv.a, { intervalMs: 10 });
  let calls = 0;
  const stop = poller.watch(KEY, () => {
    calls++;
  });
  const until = async (n: number) => {
    const deadline = Date.now() + 5000;
    while (calls < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  };
  await until(1);
  assertEquals(calls, 1, "the baseline, from the timer");
  await kv.b.set(KEY, "ring");
  await until(2);
  assertEquals(calls, 2, "the ring, from the timer");
  stop();
  stop();
  assertEquals(poller.size, 0);
  await kv.b.set(KEY, "after");
  await new Promise((r) => setTimeout(r, 50));
  assertEquals(calls, 2, "unwatched: no more reads");
  await poller.close();
});

Deno.test("KvPoller keeps polling when a handler throws, and refuses more than 10 keys", async () => {
  await using kv = await sharedKv();
  const poller = new KvPoller(kv.a, { intervalMs: 1000 });
  let good = 0;
  const stops = [
    poller.watch(KEY, () => {
      throw new Error("boom");
    }),
    poller.watch(KEY, () => {
      good++;
    }),
  ];
  await poller.poll();
  assertEquals(good, 1, "the second handler ran although the first threw");
  for (let i = 0; i < 9; i++) stops.push(poller.watch(["k", i], () => {}));
  assertThrows(() => poller.watch(["k", 99], () => {}), RangeError, "more than 10 keys");
  for (const stop of stops) stop();
  await poller.close();
});

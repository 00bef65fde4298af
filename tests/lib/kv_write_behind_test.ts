import { assert, assertEquals } from "@std/assert";
import { KvWriteBehind } from "../../lib/kv_write_behind.ts";

/** A KV handle counting its atomic commits. */
function counting(kv: Deno.Kv): { kv: Deno.Kv; commits: () => number } {
  let commits = 0;
  const atomic = kv.atomic.bind(kv);
  const wrapped = Object.create(kv) as Deno.Kv;
  wrapped.atomic = () => {
    const op = atomic();
    const commit = op.commit.bind(op);
    op.commit = () => {
      commits++;
      return commit();
    };
    return op;
  };
  return { kv: wrapped, commits: () => commits };
}

Deno.test("KvWriteBehind: many sets from many callers go out in one commit; close() writes what is queued", async () => {
  using kv = await Deno.openKv(":memory:");
  const { kv: wrapped, commits } = counting(kv);
  const store = new KvWriteBehind(wrapped);
  for (let i = 0; i < 100; i++) store.set(["t", i], { i }, { expireIn: 60_000 });
  assertEquals((await kv.get(["t", 0])).value, null, "nothing written before the flush");
  await store.close();
  assertEquals(commits(), 1);
  assertEquals((await kv.get<{ i: number }>(["t", 99])).value, { i: 99 });
});

Deno.test("KvWriteBehind: later sets of a key win, across batches", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new KvWriteBehind(kv);
  store.set(["k"], 1, { expireIn: 60_000 });
  const first = store.flush();
  store.set(["k"], 2, { expireIn: 60_000 });
  await Promise.all([first, store.flush()]);
  assertEquals((await kv.get(["k"])).value, 2);
});

Deno.test("KvWriteBehind: a value KV could not hold is refused at once, and the timer flushes on its own", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new KvWriteBehind(kv);
  assertEquals(store.set(["big"], "x".repeat(70_000), { expireIn: 60_000 }), false);
  assert(store.set(["small"], "x", { expireIn: 60_000 }));
  for (let i = 0; i < 40 && (await kv.get(["small"])).value === null; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assertEquals((await kv.get(["small"])).value, "x");
  await store.close();
});

Deno.test("KvWriteBehind refuses a value KV could not hold, counting two bytes a character beyond Latin-1", async () => {
  using kv = await Deno.openKv(":memory:");
  const store = new KvWriteBehind(kv);
  // 33,000 characters: under 64 KiB as JSON text, about 66 KB as KV serializes it.
  assertEquals(store.set(["wide"], "中".repeat(33_000), { expireIn: 60_000 }), false);
  assert(store.set(["narrow"], "x".repeat(60_000), { expireIn: 60_000 }));
  await store.close();
  assertEquals((await kv.get<string>(["narrow"])).value?.length, 60_000);
});

Deno.test("KvWriteBehind: a record KV refuses as too large loses only itself, not the others of its commit", async () => {
  using kv = await Deno.openKv(":memory:");
  const lost: number[] = [];
  const store = new KvWriteBehind(kv, { onError: (_err, count) => lost.push(count) });
  for (let i = 0; i < 10; i++) store.set(["ok", i], { i }, { expireIn: 60_000 });
  // Understated on purpose (a caller's own `bytes`): KV refuses it at commit time.
  store.set(["bad"], "中".repeat(40_000), { expireIn: 60_000, bytes: 100 });
  for (let i = 10; i < 20; i++) store.set(["ok", i], { i }, { expireIn: 60_000 });
  await store.close();
  assertEquals(lost, [1]);
  const kept = await Array.fromAsync(kv.list({ prefix: ["ok"] }));
  assertEquals(kept.length, 20);
  assertEquals((await kv.get(["bad"])).value, null);
});

import { assertEquals, assertRejects } from "@std/assert";
import { isLocked, retryLocked, retryOnLock } from "../../lib/kv_retry.ts";

Deno.test("retryLocked() retries 'database is locked' and nothing else", async () => {
  let calls = 0;
  const value = await retryLocked(() => {
    calls++;
    if (calls < 3) return Promise.reject(new TypeError("database is locked"));
    return Promise.resolve("done");
  });
  assertEquals([value, calls], ["done", 3]);
  let other = 0;
  await assertRejects(
    () =>
      retryLocked(() => {
        other++;
        return Promise.reject(new TypeError("Bad resource ID"));
      }),
    TypeError,
    "Bad resource ID",
  );
  assertEquals(other, 1, "other errors are not retried");
  assertEquals(isLocked(new Error("SQLITE: database is locked")), true);
});

Deno.test("retryOnLock(): contended check-and-set from three handles on one file loses no update and throws nothing", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kv.sqlite3`;
  const handles = await Promise.all(
    [1, 2, 3].map(async () => retryOnLock(await Deno.openKv(path))),
  );
  try {
    let committed = 0;
    await Promise.all(handles.flatMap((kv) =>
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 25; i++) {
          const head = await kv.get<number>(["head"]);
          const result = await kv.atomic().check(head).set(["head"], (head.value ?? 0) + 1)
            .commit();
          if (result.ok) committed++;
        }
      })
    ));
    const final = await handles[0]!.get<number>(["head"]);
    assertEquals(final.value, committed, "every committed increment is there, none twice");
  } finally {
    for (const kv of handles) kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

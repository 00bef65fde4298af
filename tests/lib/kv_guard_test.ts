import { assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { RequestError, StorageError } from "../../lib/errors.ts";
import { guardKv, translate } from "../../lib/kv_guard.ts";

Deno.test("guardKv() turns a failing KV into StorageError kv_failed on every operation", async () => {
  const raw = await Deno.openKv(":memory:");
  const kv = guardKv(raw);
  raw.close();
  for (
    const op of [
      () => kv.get(["a"]),
      () => kv.getMany([["a"]]),
      () => kv.set(["a"], 1),
      () => kv.delete(["a"]),
      () => kv.atomic().set(["a"], 1).commit(),
      () => Array.fromAsync(kv.list({ prefix: ["a"] })),
    ]
  ) {
    const err = await assertRejects(op);
    assertInstanceOf(err, StorageError);
    assertEquals(err.code, "kv_failed");
  }
});

Deno.test("guardKv() answers a value over KV's 64 KiB limit as a 400 field_too_large, not storage", async () => {
  using raw = await Deno.openKv(":memory:");
  const kv = guardKv(raw);
  for (
    const op of [
      () => kv.set(["a"], "x".repeat(70_000)),
      () => kv.atomic().set(["a"], "x".repeat(70_000)).commit(),
    ]
  ) {
    const err = await assertRejects(op);
    assertInstanceOf(err, RequestError);
    assertEquals([err.code, err.status], ["field_too_large", 400]);
  }
  // The guard changes nothing when KV is well.
  await kv.atomic().set(["a"], 1).sum(["n"], 1n).commit();
  assertEquals((await kv.get(["a"])).value, 1);
  assertEquals((await Array.fromAsync(kv.list({ prefix: [] }))).length, 2);
});

Deno.test("translate() maps SQLite trouble reported as TypeError to StorageError, keeps other TypeErrors", () => {
  assertInstanceOf(translate(new TypeError("disk I/O error")), StorageError);
  assertInstanceOf(
    translate(new TypeError("Can not write to a read-only database.")),
    StorageError,
  );
  const bug = new TypeError("Invalid key part");
  assertEquals(translate(bug), bug);
});

Deno.test("guardKv() gives up on an operation that does not settle in time (kv_timeout)", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kv.sqlite3`;
  const first = await Deno.openKv(path);
  await first.set(["x"], 1);
  first.close();
  const locker = new Deno.Command("python3", {
    args: [
      "-c",
      "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\nsys.stdin.read()\nc.execute('COMMIT')",
      path,
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  let raw: Deno.Kv | undefined;
  try {
    const reader = locker.stdout.pipeThrough(new TextDecoderStream()).getReader();
    await reader.read();
    reader.releaseLock();
    // A handle opened while the lock is held waits for it on its first read (measured: as long as
    // the lock lasts).
    raw = await Deno.openKv(path);
    const kv = guardKv(raw, { timeoutMs: 300 });
    const err = await assertRejects(() => kv.get(["x"]));
    assertInstanceOf(err, StorageError);
    assertEquals(err.code, "kv_timeout");
  } finally {
    await locker.stdin.close();
    await locker.status;
    await locker.stdout.cancel().catch(() => {});
    raw?.close(); // after the lock is gone: closing waits for the read still queued behind it
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

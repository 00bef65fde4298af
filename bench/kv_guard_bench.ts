/**
 * What the KV guard (a deadline and error translation on every operation) costs: the same `get` and
 * atomic commit on one in-memory KV, raw (baseline) and through `guardKv`.
 *
 * @module
 */
import { guardKv } from "../lib/kv_guard.ts";

const raw = await Deno.openKv(":memory:");
const guarded = guardKv(raw);
await raw.set(["bench", "key"], { value: "x".repeat(200) });

Deno.bench({ name: "kv.get, raw", group: "get", baseline: true }, async () => {
  await raw.get(["bench", "key"]);
});
Deno.bench({ name: "kv.get, guarded", group: "get" }, async () => {
  await guarded.get(["bench", "key"]);
});
Deno.bench({ name: "atomic commit, raw", group: "commit", baseline: true }, async () => {
  await raw.atomic().set(["bench", "n"], 1).commit();
});
Deno.bench({ name: "atomic commit, guarded", group: "commit" }, async () => {
  await guarded.atomic().set(["bench", "n"], 1).commit();
});

globalThis.addEventListener("unload", () => raw.close());

import { assertEquals, assertNotEquals } from "@std/assert";
import type { BusEvent } from "../../../mcp/cluster/bus.ts";
import { KvEventBus } from "../../../mcp/cluster/bus.ts";
import { announceCatalog, catalogFingerprint } from "../../../mcp/cluster/catalog.ts";
import { KvPoller } from "../../../mcp/cluster/kv_poller.ts";
import { TOOLS } from "../../../mcp/tools/mod.ts";
import { sharedKv } from "../../helpers/kv.ts";

Deno.test("catalogFingerprint() is stable and changes with any tool's description or schema", async () => {
  const base = await catalogFingerprint();
  assertEquals(await catalogFingerprint(), base);
  assertEquals(await catalogFingerprint([...TOOLS].reverse()), base, "order does not matter");
  const [first, ...rest] = TOOLS;
  const edited = [{ ...first!, description: `${first!.description}!` }, ...rest];
  assertNotEquals(await catalogFingerprint(edited), base);
  assertNotEquals(await catalogFingerprint(rest), base, "a removed tool changes it");
});

Deno.test("announceCatalog(): a new deployment's catalog reaches listeners on the old instances, once", async () => {
  await using kv = await sharedKv();
  const oldPoller = new KvPoller(kv.a, { intervalMs: 60_000 });
  const newPoller = new KvPoller(kv.b, { intervalMs: 60_000 });
  const oldBus = new KvEventBus(kv.a, oldPoller, "old");
  const newBus = new KvEventBus(kv.b, newPoller, "new");
  try {
    assertEquals(
      await announceCatalog(kv.a, oldBus, "v1"),
      false,
      "first deployment: no one to tell",
    );
    const heard: BusEvent[] = [];
    oldBus.subscribe((e) => heard.push(e));
    await oldPoller.poll();
    assertEquals(await announceCatalog(kv.b, newBus, "v1"), false, "same catalog: silent");
    assertEquals(await announceCatalog(kv.b, newBus, "v2"), true);
    assertEquals(await announceCatalog(kv.b, newBus, "v2"), false, "announced once");
    await newBus.flush();
    await oldPoller.poll();
    assertEquals(heard, [{ kind: "tools_list_changed" }]);
  } finally {
    await oldPoller.close();
    await newPoller.close();
  }
});

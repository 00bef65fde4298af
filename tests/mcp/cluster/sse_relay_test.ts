import { assert, assertEquals } from "@std/assert";
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { keys } from "../../../lib/kv_keys.ts";
import { KvPoller } from "../../../mcp/cluster/kv_poller.ts";
import { SseRelay } from "../../../mcp/cluster/sse_relay.ts";
import { sharedKv } from "../../helpers/kv.ts";
import { waitFor } from "../../helpers/mcp_clients.ts";

const MESSAGE: JSONRPCMessage = { jsonrpc: "2.0", id: 7, result: { content: [] } };

/** A holder (instance "h", with stream "s1" open) and a sender ("x"), each on its own KV handle. */
async function relays(options: { holderListens?: boolean; timeoutMs?: number } = {}) {
  const kv = await sharedKv();
  const received: { sessionId: string; messages: JSONRPCMessage[] }[] = [];
  const holderPoller = new KvPoller(kv.a, { intervalMs: 20 });
  const holder = new SseRelay(kv.a, holderPoller, "h", {
    isOpen: (sessionId) => sessionId === "s1",
    write: (sessionId, messages) => {
      received.push({ sessionId, messages });
      return true;
    },
  });
  if (options.holderListens ?? true) holder.setListening(true);
  const senderPoller = new KvPoller(kv.b, { intervalMs: 20 });
  const sender = new SseRelay(kv.b, senderPoller, "x", {
    isOpen: () => false,
    write: () => false,
  }, {
    timeoutMs: options.timeoutMs ?? 5000,
  });
  return {
    kv,
    holder,
    sender,
    received,
    async [Symbol.asyncDispose]() {
      holder.setListening(false);
      await holderPoller.close();
      await senderPoller.close();
      await kv[Symbol.asyncDispose]();
    },
  };
}

async function outboxSize(kv: Deno.Kv, instance: string): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: keys.sseOutboxes(instance) })) n++;
  for await (const _ of kv.list({ prefix: ["mcp", "sse_chunk", instance] })) n++;
  return n;
}

Deno.test("SseRelay.send() delivers to the holder's stream through KV and resolves delivered", async () => {
  await using t = await relays();
  assertEquals(await t.sender.send("h", "s1", [MESSAGE]), "delivered");
  // "delivered" means claimed; the holder writes right after its claim commits.
  await waitFor(() => t.received.length === 1);
  assertEquals(t.received, [{ sessionId: "s1", messages: [MESSAGE] }]);
  assertEquals(await outboxSize(t.kv.a, "h"), 0, "the outbox is empty again");
});

Deno.test("SseRelay carries a 1 MB result in 60 KB chunks, intact", async () => {
  await using t = await relays();
  const data = Array.from({ length: 1_000_000 }, (_, i) => "abcdefghij"[i % 10]).join("");
  const big: JSONRPCMessage = {
    jsonrpc: "2.0",
    id: 1,
    result: { content: [{ type: "image", data, mimeType: "image/png" }] },
  };
  assertEquals(await t.sender.send("h", "s1", [MESSAGE, big]), "delivered");
  await waitFor(() => t.received.length === 1);
  assertEquals(t.received[0]!.messages, [MESSAGE, big]);
  assertEquals(await outboxSize(t.kv.a, "h"), 0, "chunks are deleted");
});

Deno.test("SseRelay.send() resolves gone when the holder has no such stream", async () => {
  await using t = await relays();
  assertEquals(await t.sender.send("h", "s-unknown", [MESSAGE]), "gone");
  assertEquals(t.received, []);
  assertEquals(await outboxSize(t.kv.a, "h"), 0);
});

Deno.test("SseRelay.send() times out and withdraws the entry when the holder is dead", async () => {
  await using t = await relays({ holderListens: false, timeoutMs: 300 });
  const big = { jsonrpc: "2.0", id: 2, result: { text: "x".repeat(200_000) } } as JSONRPCMessage;
  assertEquals(await t.sender.send("h", "s1", [big]), "timeout");
  assertEquals(
    await outboxSize(t.kv.a, "h"),
    0,
    "nothing is left behind for a holder that returns",
  );
  await t.holder.drain();
  assertEquals(t.received, [], "a late holder does not deliver a withdrawn reply");
});

Deno.test("SseRelay delivers concurrent sends to one stream, each once", async () => {
  await using t = await relays();
  const ids = [1, 2, 3];
  const outcomes = await Promise.all(
    ids.map((id) => t.sender.send("h", "s1", [{ jsonrpc: "2.0", id, result: {} }])),
  );
  assertEquals(outcomes, ["delivered", "delivered", "delivered"]);
  await waitFor(() => t.received.length === 3);
  const got = t.received.flatMap((r) => r.messages.map((m) => (m as { id: number }).id));
  assertEquals(got.toSorted(), ids);
  assert(t.received.every((r) => r.sessionId === "s1"));
});

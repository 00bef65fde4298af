import { assertEquals } from "@std/assert";
import { readMessages } from "../../mcp/dispatch.ts";

Deno.test("readMessages() reads SSE-framed, JSON and empty legacy-leg responses", async () => {
  const progress = {
    jsonrpc: "2.0" as const,
    method: "notifications/progress",
    params: { progressToken: 1, progress: 1 },
  };
  const result = { jsonrpc: "2.0" as const, id: 1, result: { ok: true } };
  const sse = new Response(
    `event: message\ndata: ${JSON.stringify(progress)}\n\nevent: message\ndata: ${
      JSON.stringify(result)
    }\n\n`,
    { headers: { "content-type": "text/event-stream" } },
  );
  assertEquals(await readMessages(sse), [progress, result]);
  const json = Response.json(result);
  assertEquals(await readMessages(json), [result]);
  assertEquals(await readMessages(Response.json([result, result])), [result, result]);
  assertEquals(await readMessages(new Response(null, { status: 202 })), []);
});

import { assertEquals, assertStringIncludes } from "@std/assert";
import { signIn } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

async function openSse(base: string, token: string): Promise<Response> {
  return await fetch(`${base}/sse`, {
    headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
  });
}

async function initialize(base: string, token: string): Promise<Response> {
  return await fetch(`${base}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "t", version: "1" },
      },
    }),
  });
}

Deno.test("one grant may hold MAX_STREAMS_PER_GRANT streams; the next is a JSON-RPC 429 until one closes", async () => {
  await using server = await startTestServer({
    MAX_STREAMS_PER_GRANT: "2",
    MAX_SESSIONS_PER_GRANT: "100",
  });
  const sse = { resource: `${server.url}/sse` };
  const { accessToken } = await signIn(server.url, "alice@example.com", sse);
  const first = await openSse(server.url, accessToken);
  const second = await openSse(server.url, accessToken);
  assertEquals([first.status, second.status], [200, 200]);
  const third = await openSse(server.url, accessToken);
  assertEquals(third.status, 429);
  assertEquals(third.headers.get("retry-after"), "5");
  const body = await third.json();
  assertEquals(body.error.code, -32000);
  assertStringIncludes(body.error.message, "MAX_STREAMS_PER_GRANT=2");
  // Another grant (another sign-in) is not affected.
  const other = await signIn(server.url, "bob@example.com", sse);
  const theirs = await openSse(server.url, other.accessToken);
  assertEquals(theirs.status, 200);
  // Closing a stream frees its place.
  await first.body!.cancel();
  let again: Response | undefined;
  for (let i = 0; i < 50; i++) {
    again = await openSse(server.url, accessToken);
    if (again.status === 200) break;
    await again.body?.cancel();
    await new Promise((r) => setTimeout(r, 20));
  }
  assertEquals(again!.status, 200);
  for (const res of [second, theirs, again!]) await res.body!.cancel();
});

Deno.test("one grant may hold MAX_SESSIONS_PER_GRANT live sessions; the next initialize is a 429", async () => {
  await using server = await startTestServer({ MAX_SESSIONS_PER_GRANT: "2" });
  const { accessToken } = await signIn(server.url, "alice@example.com");
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await initialize(server.url, accessToken);
    assertEquals(res.status, 200);
    ids.push(res.headers.get("mcp-session-id")!);
    await res.body?.cancel();
  }
  const refused = await initialize(server.url, accessToken);
  assertEquals(refused.status, 429);
  assertStringIncludes((await refused.json()).error.message, "MAX_SESSIONS_PER_GRANT=2");
  // Ending one (DELETE) makes room.
  const del = await fetch(`${server.url}/mcp`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${accessToken}`, "mcp-session-id": ids[0]! },
  });
  assertEquals(del.status, 200);
  await del.body?.cancel();
  const ok = await initialize(server.url, accessToken);
  assertEquals(ok.status, 200);
  await ok.body?.cancel();
});

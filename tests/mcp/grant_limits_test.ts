import { assertEquals, assertStringIncludes } from "@std/assert";
import { INITIALIZE, postMcp } from "../helpers/mcp_clients.ts";
import { signIn } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

async function openSse(base: string, token: string): Promise<Response> {
  return await fetch(`${base}/sse`, {
    headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
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
    const res = await postMcp(server.url, accessToken, INITIALIZE);
    assertEquals(res.status, 200);
    ids.push(res.headers.get("mcp-session-id")!);
  }
  const refused = await postMcp(server.url, accessToken, INITIALIZE);
  assertEquals(refused.status, 429);
  assertStringIncludes(
    (refused.message?.error as { message: string }).message,
    "MAX_SESSIONS_PER_GRANT=2",
  );
  // Ending one (DELETE) makes room.
  const del = await fetch(`${server.url}/mcp`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${accessToken}`, "mcp-session-id": ids[0]! },
  });
  assertEquals(del.status, 200);
  await del.body?.cancel();
  assertEquals((await postMcp(server.url, accessToken, INITIALIZE)).status, 200);
});

/**
 * 2025 Streamable HTTP `GET` streams are resumable (2025-11-25 §Resumability): they start with a priming
 * event and `retry:`, carry event ids, and a client reconnecting with `Last-Event-ID` gets the
 * `tools/list_changed` it missed while it was away.
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { openSession } from "../helpers/mcp_clients.ts";
import { signIn } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

/** Opens the session's GET stream; resolves to a reader of raw SSE text. */
async function openGet(base: string, token: string, session: string, lastEventId?: string) {
  const res = await fetch(`${base}/mcp`, {
    headers: {
      authorization: `Bearer ${token}`,
      accept: "text/event-stream",
      "mcp-session-id": session,
      "mcp-protocol-version": "2025-11-25",
      ...(lastEventId ? { "last-event-id": lastEventId } : {}),
    },
  });
  assertEquals(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    /** Reads until `text` has arrived (or `ms` passed); resolves to everything read so far. */
    async until(pattern: RegExp, ms = 3000): Promise<string> {
      const deadline = Date.now() + ms;
      while (!pattern.test(buffer) && Date.now() < deadline) {
        const timer = new Promise<null>((r) => setTimeout(() => r(null), deadline - Date.now()));
        const next = await Promise.race([reader.read(), timer]);
        if (next === null || next.done) break;
        buffer += next.value;
      }
      return buffer;
    },
    async close() {
      await reader.cancel();
    },
  };
}

Deno.test("GET /mcp starts with a priming event: an id, retry: and empty data", async () => {
  await using server = await startTestServer();
  const { accessToken } = await signIn(server.url, "alice@example.com");
  const session = await openSession(server.url, accessToken);
  const stream = await openGet(server.url, accessToken, session);
  try {
    const text = await stream.until(/data: \n\n/);
    assertMatch(text, /^id: \d+\nretry: 1000\ndata: \n\n/);
  } finally {
    await stream.close();
  }
});

Deno.test("GET /mcp resumed with Last-Event-ID gets the list_changed published while it was away", async () => {
  await using server = await startTestServer();
  const { accessToken } = await signIn(server.url, "alice@example.com");
  const session = await openSession(server.url, accessToken);
  const first = await openGet(server.url, accessToken, session);
  const primed = /^id: (\d+)\n/.exec(await first.until(/data: \n\n/))![1]!;
  await first.close();

  server.service.mcp.bus.publish({ kind: "tools_list_changed" }); // nobody is listening now
  await server.service.mcp.bus.flush();

  const plain = await openGet(server.url, accessToken, session);
  const withoutId = await plain.until(/list_changed/, 700);
  await plain.close();
  assert(!withoutId.includes("list_changed"), "a fresh stream has nothing to replay");

  const resumed = await openGet(server.url, accessToken, session, primed);
  const text = await resumed.until(/list_changed/);
  await resumed.close();
  assertMatch(text, /^id: \d+\nretry: 1000\ndata: \n\n/);
  assertMatch(text, /id: \d+\nevent: message\ndata: .*notifications\/tools\/list_changed/);

  // Resuming from the latest id again replays nothing.
  const latest = [...text.matchAll(/id: (\d+)/g)].at(-1)![1]!;
  const again = await openGet(server.url, accessToken, session, latest);
  const none = await again.until(/list_changed/, 700);
  await again.close();
  assert(!none.includes("list_changed"));
});

Deno.test("GET /mcp resumed with an unreadable Last-Event-ID gets list_changed rather than nothing", async () => {
  await using server = await startTestServer();
  const { accessToken } = await signIn(server.url, "alice@example.com");
  const session = await openSession(server.url, accessToken);
  const stream = await openGet(server.url, accessToken, session, "not-an-id");
  const text = await stream.until(/list_changed/);
  await stream.close();
  assertMatch(text, /notifications\/tools\/list_changed/);
});

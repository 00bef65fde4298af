/**
 * 2025 Streamable HTTP `GET` streams are resumable (2025-11-25 §Resumability): they start with a priming
 * event and `retry:`, carry event ids, and a client reconnecting with `Last-Event-ID` gets the
 * `tools/list_changed` it missed while it was away. SSE responses to POSTs likewise: a client that lost
 * the connection before the result gets it by resuming.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { INITIALIZE, openSession, postMcp } from "../helpers/mcp_clients.ts";
import { sdkSignIn, signIn } from "../helpers/oauth.ts";
import {
  Client,
  StreamableHTTPClientTransport,
  ToolListChangedNotificationSchema,
} from "../helpers/sdk_v1.ts";
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

  await server.service.mcp.announceToolsChanged(); // nobody is listening now

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

/** POSTs `add` in `session`; resolves to the raw SSE reader of the response. */
async function postAdd(base: string, token: string, session: string, id = 7) {
  const res = await fetch(`${base}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-session-id": session,
      "mcp-protocol-version": "2025-11-25",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name: "add", arguments: { a: 2, b: 3 } },
    }),
  });
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "text/event-stream");
  return res.body!.pipeThrough(new TextDecoderStream()).getReader();
}

Deno.test("POST /mcp answers a 2025-11-25 session with a priming event, then the result with an id", async () => {
  await using server = await startTestServer();
  const { accessToken } = await signIn(server.url, "alice@example.com");
  const session = await openSession(server.url, accessToken);
  const reader = await postAdd(server.url, accessToken, session);
  let text = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
  assertMatch(text, /^id: p\.[A-Za-z0-9_.-]+\.0\nretry: 1000\ndata: \n\n/);
  assertMatch(text, /id: p\.[A-Za-z0-9_.-]+\.1\nevent: message\ndata: \{.*"result":.*"text":"5"/);
});

Deno.test("a POST whose connection dropped before the result: GET with Last-Event-ID gets it", async () => {
  await using server = await startTestServer();
  const { accessToken } = await signIn(server.url, "alice@example.com");
  const session = await openSession(server.url, accessToken);
  const reader = await postAdd(server.url, accessToken, session);
  let text = "";
  while (!text.includes("data: \n\n")) text += (await reader.read()).value ?? "";
  const primed = /^id: (p\.[A-Za-z0-9_.-]+\.0)\n/.exec(text)![1]!;
  await reader.cancel(); // the connection is gone before the result was read
  const resumed = await openGet(server.url, accessToken, session, primed);
  const replay = await resumed.until(/"text":"5"/);
  await resumed.close();
  assertMatch(replay, /^id: p\.[A-Za-z0-9_.-]+\.1\nevent: message\ndata: \{.*"result":/);
  assertMatch(replay, /"id":7/);
  assert(!replay.includes("list_changed"), "a POST stream's replay, not the session's GET stream");

  // Nothing after the last event of a finished stream: 204, so the client stops resuming.
  const last = primed.replace(/\.0$/, ".1");
  const done = await fetch(`${server.url}/mcp`, {
    headers: {
      authorization: `Bearer ${accessToken}`,
      accept: "text/event-stream",
      "mcp-session-id": session,
      "mcp-protocol-version": "2025-11-25",
      "last-event-id": last,
    },
  });
  assertEquals(done.status, 204);
  assertEquals(await done.text(), "");
});

Deno.test("GET /mcp refuses a POST stream id of another session with 400", async () => {
  await using server = await startTestServer();
  const { accessToken } = await signIn(server.url, "alice@example.com");
  const mine = await openSession(server.url, accessToken);
  const other = await openSession(server.url, accessToken);
  const reader = await postAdd(server.url, accessToken, mine);
  let text = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
  const id = /^id: (p\.[A-Za-z0-9_.-]+\.0)\n/.exec(text)![1]!;
  const res = await fetch(`${server.url}/mcp`, {
    headers: {
      authorization: `Bearer ${accessToken}`,
      accept: "text/event-stream",
      "mcp-session-id": other,
      "mcp-protocol-version": "2025-11-25",
      "last-event-id": id,
    },
  });
  assertEquals(res.status, 400);
  await res.body?.cancel();
});

Deno.test("POST /mcp answers an older (2025-06-18) session without priming or ids", async () => {
  await using server = await startTestServer();
  const { accessToken } = await signIn(server.url, "alice@example.com");
  const init = await postMcp(server.url, accessToken, {
    ...INITIALIZE,
    params: { ...INITIALIZE.params, protocolVersion: "2025-06-18" },
  });
  const session = init.headers.get("mcp-session-id")!;
  const res = await fetch(`${server.url}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${accessToken}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-session-id": session,
      "mcp-protocol-version": "2025-06-18",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  const text = await res.text();
  assert(!text.includes("id: p."), text);
  assertStringIncludes(text, '"tools"');
});

Deno.test("a v1 SDK client given an error response on a resumable POST stream does not keep resuming", async () => {
  await using server = await startTestServer();
  const mcp = `${server.url}/mcp`;
  const provider = await sdkSignIn(mcp, "alice@example.com");
  const gets: Array<string | null> = [];
  const counting: typeof fetch = (input, init) => {
    if (init?.method === "GET") gets.push(new Headers(init.headers).get("last-event-id"));
    return fetch(input, init);
  };
  const client = new Client({ name: "v1-errors", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(mcp), { authProvider: provider, fetch: counting }),
  );
  try {
    const err = await assertRejects(() =>
      client.request({ method: "no/such/method", params: {} }, ToolListChangedNotificationSchema)
    );
    assertStringIncludes(String(err), "-32601");
    const before = gets.length; // the standalone GET stream
    await new Promise((r) => setTimeout(r, 3500)); // three retry: intervals
    const after = gets.slice(before);
    // One resumption of the POST stream (v1 does not count an error as the response), answered 204;
    // then nothing: no resumption loop, no new standalone stream displacing the first.
    assert(after.length <= 1, `GETs after the error: ${JSON.stringify(after)}`);
    assert(after.every((id) => id?.startsWith("p.")), JSON.stringify(after));
    assertEquals((await client.listTools()).tools.length > 0, true); // the session goes on
  } finally {
    await client.close();
  }
});

import { assert, assertEquals, assertExists, assertMatch } from "@std/assert";
import { keys } from "../../lib/kv_keys.ts";
import type { SessionRecord } from "../../mcp/sessions.ts";
import { grantIdOf, INITIALIZE, openSession, postMcp, requestMcp } from "../helpers/mcp_clients.ts";
import { signIn } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";
import { toolNames } from "../helpers/tools.ts";

const LIST = { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} };
const V = { "mcp-protocol-version": "2025-11-25" };

Deno.test("/mcp initialize opens a session bound to the user, client and grant in KV", async () => {
  await using server = await startTestServer();
  const alice = await signIn(server.url, "alice@example.com");
  const id = await openSession(server.url, alice.accessToken);
  assertMatch(id, /^[\x21-\x7e]{32,}$/);

  const users = [];
  for await (const e of server.kv.list<SessionRecord>({ prefix: ["mcp", "session"] })) {
    users.push(e);
  }
  assertEquals(users.length, 1);
  const record = users[0]!.value;
  assertEquals(users[0]!.key[3], id);
  assertEquals(record.id, id);
  assert(record.userId.startsWith("user_"));
  assertEquals(record.clientId, alice.clientId);
  assertEquals(record.grantId, grantIdOf(alice.accessToken));
  assertEquals(record.protocolVersion, "2025-11-25");
  assertEquals(record.clientInfo, { name: "raw-test", version: "1.0.0" });
  assertEquals(record.clientCapabilities, {});
  assert(record.createdAt > 0 && record.lastSeenAt >= record.createdAt);

  const list = await postMcp(server.url, alice.accessToken, LIST, { ...V, "mcp-session-id": id });
  assertEquals(list.status, 200);
  assertEquals(
    (list.message?.result as { tools: { name: string }[] }).tools.map((t) => t.name),
    toolNames(["image_generation"]),
  );
});

Deno.test("/mcp refuses alice's session with bob's token (404) and keeps it for alice", async () => {
  await using server = await startTestServer();
  const alice = await signIn(server.url, "alice@example.com");
  const bob = await signIn(server.url, "bob@example.com");
  const id = await openSession(server.url, alice.accessToken);

  const stolen = await postMcp(server.url, bob.accessToken, LIST, { ...V, "mcp-session-id": id });
  assertEquals(stolen.status, 404);
  assertEquals((stolen.message?.error as { code: number }).code, -32001);
  const stream = await requestMcp(server.url, "GET", bob.accessToken, {
    ...V,
    accept: "text/event-stream",
    "mcp-session-id": id,
  });
  assertEquals(stream.status, 404);
  assertEquals(
    (await requestMcp(server.url, "DELETE", bob.accessToken, { ...V, "mcp-session-id": id }))
      .status,
    404,
  );

  const own = await postMcp(server.url, alice.accessToken, LIST, { ...V, "mcp-session-id": id });
  assertEquals(own.status, 200);
});

Deno.test("/mcp binds a session to the client: alice through another client gets 404", async () => {
  await using server = await startTestServer();
  const first = await signIn(server.url, "alice@example.com");
  const second = await signIn(server.url, "alice@example.com");
  const id = await openSession(server.url, first.accessToken);
  const other = await postMcp(server.url, second.accessToken, LIST, { ...V, "mcp-session-id": id });
  assertEquals(other.status, 404);
});

Deno.test("/mcp never lets a session id stand in for a token (401)", async () => {
  await using server = await startTestServer();
  const alice = await signIn(server.url, "alice@example.com");
  const id = await openSession(server.url, alice.accessToken);
  const res = await postMcp(server.url, null, LIST, { ...V, "mcp-session-id": id });
  assertEquals(res.status, 401);
  assertExists(res.headers.get("www-authenticate"));
});

Deno.test("/mcp answers 400 without Mcp-Session-Id and 404 for an unknown one", async () => {
  await using server = await startTestServer();
  const { accessToken } = await signIn(server.url, "bob@example.com");
  const missing = await postMcp(server.url, accessToken, LIST, V);
  assertEquals(missing.status, 400);
  assertEquals((missing.message?.error as { code: number }).code, -32000);
  assertEquals(
    (await requestMcp(server.url, "GET", accessToken, { accept: "text/event-stream" })).status,
    400,
  );
  assertEquals((await requestMcp(server.url, "DELETE", accessToken)).status, 400);

  const unknown = await postMcp(server.url, accessToken, LIST, {
    ...V,
    "mcp-session-id": "x".repeat(43),
  });
  assertEquals(unknown.status, 404);
  const junk = await postMcp(server.url, accessToken, LIST, {
    ...V,
    "mcp-session-id": "not a session",
  });
  assertEquals(junk.status, 404);
});

Deno.test("DELETE /mcp ends the session; it is then 404", async () => {
  await using server = await startTestServer();
  const { accessToken } = await signIn(server.url, "bob@example.com");
  const id = await openSession(server.url, accessToken);
  const del = await requestMcp(server.url, "DELETE", accessToken, { ...V, "mcp-session-id": id });
  assertEquals(del.status, 200);
  assertEquals(
    (await postMcp(server.url, accessToken, LIST, { ...V, "mcp-session-id": id })).status,
    404,
  );
  assertEquals(
    (await requestMcp(server.url, "DELETE", accessToken, { ...V, "mcp-session-id": id })).status,
    404,
  );
  assertEquals((await server.kv.get(keys.mcpSession("any", id))).value, null);
});

Deno.test("/mcp refuses a foreign Origin with 403 and accepts PUBLIC_URL's and ALLOWED_ORIGINS", async () => {
  await using server = await startTestServer({ ALLOWED_ORIGINS: "https://app.example.com" });
  const { accessToken } = await signIn(server.url, "bob@example.com");
  const evil = await postMcp(server.url, accessToken, INITIALIZE, {
    origin: "https://evil.example",
  });
  assertEquals(evil.status, 403);
  assertEquals(evil.message, {
    jsonrpc: "2.0",
    id: null,
    error: { code: -32000, message: "Forbidden: Origin not allowed" },
  });
  assertEquals(
    (await postMcp(server.url, null, INITIALIZE, { origin: "https://evil.example" })).status,
    403,
  );
  assertEquals(
    (await postMcp(server.url, accessToken, INITIALIZE, { origin: "null" })).status,
    403,
  );
  assertEquals(
    (await postMcp(server.url, accessToken, INITIALIZE, { origin: server.url })).status,
    200,
  );
  assertEquals(
    (await postMcp(server.url, accessToken, INITIALIZE, { origin: "https://app.example.com" }))
      .status,
    200,
  );
  const sse = await fetch(`${server.url}/sse`, { headers: { origin: "https://evil.example" } });
  await sse.body?.cancel();
  assertEquals(sse.status, 403);
});

Deno.test("/mcp answers 400 to an unsupported MCP-Protocol-Version", async () => {
  await using server = await startTestServer();
  const { accessToken } = await signIn(server.url, "bob@example.com");
  const id = await openSession(server.url, accessToken);
  const res = await postMcp(server.url, accessToken, LIST, {
    "mcp-protocol-version": "1999-01-01",
    "mcp-session-id": id,
  });
  assertEquals(res.status, 400);
  const error = res.message?.error as { code: number; message: string };
  assertEquals(error.code, -32000);
  assertMatch(error.message, /Unsupported protocol version "1999-01-01"/);
  const get = await requestMcp(server.url, "GET", accessToken, {
    accept: "text/event-stream",
    "mcp-protocol-version": "1999-01-01",
    "mcp-session-id": id,
  });
  assertEquals(get.status, 400);
});

Deno.test("/mcp answers bad input with JSON-RPC errors, never 500", async () => {
  await using server = await startTestServer();
  const { accessToken } = await signIn(server.url, "bob@example.com");
  const notJson = await postMcp(server.url, accessToken, "{nope");
  assertEquals(notJson.status, 400);
  assertEquals((notJson.message?.error as { code: number }).code, -32700);
  const text = await postMcp(server.url, accessToken, "{}", { "content-type": "text/plain" });
  assertEquals(text.status, 415);
  const put = await requestMcp(server.url, "PUT", accessToken);
  assertEquals(put.status, 405);
  assertEquals(put.headers.get("allow"), "GET, POST, DELETE");
  const id = await openSession(server.url, accessToken);
  const badArgs = await postMcp(server.url, accessToken, {
    jsonrpc: "2.0",
    id: 7,
    method: "tools/call",
    params: { name: "add", arguments: { a: "one" } },
  }, { ...V, "mcp-session-id": id });
  assertEquals(badArgs.status, 200);
  assert(badArgs.message?.error || (badArgs.message?.result as { isError?: boolean }).isError);
  const noStream = await requestMcp(server.url, "GET", accessToken, { ...V, "mcp-session-id": id });
  assertEquals(noStream.status, 406);
});

Deno.test("/mcp closes a session idle for SESSION_IDLE_SECONDS", async () => {
  let now = Date.now();
  await using server = await startTestServer({ SESSION_IDLE_SECONDS: "60" }, { now: () => now });
  const { accessToken } = await signIn(server.url, "bob@example.com");
  const id = await openSession(server.url, accessToken);
  now += 45_000;
  assertEquals(
    (await postMcp(server.url, accessToken, LIST, { ...V, "mcp-session-id": id })).status,
    200,
  );
  now += 45_000; // 45 s since last use: still alive
  assertEquals(
    (await postMcp(server.url, accessToken, LIST, { ...V, "mcp-session-id": id })).status,
    200,
  );
  now += 61_000;
  assertEquals(
    (await postMcp(server.url, accessToken, LIST, { ...V, "mcp-session-id": id })).status,
    404,
  );
  const left = [];
  for await (const e of server.kv.list({ prefix: ["mcp", "session"] })) left.push(e);
  assertEquals(left.length, 0, "the idle session's record is deleted");
});

Deno.test("GET /mcp opens the session's event stream", async () => {
  await using server = await startTestServer();
  const { accessToken } = await signIn(server.url, "bob@example.com");
  const id = await openSession(server.url, accessToken);
  const res = await fetch(`${server.url}/mcp`, {
    headers: {
      authorization: `Bearer ${accessToken}`,
      accept: "text/event-stream",
      "mcp-session-id": id,
      ...V,
    },
  });
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "text/event-stream");
  assertEquals(res.headers.get("mcp-session-id"), id);
  await res.body?.cancel();
});

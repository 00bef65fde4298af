/**
 * The MCP runtime's actions, driven directly with web-standard `Request`s (no Hono, no socket): what
 * the `/mcp`, `/sse` and `/messages` routes hand it and what it answers or throws. The same behaviour
 * over real HTTP with real clients is specified in `streamable_http_test.ts`, `sse_test.ts` and
 * `sessions_test.ts`.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import type { Identity } from "../../auth/identity.ts";
import { loadConfig } from "../../lib/config.ts";
import { McpHttpError } from "../../mcp/jsonrpc.ts";
import { createMcpRuntime, type McpRuntime } from "../../mcp/runtime.ts";
import { SESSION_HEADER } from "../../mcp/session_http.ts";
import { MESSAGES_PATH } from "../../mcp/sse_transport.ts";
import type { ToolCallRecord } from "../../mcp/tool.ts";
import { INITIALIZE } from "../helpers/mcp_clients.ts";
import { IDENTITY } from "./tools/_context.ts";

const URL_MCP = "http://127.0.0.1/mcp";
const TOKEN = "token_test";
const ALICE = { identity: IDENTITY, accessToken: TOKEN };
const BOB = { identity: { ...IDENTITY, permissions: [] } as Identity, accessToken: TOKEN };

async function setup(env: Record<string, string> = {}) {
  const kv = await Deno.openKv(":memory:");
  const calls: ToolCallRecord[] = [];
  const mcp = createMcpRuntime({ kv, config: loadConfig(env), onToolCall: (c) => calls.push(c) });
  return {
    kv,
    mcp,
    calls,
    async [Symbol.asyncDispose]() {
      await mcp.close();
      kv.close();
    },
  };
}

function post(body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(URL_MCP, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

/** Opens a 2025 session through `mcp.post`; its id. */
async function initialize(mcp: McpRuntime): Promise<string> {
  const res = await mcp.post(post(INITIALIZE), ALICE);
  assertEquals(res.status, 200);
  await res.body?.cancel();
  const id = res.headers.get(SESSION_HEADER);
  assert(id, "initialize answers with Mcp-Session-Id");
  return id;
}

/** The headers of a 2025 request in session `id`. */
function inSession(id: string): Record<string, string> {
  return { [SESSION_HEADER]: id, "mcp-protocol-version": "2025-11-25" };
}

async function rejectsWith(promise: Promise<unknown>, status: number): Promise<McpHttpError> {
  const err = await assertRejects(() => promise, McpHttpError);
  assertEquals(err.status, status, err.message);
  return err;
}

Deno.test("McpRuntime.post() opens a 2025 session on initialize and serves tools/list in it", async () => {
  await using t = await setup();
  const id = await initialize(t.mcp);
  const list = { jsonrpc: "2.0", id: 1, method: "tools/list" };
  const headers = inSession(id);
  assert(t.mcp.takesFastPath(new Headers(post(list, headers).headers), list));
  const res = await t.mcp.post(post(list, headers), ALICE);
  assertEquals(res.status, 200);
  const body = await res.json();
  assert(body.result.tools.some((tool: { name: string }) => tool.name === "generateImage"));
});

Deno.test("McpRuntime.post() needs the session: 400 without Mcp-Session-Id, 404 for an unknown or foreign one", async () => {
  await using t = await setup();
  const ping = { jsonrpc: "2.0", id: 1, method: "ping" };
  await rejectsWith(t.mcp.post(post(ping, { "mcp-protocol-version": "2025-11-25" }), ALICE), 400);
  await rejectsWith(t.mcp.post(post(ping, inSession("nope")), ALICE), 404);
  const id = await initialize(t.mcp);
  const mallory = { ...ALICE, identity: { ...IDENTITY, grantId: "grant_mallory" } };
  await rejectsWith(t.mcp.post(post(ping, inSession(id)), mallory), 404);
  const unsupported = { ...inSession(id), "mcp-protocol-version": "1999-01-01" };
  await rejectsWith(t.mcp.post(post(ping, unsupported), ALICE), 400);
});

Deno.test("McpRuntime.post() refuses a tool the caller lacks permissions for, and reports the refusal", async () => {
  await using t = await setup();
  const id = await initialize(t.mcp);
  const call = {
    jsonrpc: "2.0",
    id: 7,
    method: "tools/call",
    params: { name: "generateImage", arguments: { prompt: "a fox" } },
  };
  const res = await t.mcp.post(post(call, inSession(id)), BOB);
  assertEquals(res.status, 200);
  const body = await res.json();
  assertEquals(body.id, 7);
  assertEquals(body.error.data.missingPermissions, ["image_generation"]);
  assertEquals(t.calls.map((c) => [c.tool, c.outcome]), [["generateImage", "refused"]]);
});

Deno.test("McpRuntime.get() needs Accept: text/event-stream and opens the session's stream; delete() ends it", async () => {
  await using t = await setup();
  const id = await initialize(t.mcp);
  const get = (accept: string) => new Request(URL_MCP, { headers: { accept, ...inSession(id) } });
  await rejectsWith(t.mcp.get(get("application/json"), ALICE), 406);
  const stream = await t.mcp.get(get("text/event-stream"), ALICE);
  assertEquals(stream.status, 200);
  assertEquals(stream.headers.get(SESSION_HEADER), id);
  assertStringIncludes(stream.headers.get("content-type") ?? "", "text/event-stream");
  assertEquals(t.mcp.openStreams().mcp, 1);
  await stream.body!.cancel();

  const del = new Request(URL_MCP, { method: "DELETE", headers: inSession(id) });
  assertEquals((await t.mcp.delete(del, ALICE)).status, 200);
  await rejectsWith(t.mcp.get(get("text/event-stream"), ALICE), 404);
});

Deno.test("McpRuntime.openSse() names MESSAGES_PATH; sseMessage() answers 202 and puts the reply on the stream", async () => {
  await using t = await setup();
  const res = await t.mcp.openSse(IDENTITY);
  assertEquals(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n\n")) text += (await reader.read()).value ?? "";
  const endpoint = /^event: endpoint\ndata: (.*)\n/.exec(text)?.[1];
  assert(endpoint?.startsWith(`${MESSAGES_PATH}?sessionId=`), text);
  const sessionId = new URL(endpoint!, URL_MCP).searchParams.get("sessionId")!;

  const ping = { jsonrpc: "2.0", id: 3, method: "ping" };
  await rejectsWith(t.mcp.sseMessage(undefined, ALICE, post(ping)), 400);
  await rejectsWith(t.mcp.sseMessage("nope", ALICE, post(ping)), 404);
  const accepted = await t.mcp.sseMessage(sessionId, ALICE, post(ping));
  assertEquals(accepted.status, 202);
  while (!text.includes('"id":3')) text += (await reader.read()).value ?? "";
  assertStringIncludes(text, '{"result":{},"jsonrpc":"2.0","id":3}');
  await reader.cancel();
});

Deno.test("McpRuntime.takesFastPath() is false for everything with MCP_FAST_PATH=off", async () => {
  await using t = await setup({ MCP_FAST_PATH: "off" });
  const list = { jsonrpc: "2.0", id: 1, method: "tools/list" };
  const request = post(list, inSession("any"));
  assertEquals(t.mcp.takesFastPath(request.headers, list), false);
  await request.body?.cancel();
});

Deno.test("McpRuntime.close() drains: draining turns true and new streams are refused with 503", async () => {
  await using t = await setup();
  const id = await initialize(t.mcp);
  assertEquals(t.mcp.draining, false);
  await t.mcp.close();
  assertEquals(t.mcp.draining, true);
  const get = new Request(URL_MCP, { headers: { accept: "text/event-stream", ...inSession(id) } });
  await rejectsWith(t.mcp.get(get, ALICE), 503);
  await rejectsWith(t.mcp.openSse(IDENTITY), 503);
});

Deno.test("post(): one caller's answer too large for KV loses no other session's kept answer", async () => {
  await using t = await setup();
  const mallory = {
    identity: { ...IDENTITY, userId: "user_mallory", grantId: "grant_mallory" } as Identity,
    accessToken: "token_mallory",
  };
  const alice = await initialize(t.mcp);
  const opened = await t.mcp.post(post(INITIALIZE), mallory);
  await opened.body?.cancel();
  const malloryId = opened.headers.get(SESSION_HEADER)!;
  const call = (id: unknown) => ({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name: "add", arguments: { a: 2, b: 3 } },
  });
  const answered = await (await t.mcp.post(post(call(1), inSession(alice)), ALICE)).text();
  const primed = /^id: (p\.\S+\.0)\n/.exec(answered)![1]!;
  // An id of 33,000 CJK characters: ~33 K as JSON text, ~66 KB as KV serializes it (over 64 KiB).
  const big = await t.mcp.post(post(call("中".repeat(33_000)), inSession(malloryId)), mallory);
  await big.body?.cancel();
  await t.mcp.flush();
  const replay = await t.mcp.get(
    new Request(URL_MCP, {
      headers: { accept: "text/event-stream", "last-event-id": primed, ...inSession(alice) },
    }),
    ALICE,
  );
  assertEquals(replay.status, 200);
  assertStringIncludes(await replay.text(), '"text":"5"');
});

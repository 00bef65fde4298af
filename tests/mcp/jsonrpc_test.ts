import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { Hono } from "hono";
import {
  assertSupportedVersion,
  forbiddenCall,
  forbiddenCallReply,
  mcpErrorHandler,
  McpHttpError,
  readJsonBody,
} from "../../mcp/jsonrpc.ts";

const call = (name: string, id: unknown = 3) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name },
});

Deno.test("forbiddenCallReply() names the missing permission of a known tool", () => {
  assertEquals(forbiddenCallReply(call("generateImage"), { permissions: [] }), {
    jsonrpc: "2.0",
    id: 3,
    error: {
      code: -32602,
      message:
        'Tool "generateImage" requires the permission "image_generation", which you do not have',
      data: { tool: "generateImage", missingPermissions: ["image_generation"] },
    },
  });
});

Deno.test("forbiddenCallReply() lets allowed, unknown and malformed calls through", () => {
  assertEquals(
    forbiddenCallReply(call("generateImage"), { permissions: ["image_generation"] }),
    null,
  );
  assertEquals(forbiddenCallReply(call("add"), { permissions: [] }), null);
  assertEquals(forbiddenCallReply(call("nope"), { permissions: [] }), null);
  assertEquals(forbiddenCallReply(call("generateImage", null), { permissions: [] }), null);
  assertEquals(forbiddenCallReply([call("generateImage")], { permissions: [] }), null);
  assertEquals(forbiddenCallReply("x", { permissions: [] }), null);
});

Deno.test("forbiddenCall() answers HTTP 200 with the JSON-RPC error", async () => {
  const res = forbiddenCall(call("generateImage"), { permissions: [] })!;
  assertEquals(res.status, 200);
  assertEquals((await res.json()).error.code, -32602);
});

Deno.test("assertSupportedVersion() accepts absent and 2025-era versions, refuses others with 400", async () => {
  assertSupportedVersion(undefined);
  assertSupportedVersion("2025-03-26");
  assertSupportedVersion("2025-11-25");
  const err = assertThrows(() => assertSupportedVersion("1999-01-01"), McpHttpError);
  const res = err.toResponse();
  assertEquals(res.status, 400);
  const body = await res.json();
  assertEquals(body.error.data.requested, "1999-01-01");
  assertEquals(body.id, null);
});

Deno.test("readJsonBody() refuses other content types, oversized and unparseable bodies", async () => {
  const req = (body: string, type = "application/json", length?: string) =>
    new Request("http://x/mcp", {
      method: "POST",
      headers: { "content-type": type, ...(length ? { "content-length": length } : {}) },
      body,
    });
  assertEquals(await readJsonBody(req('{"a":1}', "application/json; charset=utf-8")), { a: 1 });
  const status = async (request: Request) =>
    (await assertRejects(() => readJsonBody(request), McpHttpError)).status;
  assertEquals(await status(req("{}", "text/plain")), 415);
  assertEquals(await status(req("{")), 400);
  assertEquals(await status(req("{}", "application/json", String(5 * 1024 * 1024))), 413);
});

Deno.test("mcpErrorHandler() answers internal faults with -32603, also inside a mounted sub-app", async () => {
  const sub = new Hono();
  sub.onError(mcpErrorHandler);
  sub.post("/mcp", () => {
    throw new Error("boom");
  });
  const app = new Hono();
  app.onError(() => new Response("parent", { status: 599 }));
  app.route("/", sub);
  const res = await app.request("http://localhost/mcp", { method: "POST" });
  assertEquals(res.status, 500);
  assertEquals(await res.json(), {
    jsonrpc: "2.0",
    id: null,
    error: { code: -32603, message: "Internal error" },
  });
});

import { assertEquals, assertStringIncludes } from "@std/assert";
import { startTestServer } from "../helpers/server.ts";

Deno.test("unknown API paths answer 404 with a JSON body, never Hono's plain text", async () => {
  await using server = await startTestServer();
  for (const path of ["/nope", "/.well-known/nope", "/token/x", "/register/extra", "/healthz/x"]) {
    const res = await fetch(`${server.url}${path}`);
    assertEquals(res.status, 404, path);
    assertStringIncludes(res.headers.get("content-type") ?? "", "application/json", path);
    const body = await res.json();
    assertEquals(body.error, "not_found", path);
  }
});

Deno.test("an unknown path asked for as HTML answers a 404 page", async () => {
  await using server = await startTestServer();
  const res = await fetch(`${server.url}/nope`, { headers: { accept: "text/html" } });
  assertEquals(res.status, 404);
  assertStringIncludes(res.headers.get("content-type") ?? "", "text/html");
  assertStringIncludes(await res.text(), "not_found");
});

Deno.test("wrong methods on OAuth endpoints answer 405 with Allow and an OAuth JSON body", async () => {
  await using server = await startTestServer();
  for (const path of ["/register", "/token", "/revoke"]) {
    const res = await fetch(`${server.url}${path}`, { method: "PUT" });
    assertEquals(res.status, 405, path);
    assertEquals(res.headers.get("allow"), "POST", path);
    assertEquals((await res.json()).error, "invalid_request", path);
  }
});

Deno.test("a cross-origin form post answers 403 as a page, not plain text", async () => {
  await using server = await startTestServer();
  const res = await fetch(`${server.url}/authorize`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: "https://evil.example",
    },
    body: "request_id=x&csrf_token=y&decision=approve",
  });
  assertEquals(res.status, 403);
  assertStringIncludes(res.headers.get("content-type") ?? "", "text/html");
  assertStringIncludes(await res.text(), "forbidden");
});

Deno.test("MCP paths answer JSON for a foreign Origin (403) and a missing token (401)", async () => {
  await using server = await startTestServer();
  const foreign = await fetch(`${server.url}/mcp`, {
    method: "POST",
    headers: { origin: "https://evil.example", "content-type": "application/json" },
    body: "{}",
  });
  assertEquals(foreign.status, 403);
  assertEquals((await foreign.json()).jsonrpc, "2.0");
  const put = await fetch(`${server.url}/sse`, { method: "PUT" });
  assertEquals(put.status, 401);
  assertStringIncludes(put.headers.get("content-type") ?? "", "application/json");
  await put.body?.cancel();
});

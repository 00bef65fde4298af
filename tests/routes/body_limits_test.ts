import { assertEquals, assertStringIncludes } from "@std/assert";
import { MCP_BODY_BYTES, SMALL_BODY_BYTES } from "../../routes/body_limits.ts";
import { startTestServer } from "../helpers/server.ts";

/** A body of `size` bytes sent chunked (no Content-Length), 64 KiB at a time. */
function chunked(size: number, fill = 0x61): ReadableStream<Uint8Array> {
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(fill);
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      const n = Math.min(chunk.length, size - sent);
      controller.enqueue(chunk.subarray(0, n));
      sent += n;
    },
  });
}

async function post(
  url: string,
  body: BodyInit,
  headers: Record<string, string>,
): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(url, { method: "POST", body, headers, redirect: "manual" });
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    text: await res.text(),
  };
}

Deno.test("POST /register refuses a 20 MB body with 413 in OAuth JSON, declared or chunked", async () => {
  await using server = await startTestServer();
  const json = { "content-type": "application/json" };
  const big = `{"redirect_uris":["http://127.0.0.1:9/cb"],"client_name":"${
    "x".repeat(20_000_000)
  }"}`;
  const declared = await post(`${server.url}/register`, big, json);
  assertEquals(declared.status, 413);
  assertEquals(JSON.parse(declared.text).error, "invalid_request");
  const streamed = await post(`${server.url}/register`, chunked(20_000_000), json);
  assertEquals(streamed.status, 413);
  assertStringIncludes(JSON.parse(streamed.text).error_description, "too large");
});

Deno.test("POST /token and /revoke refuse a chunked body over 16 KiB before reading it all", async () => {
  await using server = await startTestServer();
  const form = { "content-type": "application/x-www-form-urlencoded" };
  for (const path of ["/token", "/revoke"]) {
    const res = await post(`${server.url}${path}`, chunked(SMALL_BODY_BYTES + 1), form);
    assertEquals(res.status, 413, path);
    assertEquals(JSON.parse(res.text).error, "invalid_request", path);
  }
  // Just under the limit is read, and answered by the endpoint itself.
  const ok = await post(`${server.url}/token`, "grant_type=password", form);
  assertEquals(ok.status, 400);
  assertEquals(JSON.parse(ok.text).error, "unsupported_grant_type");
});

Deno.test("POST /mcp and /messages refuse a body over 4 MiB with a JSON-RPC 413", async () => {
  await using server = await startTestServer();
  for (const path of ["/mcp", "/messages?sessionId=x"]) {
    const res = await post(`${server.url}${path}`, chunked(MCP_BODY_BYTES + 1), {
      "content-type": "application/json",
      authorization: "Bearer whatever",
    });
    assertEquals(res.status, 413, path);
    const body = JSON.parse(res.text);
    assertEquals(body.jsonrpc, "2.0", path);
    assertEquals(body.error.code, -32000, path);
  }
});

Deno.test("browser forms over 16 KiB get a 413 page", async () => {
  await using server = await startTestServer();
  for (const path of ["/authorize", "/callback/organization", "/account/revoke"]) {
    const res = await post(`${server.url}${path}`, chunked(SMALL_BODY_BYTES + 10), {
      "content-type": "application/x-www-form-urlencoded",
      origin: server.url,
    });
    assertEquals(res.status, 413, path);
    assertStringIncludes(res.type, "text/html", path);
    assertStringIncludes(res.text, "body_too_large", path);
  }
});

Deno.test("POST /register with another content type answers 415", async () => {
  await using server = await startTestServer();
  const res = await post(`${server.url}/register`, "redirect_uris=x", {
    "content-type": "application/x-www-form-urlencoded",
  });
  assertEquals(res.status, 415);
  assertEquals(JSON.parse(res.text).error, "invalid_request");
});

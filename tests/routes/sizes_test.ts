import { assertEquals, assertStringIncludes } from "@std/assert";
import { MAX_SCOPE_CHARS } from "../../auth/authorize.ts";
import { MAX_METADATA_BYTES } from "../../auth/clients.ts";
import { MAX_INIT_FIELD_BYTES } from "../../mcp/session_http.ts";
import { authorizeUrl, register, signIn } from "../helpers/oauth.ts";
import { postMcp } from "../helpers/mcp_clients.ts";
import { startTestServer } from "../helpers/server.ts";

Deno.test("GET /authorize refuses a scope too large to store with invalid_scope, never 500", async () => {
  await using server = await startTestServer();
  const client = await register(server.url);
  const scope = "é" + "s".repeat(33_000);
  const { url } = await authorizeUrl(server.url, client.client_id, { scope });
  const res = await fetch(url, { redirect: "manual" });
  assertEquals(res.status, 302);
  const back = new URL(res.headers.get("location")!);
  assertEquals(back.searchParams.get("error"), "invalid_scope");
  assertStringIncludes(back.searchParams.get("error_description")!, String(MAX_SCOPE_CHARS));
});

Deno.test("POST /register caps metadata at 8 KiB in all and per field, naming the field", async () => {
  await using server = await startTestServer();
  const post = async (body: unknown) => {
    const res = await fetch(`${server.url}/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const uris = Array.from(
    { length: 10 },
    (_, i) => `http://127.0.0.1:9/${i}/${"p".repeat(900)}`,
  );
  const total = await post({ redirect_uris: uris, token_endpoint_auth_method: "none" });
  assertEquals(total.status, 400);
  assertEquals(total.body.error, "invalid_client_metadata");
  assertStringIncludes(total.body.error_description, `metadata: too large`);
  assertStringIncludes(total.body.error_description, String(MAX_METADATA_BYTES));

  const name = await post({ redirect_uris: [uris[0]], client_name: "n".repeat(201) });
  assertEquals(name.status, 400);
  assertStringIncludes(name.body.error_description, "client_name");
  const scope = await post({ redirect_uris: [uris[0]], scope: "s".repeat(1001) });
  assertStringIncludes(scope.body.error_description, "scope");
  const long = await post({ redirect_uris: [`https://a.example/${"x".repeat(2001)}`] });
  assertEquals(long.body.error, "invalid_redirect_uri");
  // Unknown fields are ignored (RFC 7591 §2), so they do not count against the stored size.
  const ignored = await post({
    redirect_uris: [uris[0]],
    token_endpoint_auth_method: "none",
    extra: "x".repeat(9000),
  });
  assertEquals(ignored.status, 201);
});

Deno.test("MCP initialize with an oversized clientInfo or capabilities is a JSON-RPC -32602, never 500", async () => {
  await using server = await startTestServer();
  const { accessToken } = await signIn(server.url, "alice@example.com");
  const big = "x".repeat(70_000);
  for (
    const params of [
      { clientInfo: { name: "c", version: big }, capabilities: {} },
      {
        clientInfo: { name: "c", version: "1" },
        capabilities: { experimental: { big: { data: big } } },
      },
    ]
  ) {
    const reply = await postMcp(server.url, accessToken, {
      jsonrpc: "2.0",
      id: 7,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", ...params },
    });
    assertEquals(reply.status, 400);
    const body = reply.message as { id: number; error: { code: number; message: string } };
    assertEquals(body.id, 7, JSON.stringify(body));
    assertEquals(body.error.code, -32602);
    assertStringIncludes(body.error.message, String(MAX_INIT_FIELD_BYTES));
  }
});

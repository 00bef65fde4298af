import { assertEquals, assertExists, assertStringIncludes } from "@std/assert";
import { redirectUriProblem } from "../../auth/redirect_uri.ts";
import { startTestServer } from "../helpers/server.ts";

async function registerRaw(
  base: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(`${base}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("POST /register accepts the redirect URIs real clients use", async () => {
  await using server = await startTestServer();
  for (
    const uri of [
      "http://localhost:4208/oauth/callback", // mcp-remote
      "http://127.0.0.1:6276/oauth/callback", // Inspector
      "http://[::1]:3000/callback",
      "https://claude.ai/api/mcp/auth_callback",
      "cursor://anysphere.cursor-retrieval/oauth/callback",
    ]
  ) {
    const res = await registerRaw(server.url, {
      redirect_uris: [uri],
      token_endpoint_auth_method: "none",
    });
    assertEquals(res.status, 201, `${uri}: ${JSON.stringify(res.body)}`);
    assertEquals(res.body.token_endpoint_auth_method, "none");
    assertEquals(res.body.client_secret, undefined);
  }
});

Deno.test("POST /register rejects dangerous redirect URIs with invalid_redirect_uri", async () => {
  await using server = await startTestServer();
  for (
    const uri of [
      "javascript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "https://app.example/cb#frag",
      "http://app.example/cb",
      "http://192.168.1.10/cb",
      "not a uri",
      "file:///etc/passwd",
    ]
  ) {
    const res = await registerRaw(server.url, {
      redirect_uris: [uri],
      token_endpoint_auth_method: "none",
    });
    assertEquals(res.status, 400, uri);
    assertEquals(res.body.error, "invalid_redirect_uri", uri);
  }
});

Deno.test("POST /register rejects other bad metadata with invalid_client_metadata", async () => {
  await using server = await startTestServer();
  const cases: unknown[] = [
    "{not json",
    [],
    { redirect_uris: ["https://a.example/cb"], token_endpoint_auth_method: "private_key_jwt" },
    { redirect_uris: ["https://a.example/cb"], grant_types: ["client_credentials"] },
    { redirect_uris: ["https://a.example/cb"], response_types: ["token"] },
    { redirect_uris: ["https://a.example/cb"], client_uri: "javascript:alert(1)" },
    { redirect_uris: ["https://a.example/cb"], grant_types: ["refresh_token"] },
  ];
  for (const body of cases) {
    const res = await registerRaw(server.url, body);
    assertEquals(res.status, 400, JSON.stringify(body));
    assertEquals(res.body.error, "invalid_client_metadata", JSON.stringify(body));
  }
  const none = await registerRaw(server.url, { token_endpoint_auth_method: "none" });
  assertEquals(none.body.error, "invalid_redirect_uri");
});

Deno.test("POST /register issues a secret to a confidential client", async () => {
  await using server = await startTestServer();
  const res = await registerRaw(server.url, {
    redirect_uris: ["https://a.example/cb"],
    client_name: "Conf",
  });
  assertEquals(res.status, 201);
  assertEquals(res.body.token_endpoint_auth_method, "client_secret_basic");
  assertExists(res.body.client_secret);
  assertStringIncludes(res.body.client_id!, "mcp_");
});

Deno.test("redirectUriProblem() explains each refusal", () => {
  assertEquals(
    redirectUriProblem("http://evil.example/cb"),
    "http is allowed only on a loopback host",
  );
  assertEquals(redirectUriProblem("https://a.example/cb#x"), "must not contain a fragment");
  assertEquals(redirectUriProblem("javascript:alert(1)"), "the javascript: scheme is not allowed");
  assertEquals(redirectUriProblem("http://127.0.0.1:1234/cb"), null);
  assertEquals(redirectUriProblem("com.example.app:/oauth"), null);
});

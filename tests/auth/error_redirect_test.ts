import { assertEquals, assertStringIncludes } from "@std/assert";
import { redirectsErrorsAutomatically } from "../../auth/authorize.ts";
import { authorizeUrl, REDIRECT_URI, register } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

Deno.test("a bad /authorize for an https redirect URI shows a page with a link, not an automatic 302", async () => {
  await using server = await startTestServer();
  const evil = "https://evil.example/cb";
  const client = await register(server.url, { redirect_uris: [evil] });
  const { url } = await authorizeUrl(server.url, client.client_id, {
    redirect_uri: evil,
    response_type: "token",
  });
  const res = await fetch(url, { redirect: "manual" });
  assertEquals(res.status, 400);
  assertEquals(res.headers.get("location"), null);
  const page = await res.text();
  assertStringIncludes(page, "unsupported_response_type");
  assertStringIncludes(page, 'href="https://evil.example/cb?error=unsupported_response_type');
});

Deno.test("loopback and private-use redirect URIs still get error= redirects at once", async () => {
  await using server = await startTestServer();
  for (const uri of [REDIRECT_URI, "cursor://anysphere.cursor-retrieval/oauth/callback"]) {
    const client = await register(server.url, { redirect_uris: [uri] });
    const { url, state } = await authorizeUrl(server.url, client.client_id, {
      redirect_uri: uri,
      code_challenge_method: "plain",
    });
    const res = await fetch(url, { redirect: "manual" });
    assertEquals(res.status, 302, uri);
    const back = new URL(res.headers.get("location")!);
    assertEquals(back.searchParams.get("error"), "invalid_request", uri);
    assertEquals(back.searchParams.get("state"), state, uri);
  }
});

Deno.test("redirectsErrorsAutomatically() admits only loopback hosts and private-use schemes", () => {
  assertEquals(redirectsErrorsAutomatically("http://127.0.0.1:33418/cb"), true);
  assertEquals(redirectsErrorsAutomatically("http://localhost/cb"), true);
  assertEquals(redirectsErrorsAutomatically("http://[::1]:8080/cb"), true);
  assertEquals(
    redirectsErrorsAutomatically("vscode://vscode.github-authentication/did-authenticate"),
    true,
  );
  assertEquals(redirectsErrorsAutomatically("https://claude.ai/api/mcp/auth_callback"), false);
  assertEquals(redirectsErrorsAutomatically("https://127.0.0.1.evil.example/cb"), false);
});

import { assertEquals, assertStringIncludes } from "@std/assert";
import { WorkOS } from "@workos-inc/node";
import { ScriptedBrowser } from "../helpers/browser.ts";
import { signIn } from "../helpers/oauth.ts";
import { discover } from "../helpers/mcp_clients.ts";
import { startTestServer } from "../helpers/server.ts";

async function call(url: string, headers: Record<string, string>) {
  const res = await fetch(url, { method: "POST", headers });
  return {
    status: res.status,
    challenge: res.headers.get("www-authenticate") ?? "",
    body: await res.text(),
  };
}

Deno.test("requireBearer() answers 401 with resource_metadata and no error when no token is sent", async () => {
  await using server = await startTestServer();
  const res = await call(`${server.url}/mcp`, {});
  assertEquals(res.status, 401);
  assertEquals(
    res.challenge,
    `Bearer resource_metadata="${server.url}/.well-known/oauth-protected-resource/mcp"`,
  );
});

Deno.test("requireBearer() refuses bad, malformed and query-string tokens", async () => {
  await using server = await startTestServer();
  const cases: Array<[Record<string, string>, number, string]> = [
    [{ authorization: "Bearer garbage" }, 401, 'error="invalid_token"'],
    [{ authorization: "Bearer grant_abc.def" }, 401, 'error="invalid_token"'],
    [{ authorization: "Basic dXNlcjpwYXNz" }, 401, 'error="invalid_token"'],
    [{ authorization: "Bearer a b" }, 401, 'error="invalid_token"'],
  ];
  for (const [headers, status, fragment] of cases) {
    const res = await call(`${server.url}/mcp`, headers);
    assertEquals(res.status, status, JSON.stringify(headers));
    assertStringIncludes(res.challenge, fragment);
    assertStringIncludes(res.challenge, "resource_metadata=");
  }
  const session = await signIn(server.url, "bob@example.com");
  const inQuery = await call(`${server.url}/mcp?access_token=${session.accessToken}`, {});
  assertEquals(inQuery.status, 400);
});

Deno.test("requireBearer() refuses a WorkOS access token presented directly (no passthrough)", async () => {
  await using server = await startTestServer();
  // Sign in at the emulator directly, as WorkOS would for another app, and present its JWT to /mcp.
  const port = Number(new URL(server.url).port);
  const workos = new WorkOS(server.config.workos.apiKey, {
    clientId: server.config.workos.clientId,
    apiHostname: "localhost",
    https: false,
    port,
    maxRetries: 0,
  });
  const pkce = await workos.pkce.generate();
  const authorize = workos.userManagement.getAuthorizationUrl({
    provider: "authkit",
    clientId: server.config.workos.clientId,
    redirectUri: "http://127.0.0.1:9/cb",
    state: "s",
    codeChallenge: pkce.codeChallenge,
    codeChallengeMethod: "S256",
  });
  const browser = new ScriptedBrowser();
  const page = await browser.submit(await browser.go(authorize), { email: "alice@example.com" }, {
    stopAt: (u) => u.port === "9",
  });
  const code = new URL(page.url).searchParams.get("code")!;
  const auth = await workos.userManagement.authenticateWithCode({
    clientId: server.config.workos.clientId,
    code,
    codeVerifier: pkce.codeVerifier,
  });
  assertEquals(auth.accessToken.split(".").length, 3, "a JWT");
  const res = await call(`${server.url}/mcp`, { authorization: `Bearer ${auth.accessToken}` });
  assertEquals(res.status, 401);
  assertStringIncludes(res.challenge, 'error="invalid_token"');
});

Deno.test("requireBearer() refuses an expired token", async () => {
  let now = Date.now();
  await using server = await startTestServer({}, { now: () => now });
  const session = await signIn(server.url, "alice@example.com");
  assertEquals((await discover(server.url, session.accessToken)).status, 200);
  now += 10 * 60 * 1000 + 1;
  const res = await call(`${server.url}/mcp`, { authorization: `Bearer ${session.accessToken}` });
  assertEquals(res.status, 401);
  assertStringIncludes(res.challenge, 'error="invalid_token"');
});

Deno.test("requireBearer() refuses a token issued for another resource of ours", async () => {
  await using server = await startTestServer();
  const session = await signIn(server.url, "alice@example.com", { resource: `${server.url}/sse` });
  const res = await call(`${server.url}/mcp`, { authorization: `Bearer ${session.accessToken}` });
  assertEquals(res.status, 401);
  assertStringIncludes(res.challenge, 'error="invalid_token"');
  assertStringIncludes(res.body, "another resource");
});

import { assertEquals, assertStringIncludes } from "@std/assert";
import { ScriptedBrowser } from "../helpers/browser.ts";
import {
  authorizeUrl,
  browserSignIn,
  postForm,
  REDIRECT_URI,
  register,
  signIn,
} from "../helpers/oauth.ts";
import { discover } from "../helpers/mcp_clients.ts";
import { startTestServer } from "../helpers/server.ts";

type Server = Awaited<ReturnType<typeof startTestServer>>;

/** Runs authorize + sign-in and returns the code with the verifier, not yet redeemed. */
async function codeFor(
  server: Server,
  clientId: string,
  overrides: Record<string, string | null> = {},
) {
  const { url, verifier } = await authorizeUrl(server.url, clientId, overrides);
  const back = await browserSignIn(new ScriptedBrowser(), url, "alice@example.com");
  return { code: back.code!, verifier };
}

function redeem(
  server: Server,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) {
  return postForm(server.url, "/token", {
    grant_type: "authorization_code",
    redirect_uri: REDIRECT_URI,
    ...form,
  }, headers);
}

async function bearerStatus(server: Server, token: string): Promise<number> {
  return (await discover(server.url, token)).status;
}

Deno.test("POST /token answers with no-store tokens and RFC 6749 errors", async () => {
  await using server = await startTestServer();
  const client = await register(server.url);
  const { code, verifier } = await codeFor(server, client.client_id);
  const ok = await redeem(server, { code, code_verifier: verifier, client_id: client.client_id });
  assertEquals(ok.status, 200);
  assertEquals(ok.headers.get("cache-control"), "no-store");
  assertEquals(ok.body.token_type, "Bearer");
  assertEquals(ok.body.expires_in, 600);

  const unsupported = await postForm(server.url, "/token", {
    grant_type: "password",
    client_id: client.client_id,
  });
  assertEquals([unsupported.status, unsupported.body.error], [400, "unsupported_grant_type"]);
  assertEquals(unsupported.headers.get("cache-control"), "no-store");
  const noGrant = await postForm(server.url, "/token", { client_id: client.client_id });
  assertEquals(noGrant.body.error, "invalid_request");
  const unknownClient = await redeem(server, {
    code: "x",
    code_verifier: verifier,
    client_id: "mcp_nobody",
  });
  assertEquals([unknownClient.status, unknownClient.body.error], [401, "invalid_client"]);
  const json = await fetch(`${server.url}/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ grant_type: "authorization_code" }),
  });
  assertEquals(json.status, 400);
  assertEquals((await json.json()).error, "invalid_request");
  const repeated = await fetch(`${server.url}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "grant_type=authorization_code&code=a&code=b",
  });
  assertEquals((await repeated.json()).error, "invalid_request");
});

Deno.test("POST /token refuses a wrong or missing PKCE verifier", async () => {
  await using server = await startTestServer();
  const client = await register(server.url);
  const { code, verifier } = await codeFor(server, client.client_id);
  const wrong = await redeem(server, {
    code,
    code_verifier: "x".repeat(43),
    client_id: client.client_id,
  });
  assertEquals([wrong.status, wrong.body.error], [400, "invalid_grant"]);
  assertStringIncludes(String(wrong.body.error_description), "PKCE");
  const missing = await redeem(server, { code, client_id: client.client_id });
  assertEquals([missing.status, missing.body.error], [400, "invalid_request"]);
  // Failed attempts do not burn the code for its rightful client.
  const right = await redeem(server, {
    code,
    code_verifier: verifier,
    client_id: client.client_id,
  });
  assertEquals(right.status, 200);
});

Deno.test("POST /token requires the authorize request's redirect_uri, client and resource", async () => {
  await using server = await startTestServer();
  const client = await register(server.url);
  const other = await register(server.url);
  const { code, verifier } = await codeFor(server, client.client_id);
  const base = { code, code_verifier: verifier, client_id: client.client_id };
  const otherRedirect = await redeem(server, { ...base, redirect_uri: "http://127.0.0.1:9/other" });
  assertEquals(otherRedirect.body.error, "invalid_grant");
  const otherClient = await redeem(server, { ...base, client_id: other.client_id });
  assertEquals(otherClient.body.error, "invalid_grant");
  const foreign = await redeem(server, { ...base, resource: "https://other.example/mcp" });
  assertEquals(foreign.body.error, "invalid_target");
  const sibling = await redeem(server, { ...base, resource: `${server.url}/sse` });
  assertEquals(sibling.body.error, "invalid_target");
  assertEquals((await redeem(server, base)).status, 200);
});

Deno.test("POST /token: a replayed code fails and revokes every token issued from it", async () => {
  await using server = await startTestServer();
  const client = await register(server.url);
  const { code, verifier } = await codeFor(server, client.client_id);
  const form = { code, code_verifier: verifier, client_id: client.client_id };
  const first = await redeem(server, form);
  assertEquals(first.status, 200);
  const access = String(first.body.access_token);
  assertEquals(await bearerStatus(server, access), 200);

  const replay = await redeem(server, form);
  assertEquals([replay.status, replay.body.error], [400, "invalid_grant"]);
  assertStringIncludes(String(replay.body.error_description), "already used");
  assertEquals(await bearerStatus(server, access), 401);
  const refresh = await postForm(server.url, "/token", {
    grant_type: "refresh_token",
    refresh_token: String(first.body.refresh_token),
    client_id: client.client_id,
  });
  assertEquals(refresh.body.error, "invalid_grant");
});

Deno.test("POST /token: refresh rotates, and reusing an old refresh token revokes the grant", async () => {
  await using server = await startTestServer();
  const session = await signIn(server.url, "alice@example.com");
  const refresh = (token: string) =>
    postForm(server.url, "/token", {
      grant_type: "refresh_token",
      refresh_token: token,
      client_id: session.clientId,
    });
  const r1 = session.refreshToken;
  const second = await refresh(r1);
  assertEquals(second.status, 200);
  const r2 = String(second.body.refresh_token);
  const third = await refresh(r2);
  const r3 = String(third.body.refresh_token);
  const a3 = String(third.body.access_token);
  assertEquals(await bearerStatus(server, a3), 200);

  const reuse = await refresh(r1);
  assertEquals([reuse.status, reuse.body.error], [400, "invalid_grant"]);
  assertEquals(await bearerStatus(server, a3), 401);
  assertEquals((await refresh(r3)).body.error, "invalid_grant");
});

Deno.test("POST /token: a refresh token of another client or for another resource is refused", async () => {
  await using server = await startTestServer();
  const session = await signIn(server.url, "alice@example.com");
  const other = await register(server.url);
  const stolen = await postForm(server.url, "/token", {
    grant_type: "refresh_token",
    refresh_token: session.refreshToken,
    client_id: other.client_id,
  });
  assertEquals(stolen.body.error, "invalid_grant");
  const wrongResource = await postForm(server.url, "/token", {
    grant_type: "refresh_token",
    refresh_token: session.refreshToken,
    client_id: session.clientId,
    resource: `${server.url}/sse`,
  });
  assertEquals(wrongResource.body.error, "invalid_target");
  // Neither attempt consumed the token.
  const ok = await postForm(server.url, "/token", {
    grant_type: "refresh_token",
    refresh_token: session.refreshToken,
    client_id: session.clientId,
  });
  assertEquals(ok.status, 200);
});

Deno.test("POST /token authenticates a confidential client per its registration", async () => {
  await using server = await startTestServer();
  const client = await register(server.url, { token_endpoint_auth_method: "client_secret_basic" });
  const secret = client.client_secret!;
  const basic = (id: string, s: string) => ({ authorization: `Basic ${btoa(`${id}:${s}`)}` });
  const { code, verifier } = await codeFor(server, client.client_id);

  const noSecret = await redeem(server, {
    code,
    code_verifier: verifier,
    client_id: client.client_id,
  });
  assertEquals([noSecret.status, noSecret.body.error], [401, "invalid_client"]);
  const badSecret = await redeem(
    server,
    { code, code_verifier: verifier },
    basic(client.client_id, "wrong"),
  );
  assertEquals([badSecret.status, badSecret.body.error], [401, "invalid_client"]);
  assertStringIncludes(badSecret.headers.get("www-authenticate") ?? "", "Basic");
  const postInstead = await redeem(server, {
    code,
    code_verifier: verifier,
    client_id: client.client_id,
    client_secret: secret,
  });
  assertEquals(postInstead.body.error, "invalid_client");
  const ok = await redeem(
    server,
    { code, code_verifier: verifier },
    basic(client.client_id, secret),
  );
  assertEquals(ok.status, 200);
});

Deno.test("POST /revoke: the owning client revokes; another client's attempt changes nothing", async () => {
  await using server = await startTestServer();
  const session = await signIn(server.url, "alice@example.com");
  const other = await register(server.url);
  const revoke = (token: string, clientId: string) =>
    postForm(server.url, "/revoke", { token, client_id: clientId });

  const foreign = await revoke(session.accessToken, other.client_id);
  assertEquals(foreign.status, 200);
  assertEquals(await bearerStatus(server, session.accessToken), 200);
  const foreignRefresh = await revoke(session.refreshToken, other.client_id);
  assertEquals(foreignRefresh.status, 200);

  assertEquals((await revoke(session.accessToken, session.clientId)).status, 200);
  assertEquals(await bearerStatus(server, session.accessToken), 401);

  // Revoking the refresh token ends the grant: the refresh token no longer works either.
  assertEquals((await revoke(session.refreshToken, session.clientId)).status, 200);
  const refresh = await postForm(server.url, "/token", {
    grant_type: "refresh_token",
    refresh_token: session.refreshToken,
    client_id: session.clientId,
  });
  assertEquals(refresh.body.error, "invalid_grant");
  assertEquals((await revoke("garbage", session.clientId)).status, 200);
  const noToken = await postForm(server.url, "/revoke", { client_id: session.clientId });
  assertEquals(noToken.body.error, "invalid_request");
});

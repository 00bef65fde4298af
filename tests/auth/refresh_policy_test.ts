/**
 * The refresh policy: races and lost responses never end a grant; true reuse and replays still do.
 */
import { assert, assertEquals, assertNotEquals, assertStringIncludes } from "@std/assert";
import type { Grant } from "../../auth/grants.ts";
import { grantIdOf } from "../../auth/tokens.ts";
import { keys } from "../../lib/kv_keys.ts";
import { ScriptedBrowser } from "../helpers/browser.ts";
import { discover } from "../helpers/mcp_clients.ts";
import {
  authorizeUrl,
  browserSignIn,
  postForm,
  REDIRECT_URI,
  refreshTokens,
  register,
  signIn,
} from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

type Server = Awaited<ReturnType<typeof startTestServer>>;
const AUTHENTICATE = "/user_management/authenticate";

function refresh(server: Server, clientId: string, token: string) {
  return refreshTokens(server.url, clientId, token);
}

async function grantOf(server: Server, token: string): Promise<Grant | null> {
  return (await server.kv.get<Grant>(keys.grant(grantIdOf(token)!))).value;
}

async function bearer(server: Server, token: string): Promise<number> {
  return (await discover(server.url, token)).status;
}

async function codeFor(server: Server, clientId: string) {
  const { url, verifier } = await authorizeUrl(server.url, clientId);
  const back = await browserSignIn(new ScriptedBrowser(), url, "alice@example.com");
  return { code: back.code!, verifier };
}

function redeem(server: Server, clientId: string, code: string, verifier: string) {
  return postForm(server.url, "/token", {
    grant_type: "authorization_code",
    redirect_uri: REDIRECT_URI,
    code,
    code_verifier: verifier,
    client_id: clientId,
  });
}

Deno.test("20 concurrent refreshes with one refresh token: every one gets the same working pair, WorkOS is asked once", async () => {
  await using server = await startTestServer();
  const alice = await signIn(server.url, "alice@example.com");
  const before = server.emulator!.requestCount(AUTHENTICATE);
  const results = await Promise.all(
    Array.from({ length: 20 }, () => refresh(server, alice.clientId, alice.refreshToken)),
  );
  assertEquals(results.map((r) => r.status), Array(20).fill(200));
  assertEquals(new Set(results.map((r) => r.body.access_token)).size, 1, "one pair for all");
  assertEquals(new Set(results.map((r) => r.body.refresh_token)).size, 1);
  assertEquals(server.emulator!.requestCount(AUTHENTICATE) - before, 1);
  // Whichever response the client kept, its tokens work.
  const pair = results[19]!.body;
  assertEquals(await bearer(server, String(pair.access_token)), 200);
  const next = await refresh(server, alice.clientId, String(pair.refresh_token));
  assertEquals(next.status, 200);
  assertEquals(await bearer(server, String(next.body.access_token)), 200);
});

Deno.test("20 concurrent redemptions of one code: every one gets the same working pair", async () => {
  await using server = await startTestServer();
  const client = await register(server.url);
  const { code, verifier } = await codeFor(server, client.client_id);
  const results = await Promise.all(
    Array.from({ length: 20 }, () => redeem(server, client.client_id, code, verifier)),
  );
  assertEquals(results.map((r) => r.status), Array(20).fill(200));
  assertEquals(new Set(results.map((r) => r.body.access_token)).size, 1);
  assertEquals(await bearer(server, String(results[7]!.body.access_token)), 200);
  const next = await refresh(server, client.client_id, String(results[3]!.body.refresh_token));
  assertEquals(next.status, 200);
});

Deno.test("a refresh whose response was lost is retried with the same token and gets the same pair", async () => {
  await using server = await startTestServer();
  const alice = await signIn(server.url, "alice@example.com");
  const lost = await refresh(server, alice.clientId, alice.refreshToken);
  assertEquals(lost.status, 200);
  const retry = await refresh(server, alice.clientId, alice.refreshToken);
  assertEquals(retry.status, 200);
  assertEquals(retry.body.access_token, lost.body.access_token);
  assertEquals(retry.body.refresh_token, lost.body.refresh_token);
  assertEquals(await bearer(server, String(retry.body.access_token)), 200);
  assert(Number(retry.body.expires_in) <= 600 && Number(retry.body.expires_in) > 0);
});

Deno.test("a refresh aborted by the client while WorkOS is slow is retried successfully", async () => {
  await using server = await startTestServer();
  const alice = await signIn(server.url, "alice@example.com");
  server.emulator!.stallNext(400);
  const aborted = new AbortController();
  const first = fetch(`${server.url}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: alice.refreshToken,
      client_id: alice.clientId,
    }),
    signal: aborted.signal,
  }).catch((err) => err);
  await new Promise((r) => setTimeout(r, 100));
  aborted.abort();
  assert((await first) instanceof Error, "the client gave up");
  const retry = await refresh(server, alice.clientId, alice.refreshToken);
  assertEquals(retry.status, 200, JSON.stringify(retry.body));
  assertEquals(await bearer(server, String(retry.body.access_token)), 200);
});

Deno.test("true reuse still revokes: the old refresh token after the new refresh token was used", async () => {
  await using server = await startTestServer();
  const alice = await signIn(server.url, "alice@example.com");
  const second = await refresh(server, alice.clientId, alice.refreshToken);
  const third = await refresh(server, alice.clientId, String(second.body.refresh_token));
  assertEquals(third.status, 200);
  const reuse = await refresh(server, alice.clientId, alice.refreshToken);
  assertEquals([reuse.status, reuse.body.error], [400, "invalid_grant"]);
  assertStringIncludes(String(reuse.body.error_description), "already used");
  assertEquals(await bearer(server, String(third.body.access_token)), 401);
});

Deno.test("true reuse still revokes: the old refresh token after the new access token was used", async () => {
  await using server = await startTestServer();
  const alice = await signIn(server.url, "alice@example.com");
  const second = await refresh(server, alice.clientId, alice.refreshToken);
  assertEquals(await bearer(server, String(second.body.access_token)), 200);
  const reuse = await refresh(server, alice.clientId, alice.refreshToken);
  assertEquals([reuse.status, reuse.body.error], [400, "invalid_grant"]);
  assertEquals(await bearer(server, String(second.body.access_token)), 401);
});

Deno.test("true reuse still revokes: the old refresh token after the grace window", async () => {
  let now = Date.now();
  await using server = await startTestServer({ REFRESH_GRACE_SECONDS: "60" }, { now: () => now });
  const alice = await signIn(server.url, "alice@example.com");
  const second = await refresh(server, alice.clientId, alice.refreshToken);
  now += 59_000;
  assertEquals((await refresh(server, alice.clientId, alice.refreshToken)).status, 200);
  now += 2_000;
  const late = await refresh(server, alice.clientId, alice.refreshToken);
  assertEquals([late.status, late.body.error], [400, "invalid_grant"]);
  assertEquals(await grantOf(server, String(second.body.access_token)), null);
});

Deno.test("another client's refresh token or code is refused without touching the owner's grant", async () => {
  await using server = await startTestServer();
  const owner = await register(server.url);
  const other = await register(server.url);
  const { code, verifier } = await codeFor(server, owner.client_id);
  const first = await redeem(server, owner.client_id, code, verifier);
  assertEquals(first.status, 200);
  const replay = await redeem(server, other.client_id, code, verifier);
  assertEquals([replay.status, replay.body.error], [400, "invalid_grant"]);
  assertStringIncludes(String(replay.body.error_description), "another client");
  assertEquals(await bearer(server, String(first.body.access_token)), 200, "owner unharmed");
  const foreign = await refresh(server, other.client_id, String(first.body.refresh_token));
  assertEquals(foreign.body.error, "invalid_grant");
  assertEquals(
    (await refresh(server, owner.client_id, String(first.body.refresh_token))).status,
    200,
  );
});

Deno.test("the owner's replay of a used code revokes: another verifier, or after its tokens were used, or late", async () => {
  let now = Date.now();
  await using server = await startTestServer({}, { now: () => now });
  const client = await register(server.url);

  const a = await codeFor(server, client.client_id);
  const first = await redeem(server, client.client_id, a.code, a.verifier);
  const wrong = await redeem(server, client.client_id, a.code, "x".repeat(43));
  assertEquals(wrong.body.error, "invalid_grant");
  assertEquals(await grantOf(server, String(first.body.access_token)), null, "revoked");

  const b = await codeFor(server, client.client_id);
  const second = await redeem(server, client.client_id, b.code, b.verifier);
  assertEquals(await bearer(server, String(second.body.access_token)), 200);
  const afterUse = await redeem(server, client.client_id, b.code, b.verifier);
  assertEquals(afterUse.body.error, "invalid_grant");
  assertEquals(await grantOf(server, String(second.body.access_token)), null, "revoked");

  const c = await codeFor(server, client.client_id);
  const third = await redeem(server, client.client_id, c.code, c.verifier);
  now += 11_000;
  const late = await redeem(server, client.client_id, c.code, c.verifier);
  assertEquals(late.body.error, "invalid_grant");
  assertEquals(await grantOf(server, String(third.body.access_token)), null, "revoked");
});

Deno.test("the sealed pair kept for the grace window is not in plaintext in KV", async () => {
  await using server = await startTestServer();
  const alice = await signIn(server.url, "alice@example.com");
  const next = await refresh(server, alice.clientId, alice.refreshToken);
  const dump: string[] = [];
  for await (const e of server.kv.list({ prefix: [] })) dump.push(JSON.stringify(e.value));
  const all = dump.join("\n");
  for (const secret of [next.body.access_token, next.body.refresh_token, alice.refreshToken]) {
    assert(!all.includes(String(secret)), "no token in plaintext");
  }
  assertNotEquals(next.body.access_token, alice.accessToken);
});

import { assert, assertEquals, assertGreater } from "@std/assert";
import type { Grant } from "../../auth/grants.ts";
import { grantIdOf } from "../../auth/tokens.ts";
import { keys } from "../../lib/kv_keys.ts";
import { discover } from "../helpers/mcp_clients.ts";
import { refreshTokens, signIn } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

type Server = Awaited<ReturnType<typeof startTestServer>>;
const AUTHENTICATE = "/user_management/authenticate";

async function grantOf(server: Server, token: string): Promise<Grant | null> {
  return (await server.kv.get<Grant>(keys.grant(grantIdOf(token)!))).value;
}

function refresh(server: Server, clientId: string, token: string) {
  return refreshTokens(server.url, clientId, token);
}

Deno.test("refresh_token grant re-reads permissions from WorkOS: removal and return", async () => {
  await using server = await startTestServer();
  const alice = await signIn(server.url, "alice@example.com");
  assertEquals((await grantOf(server, alice.accessToken))!.permissions, ["image_generation"]);

  server.emulator!.setUserPermissions("alice@example.com", "org_acme", []);
  const r1 = await refresh(server, alice.clientId, alice.refreshToken);
  assertEquals(r1.status, 200);
  assertEquals((await grantOf(server, String(r1.body.access_token)))!.permissions, []);

  server.emulator!.setUserPermissions("alice@example.com", "org_acme", ["image_generation"]);
  const r2 = await refresh(server, alice.clientId, String(r1.body.refresh_token));
  assertEquals((await grantOf(server, String(r2.body.access_token)))!.permissions, [
    "image_generation",
  ]);
});

Deno.test("refresh_token grant after the WorkOS session is revoked fails with invalid_grant and ends the grant", async () => {
  await using server = await startTestServer();
  const alice = await signIn(server.url, "alice@example.com");
  const grant = (await grantOf(server, alice.accessToken))!;
  server.emulator!.revokeSession(grant.sessionId);
  const res = await refresh(server, alice.clientId, alice.refreshToken);
  assertEquals([res.status, res.body.error], [400, "invalid_grant"]);
  assertEquals(await grantOf(server, alice.accessToken), null);
  assertEquals(await bearer(server, alice.accessToken), 401, "the client is told to sign in again");
});

Deno.test("permissions older than half the bound are refreshed on the next MCP request, even without a client refresh", async () => {
  let now = Date.now();
  await using server = await startTestServer({ PERMISSIONS_MAX_AGE_SECONDS: "60" }, {
    now: () => now,
  });
  const alice = await signIn(server.url, "alice@example.com");
  server.emulator!.setUserPermissions("alice@example.com", "org_acme", []);
  const before = server.emulator!.requestCount(AUTHENTICATE);
  await bearer(server, alice.accessToken); // fresh: no upstream call
  assertEquals(server.emulator!.requestCount(AUTHENTICATE), before);
  now += 31_000;
  assertEquals(await bearer(server, alice.accessToken), 200 as number);
  assertEquals(server.emulator!.requestCount(AUTHENTICATE), before + 1);
  const grant = (await grantOf(server, alice.accessToken))!;
  assertEquals(grant.permissions, []);
  assertEquals(grant.permissionsCheckedAt, now);
});

Deno.test("a WorkOS outage never revokes: last known permissions serve within the bound, then 503", async () => {
  let now = Date.now();
  await using server = await startTestServer({ PERMISSIONS_MAX_AGE_SECONDS: "60" }, {
    now: () => now,
  });
  const alice = await signIn(server.url, "alice@example.com");
  const checkedAt = (await grantOf(server, alice.accessToken))!.permissionsCheckedAt;

  server.emulator!.failNext(503, 4);
  const within = await refresh(server, alice.clientId, alice.refreshToken);
  assertEquals(within.status, 200, "an outage within the bound keeps serving");
  const access = String(within.body.access_token);
  assertEquals((await grantOf(server, access))!.permissionsCheckedAt, checkedAt);
  now += 31_000;
  assertEquals(await bearer(server, access), 200, "still within the bound");

  now += 30_000; // past the bound
  assertEquals(await bearer(server, access), 503);
  const past = await refresh(server, alice.clientId, String(within.body.refresh_token));
  assertEquals([past.status, past.body.error], [503, "temporarily_unavailable"]);
  assert((await grantOf(server, access)) !== null, "the grant survives the outage");

  // WorkOS is back: the next request refreshes and serves again.
  assertEquals(await bearer(server, access), 200);
  assertEquals((await grantOf(server, access))!.permissionsCheckedAt, now);
});

Deno.test("after a signing-key rotation, the JWKS is refetched and the grant is never revoked", async () => {
  await using server = await startTestServer();
  const alice = await signIn(server.url, "alice@example.com");
  await server.emulator!.rotateKey();
  await new Promise((r) => setTimeout(r, 1100)); // past the JWKS refetch cooldown
  const res = await refresh(server, alice.clientId, alice.refreshToken);
  assertEquals(res.status, 200);
  const grant = (await grantOf(server, String(res.body.access_token)))!;
  assertGreater(grant.permissionsCheckedAt, 0);
  assertEquals(grant.permissions, ["image_generation"]);
});

async function bearer(server: Server, token: string): Promise<number> {
  return (await discover(server.url, token)).status;
}

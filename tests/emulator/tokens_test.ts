/**
 * The emulator's refresh tokens, organization switches, permission changes, session ends, key
 * rotation and injected failures, driven by the real `@workos-inc/node` SDK over HTTP.
 *
 * @module
 */
import { assert, assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import { GenericServerException, OauthException } from "@workos-inc/node";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { authenticate, CLIENT_ID, startEmulator, verifyAccessToken } from "./_harness.ts";

Deno.test("authenticateWithRefreshToken() rotates refresh tokens and rejects reuse", async () => {
  await using h = await startEmulator();
  const um = h.workos.userManagement;
  const first = await authenticate(h, "alice@example.com");
  const second = await um.authenticateWithRefreshToken({ refreshToken: first.refreshToken });
  assertNotEquals(second.refreshToken, first.refreshToken);
  assertEquals(second.organizationId, "org_acme");
  const { payload } = await verifyAccessToken(h, second.accessToken);
  assertEquals(payload["sid"], decodeJwt(first.accessToken)["sid"]);
  assertEquals(payload["permissions"], ["image_generation"]);

  const reused = await assertRejects(
    () => um.authenticateWithRefreshToken({ refreshToken: first.refreshToken }),
    OauthException,
  );
  assertEquals(reused.status, 400);
  assertEquals(reused.error, "invalid_grant");
  assertEquals(reused.errorDescription, "Refresh token already exchanged.");
  const unknown = await assertRejects(
    () => um.authenticateWithRefreshToken({ refreshToken: "nope" }),
    OauthException,
  );
  assertEquals(unknown.error, "invalid_grant");
  // A public client (no API key) can refresh as well.
  const third = await h.sdk(null).userManagement.authenticateWithRefreshToken({
    refreshToken: second.refreshToken,
  });
  assertEquals(third.user.email, "alice@example.com");
});

Deno.test("authenticateWithRefreshToken() switches organization only for members", async () => {
  await using h = await startEmulator();
  const um = h.workos.userManagement;
  const carol = await authenticate(h, "carol@example.com", "org_globex");
  const acme = await um.authenticateWithRefreshToken({
    refreshToken: carol.refreshToken,
    organizationId: "org_acme",
  });
  assertEquals(acme.organizationId, "org_acme");
  const claims = (await verifyAccessToken(h, acme.accessToken)).payload;
  assertEquals([claims["org_id"], claims["role"]], ["org_acme", "admin"]);
  assertEquals(claims["permissions"], ["image_generation", "audit_logs:read"]);
  // Omitted: the session keeps its current organization.
  const again = await um.authenticateWithRefreshToken({ refreshToken: acme.refreshToken });
  assertEquals(decodeJwt(again.accessToken)["org_id"], "org_acme");

  const alice = await authenticate(h, "alice@example.com");
  const error = await assertRejects(
    () =>
      um.authenticateWithRefreshToken({
        refreshToken: alice.refreshToken,
        organizationId: "org_globex",
      }),
    OauthException,
  );
  assertEquals([error.status, error.error], [400, "organization_membership_not_found"]);
  // The refused switch did not use the refresh token up.
  const still = await um.authenticateWithRefreshToken({ refreshToken: alice.refreshToken });
  assertEquals(still.organizationId, "org_acme");
});

Deno.test("setUserPermissions() shows up in the next refreshed token", async () => {
  await using h = await startEmulator();
  const um = h.workos.userManagement;
  const first = await authenticate(h, "alice@example.com");
  h.emulator.setUserPermissions("alice@example.com", "org_acme", []);
  const second = await um.authenticateWithRefreshToken({ refreshToken: first.refreshToken });
  assertEquals(decodeJwt(second.accessToken)["permissions"], []);

  const response = await fetch(`${h.origin}/_emulator/users/alice@example.com/permissions`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      "organization_id": "org_acme",
      permissions: ["image_generation", "x:y"],
    }),
  });
  assertEquals(response.status, 204);
  const third = await um.authenticateWithRefreshToken({ refreshToken: second.refreshToken });
  assertEquals(decodeJwt(third.accessToken)["permissions"], ["image_generation", "x:y"]);
});

Deno.test("revokeSession() ends the session so refresh fails with invalid_grant", async () => {
  await using h = await startEmulator();
  const um = h.workos.userManagement;
  const auth = await authenticate(h, "alice@example.com");
  const sessionId = String(decodeJwt(auth.accessToken)["sid"]);
  assertEquals(await um.revokeSession({ sessionId }), undefined);
  const error = await assertRejects(
    () => um.authenticateWithRefreshToken({ refreshToken: auth.refreshToken }),
    OauthException,
  );
  assertEquals(error.error, "invalid_grant");

  const other = await authenticate(h, "bob@example.com");
  h.emulator.revokeSession(String(decodeJwt(other.accessToken)["sid"]));
  await assertRejects(
    () => um.authenticateWithRefreshToken({ refreshToken: other.refreshToken }),
    OauthException,
  );
  const unauthorized = await fetch(`${h.origin}/user_management/sessions/revoke`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ "session_id": sessionId }),
  });
  assertEquals(unauthorized.status, 401);
  await unauthorized.body?.cancel();
});

Deno.test("getLogoutUrl() ends the session and redirects to return_to", async () => {
  await using h = await startEmulator();
  const um = h.workos.userManagement;
  const auth = await authenticate(h, "alice@example.com");
  const sessionId = String(decodeJwt(auth.accessToken)["sid"]);
  const returnTo = "http://127.0.0.1:1/signed-out";
  const response = await fetch(um.getLogoutUrl({ sessionId, returnTo }), { redirect: "manual" });
  await response.body?.cancel();
  assertEquals(response.status, 302);
  assertEquals(response.headers.get("location"), returnTo);
  await assertRejects(
    () => um.authenticateWithRefreshToken({ refreshToken: auth.refreshToken }),
    OauthException,
  );
  const page = await fetch(um.getLogoutUrl({ sessionId }));
  assertEquals(page.status, 200);
  assert((await page.text()).includes("Signed out"));
  const missing = await fetch(`${h.origin}/user_management/sessions/logout`);
  assertEquals(missing.status, 422);
  assertEquals((await missing.json()).code, "invalid_request_parameters");
});

Deno.test("rotateKey() signs with a new kid and keeps the old key in the JWKS", async () => {
  await using h = await startEmulator();
  const before = await authenticate(h, "alice@example.com");
  const oldKid = decodeProtectedHeader(before.accessToken).kid;
  await h.emulator.rotateKey();
  const after = await authenticate(h, "alice@example.com");
  const newKid = decodeProtectedHeader(after.accessToken).kid;
  assertNotEquals(newKid, oldKid);
  const jwks = await (await fetch(h.workos.userManagement.getJwksUrl(CLIENT_ID))).json();
  const kids = jwks.keys.map((key: { kid: string }) => key.kid);
  assertEquals(kids, [newKid, oldKid]);
  for (const key of jwks.keys) {
    assertEquals([key.kty, key.alg, key.use], ["RSA", "RS256", "sig"]);
    assertEquals(key.d, undefined);
  }
  await verifyAccessToken(h, before.accessToken);
  await verifyAccessToken(h, after.accessToken);
  const unknown = await fetch(h.workos.userManagement.getJwksUrl("client_other"));
  assertEquals(unknown.status, 404);
  assert(typeof (await unknown.json()).message === "string");
});

Deno.test("failNext() fails the next API calls and requestCount() counts them", async () => {
  await using h = await startEmulator();
  const um = h.workos.userManagement;
  const auth = await authenticate(h, "alice@example.com");
  assertEquals(h.emulator.requestCount("/user_management/authenticate"), 1);
  h.emulator.failNext(503, 2);
  for (let i = 0; i < 2; i++) {
    const error = await assertRejects(
      () => um.authenticateWithRefreshToken({ refreshToken: auth.refreshToken }),
      GenericServerException,
    );
    assertEquals(error.status, 503);
  }
  // The failures did not use the refresh token up.
  await um.authenticateWithRefreshToken({ refreshToken: auth.refreshToken });
  assertEquals(h.emulator.requestCount("/user_management/authenticate"), 4);
  assertEquals(h.emulator.requestCount("/user_management/authorize"), 2);
  assertEquals(h.emulator.requestCount(), 6);

  h.emulator.failJwks(500);
  const jwksUrl = um.getJwksUrl(CLIENT_ID);
  const failed = await fetch(jwksUrl);
  assertEquals(failed.status, 500);
  await failed.body?.cancel();
  const ok = await fetch(jwksUrl);
  assertEquals(ok.status, 200);
  await ok.body?.cancel();
});

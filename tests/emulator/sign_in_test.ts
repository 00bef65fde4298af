/**
 * The emulator's sign-in, driven by the real `@workos-inc/node` SDK over HTTP: the authorize page,
 * the code exchange with PKCE, organization selection, and the refusals.
 *
 * @module
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { AuthenticationException, OauthException } from "@workos-inc/node";
import { emulatorIssuer } from "../../emulator/app.ts";
import {
  authenticate,
  CLIENT_ID,
  firstForm,
  REDIRECT_URI,
  signIn,
  startEmulator,
  verifyAccessToken,
} from "./_harness.ts";

Deno.test("createAuthKitEmulator() renders a sign-in page whose first form posts the email", async () => {
  await using h = await startEmulator();
  const url = h.workos.userManagement.getAuthorizationUrl({
    provider: "authkit",
    clientId: CLIENT_ID,
    redirectUri: REDIRECT_URI,
    state: "s<1>",
    codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    codeChallengeMethod: "S256",
  });
  const response = await fetch(url);
  assertEquals(response.status, 200);
  assertStringIncludes(response.headers.get("content-type") ?? "", "text/html");
  const html = await response.text();
  assertStringIncludes(html, "LOCAL AUTHKIT EMULATOR");
  assertStringIncludes(html, "not WorkOS");
  for (const text of ["alice@example.com", "bob@example.com", "carol@example.com", "Globex"]) {
    assertStringIncludes(html, text);
  }
  assertStringIncludes(html, "image_generation");
  assert(!/<script/i.test(html), "the page must have no scripts");
  const form = firstForm(html);
  assertEquals(form.method, "post");
  assertEquals(form.action, "/user_management/authorize");
  assertEquals(form.inputTypes["email"], "email");
  assertEquals(form.fields["client_id"], CLIENT_ID);
  assertEquals(form.fields["redirect_uri"], REDIRECT_URI);
  assertEquals(form.fields["state"], "s<1>");
  assertEquals(form.fields["code_challenge_method"], "S256");
  assertStringIncludes(html, 'value="s&lt;1&gt;"');
});

Deno.test("authenticateWithCode() signs alice in with PKCE and a verifiable RS256 token", async () => {
  await using h = await startEmulator();
  const result = await signIn(h, "alice@example.com", { state: "xyz" });
  assertEquals(result.location.origin + result.location.pathname, REDIRECT_URI);
  assertEquals(result.state, "xyz");
  assertMatch(result.code, /^[A-Za-z0-9_-]{20,}$/);
  const auth = await h.workos.userManagement.authenticateWithCode({
    clientId: CLIENT_ID,
    code: result.code,
    codeVerifier: result.codeVerifier,
  });
  assertEquals(auth.user.email, "alice@example.com");
  assertEquals(auth.user.id, "user_alice");
  assertEquals(auth.user.firstName, "Alice");
  assertEquals(auth.user.emailVerified, true);
  assertEquals(auth.user.profilePictureUrl, null);
  assertEquals(auth.user.externalId, null);
  assert(auth.user.lastSignInAt !== null);
  assertEquals(auth.organizationId, "org_acme");
  assertEquals(auth.authenticationMethod, "Password");
  assert(auth.refreshToken.length > 20);

  const { payload, protectedHeader } = await verifyAccessToken(h, auth.accessToken);
  assertEquals(protectedHeader.alg, "RS256");
  assertEquals(protectedHeader.typ, "JWT");
  assert(typeof protectedHeader.kid === "string");
  assertEquals(payload.iss, emulatorIssuer(h.origin, CLIENT_ID));
  assertEquals(payload.iss, `${h.origin}/user_management/${CLIENT_ID}`);
  assertEquals(payload.sub, "user_alice");
  assertMatch(String(payload["sid"]), /^session_/);
  assertEquals(payload["org_id"], "org_acme");
  assertEquals(payload["role"], "member");
  assertEquals(payload["roles"], ["member"]);
  assertEquals(payload["permissions"], ["image_generation"]);
  assertEquals((payload.exp ?? 0) - (payload.iat ?? 0), 300);
  assert(typeof payload.jti === "string");
});

Deno.test("authenticateWithCode() gives bob a token with no organization and no permissions", async () => {
  await using h = await startEmulator();
  const auth = await authenticate(h, "bob@example.com");
  assertEquals(auth.organizationId, undefined);
  const { payload } = await verifyAccessToken(h, auth.accessToken);
  assertEquals(payload["org_id"], undefined);
  assertEquals(payload["role"], undefined);
  assertEquals(payload["permissions"], []);
});

Deno.test("authenticateWithCode() requires carol to select an organization", async () => {
  await using h = await startEmulator();
  const result = await signIn(h, "carol@example.com");
  const error = await assertRejects(
    () =>
      h.workos.userManagement.authenticateWithCode({
        clientId: CLIENT_ID,
        code: result.code,
        codeVerifier: result.codeVerifier,
      }),
    AuthenticationException,
  );
  assertEquals(error.status, 403);
  assertEquals(error.code, "organization_selection_required");
  assert(typeof error.pendingAuthenticationToken === "string");
  const raw = error.rawData as unknown as Record<string, unknown>;
  assertEquals(raw["organizations"], [
    { id: "org_acme", name: "Acme Corp" },
    { id: "org_globex", name: "Globex" },
  ]);
  assertEquals((raw["user"] as { email: string }).email, "carol@example.com");

  const selection = {
    clientId: CLIENT_ID,
    pendingAuthenticationToken: error.pendingAuthenticationToken ?? "",
    organizationId: "org_globex",
  };
  const auth = await h.workos.userManagement.authenticateWithOrganizationSelection(selection);
  assertEquals(auth.organizationId, "org_globex");
  const { payload } = await verifyAccessToken(h, auth.accessToken);
  assertEquals(payload["role"], "viewer");
  assertEquals(payload["permissions"], []);

  const reused = await assertRejects(
    () => h.workos.userManagement.authenticateWithOrganizationSelection(selection),
    OauthException,
  );
  assertEquals(reused.error, "invalid_grant");
});

Deno.test("authenticateWithCode() uses the organization requested at authorize", async () => {
  await using h = await startEmulator();
  const auth = await authenticate(h, "carol@example.com", "org_acme");
  assertEquals(auth.organizationId, "org_acme");
  const { payload } = await verifyAccessToken(h, auth.accessToken);
  assertEquals(payload["role"], "admin");
  assertEquals(payload["roles"], ["admin", "member"]);
  assertEquals(payload["permissions"], ["image_generation", "audit_logs:read"]);
});

Deno.test("authenticateWithCode() rejects a wrong verifier, a reused code and a wrong client", async () => {
  await using h = await startEmulator();
  const um = h.workos.userManagement;
  const first = await signIn(h, "alice@example.com");
  const wrong = await assertRejects(
    () =>
      um.authenticateWithCode({
        clientId: CLIENT_ID,
        code: first.code,
        codeVerifier: "x".repeat(43),
      }),
    OauthException,
  );
  assertEquals([wrong.status, wrong.error], [400, "invalid_grant"]);

  const second = await signIn(h, "alice@example.com");
  const ok = { clientId: CLIENT_ID, code: second.code, codeVerifier: second.codeVerifier };
  await um.authenticateWithCode(ok);
  const reused = await assertRejects(() => um.authenticateWithCode(ok), OauthException);
  assertEquals(reused.error, "invalid_grant");
  assertEquals(reused.errorDescription, "The code has already been used.");

  const third = await signIn(h, "alice@example.com");
  const other = await assertRejects(
    () =>
      h.sdk(undefined, "client_other").userManagement.authenticateWithCode({
        code: third.code,
        codeVerifier: third.codeVerifier,
      }),
    OauthException,
  );
  assertEquals(other.error, "invalid_client");

  const fourth = await signIn(h, "alice@example.com");
  const badKey = await assertRejects(
    () =>
      h.sdk("sk_wrong").userManagement.authenticateWithCode({
        code: fourth.code,
        codeVerifier: fourth.codeVerifier,
      }),
    OauthException,
  );
  assertEquals(badKey.error, "invalid_client");
});

Deno.test("authenticateWithCode() works for a public client without an API key", async () => {
  await using h = await startEmulator();
  const result = await signIn(h, "alice@example.com");
  const auth = await h.sdk(null).userManagement.authenticateWithCode({
    code: result.code,
    codeVerifier: result.codeVerifier,
  });
  assertEquals(auth.user.email, "alice@example.com");
});

Deno.test("GET /user_management/authorize refuses bad requests without redirecting", async () => {
  await using h = await startEmulator();
  const base = `${h.origin}/user_management/authorize`;
  const good = `client_id=${CLIENT_ID}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`;
  for (
    const query of [
      `client_id=nope&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&response_type=code`,
      `${good}&response_type=token`,
      `client_id=${CLIENT_ID}&redirect_uri=notaurl&response_type=code`,
      `${good}&response_type=code&code_challenge=abc&code_challenge_method=plain`,
    ]
  ) {
    const response = await fetch(`${base}?${query}`, { redirect: "manual" });
    assertEquals(response.status, 400, query);
    assertEquals(response.headers.get("location"), null);
    const body = await response.json();
    assertEquals(body.error, "invalid_request");
  }
  const page = await fetch(`${base}?client_id=nope`, { headers: { accept: "text/html" } });
  assertEquals(page.status, 400);
  assertStringIncludes(await page.text(), "Unknown client_id &quot;nope&quot;");
});

Deno.test("POST /user_management/authorize re-renders the page for an unknown email", async () => {
  await using h = await startEmulator();
  const body = new URLSearchParams({
    "client_id": CLIENT_ID,
    "redirect_uri": REDIRECT_URI,
    "response_type": "code",
    email: "mallory@example.com",
  });
  const response = await fetch(`${h.origin}/user_management/authorize`, {
    method: "POST",
    body,
    redirect: "manual",
  });
  assertEquals(response.status, 400);
  const html = await response.text();
  assertStringIncludes(html, "No demo user has the email &quot;mallory@example.com&quot;");
  assertEquals(firstForm(html).fields["email"], "mallory@example.com");
});

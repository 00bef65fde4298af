import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { forms, ScriptedBrowser } from "../helpers/browser.ts";
import { authorizeUrl, browserSignIn, REDIRECT_URI, register } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

async function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(url, { redirect: "manual", headers });
}

Deno.test("GET /authorize shows an error page, never a redirect, for a redirect URI not exactly registered", async () => {
  await using server = await startTestServer();
  const client = await register(server.url);
  const variants = [
    "http://127.0.0.1:9/other", // sub-path
    "http://127.0.0.1:9/callback/x",
    "http://127.0.0.1:9/callback?x=1", // extra query
    "http://127.0.0.1/other", // other path, any port
    "http://LOCALHOST:9/callback", // case change
    "HTTP://127.0.0.1:9/callback",
    "https://evil.example/callback", // other host
    "http://127.0.0.1:9/callback#frag",
  ];
  for (const redirect of variants) {
    const { url } = await authorizeUrl(server.url, client.client_id, { redirect_uri: redirect });
    const res = await get(url);
    assertEquals(res.status, 400, redirect);
    assertEquals(res.headers.get("location"), null, redirect);
    assertStringIncludes(await res.text(), "invalid_redirect_uri");
  }
  const missing = await get(
    (await authorizeUrl(server.url, client.client_id, { redirect_uri: null })).url,
  );
  assertEquals(missing.status, 400);
  assertEquals(missing.headers.get("location"), null);
  await missing.body?.cancel();
});

Deno.test("GET /authorize shows an error page for an unknown client", async () => {
  await using server = await startTestServer();
  const res = await get((await authorizeUrl(server.url, "mcp_unknown")).url);
  assertEquals(res.status, 400);
  assertEquals(res.headers.get("location"), null);
  assertStringIncludes(await res.text(), "invalid_client");
});

Deno.test("GET /authorize requires PKCE S256: missing or plain is refused back to the client", async () => {
  await using server = await startTestServer();
  const client = await register(server.url);
  for (
    const overrides of [
      { code_challenge: null, code_challenge_method: null },
      { code_challenge_method: "plain" },
      { code_challenge_method: null },
      { code_challenge: "short" },
    ]
  ) {
    const { url, state } = await authorizeUrl(server.url, client.client_id, overrides);
    const res = await get(url);
    assertEquals(res.status, 302, JSON.stringify(overrides));
    const back = new URL(res.headers.get("location")!);
    assertEquals(`${back.origin}${back.pathname}`, REDIRECT_URI);
    assertEquals(back.searchParams.get("error"), "invalid_request");
    assertEquals(back.searchParams.get("state"), state);
    assertEquals(back.searchParams.get("iss"), server.url);
  }
});

Deno.test("GET /authorize refuses a resource that is not ours with invalid_target", async () => {
  await using server = await startTestServer();
  const client = await register(server.url);
  for (
    const resource of [
      "https://other.example/mcp",
      `${server.url}/mcp-other`,
      `${server.url}/`,
      "nonsense",
    ]
  ) {
    const res = await get((await authorizeUrl(server.url, client.client_id, { resource })).url);
    assertEquals(res.status, 302, resource);
    assertEquals(
      new URL(res.headers.get("location")!).searchParams.get("error"),
      "invalid_target",
      resource,
    );
  }
  // The canonical forms are accepted: a trailing slash and an upper-case host name the same resource.
  for (
    const resource of [`${server.url}/mcp/`, `${server.url.replace("localhost", "LOCALHOST")}/mcp`]
  ) {
    const res = await get((await authorizeUrl(server.url, client.client_id, { resource })).url);
    assertEquals(res.status, 200, resource);
    await res.body?.cancel();
  }
});

Deno.test("consent page: names the client and redirect host, Approve first, CSRF token, framing blocked", async () => {
  await using server = await startTestServer();
  const client = await register(server.url, { client_name: "Acme <Agent>" });
  const browser = new ScriptedBrowser();
  const page = await browser.go((await authorizeUrl(server.url, client.client_id)).url);
  assertEquals(page.status, 200);
  assertStringIncludes(page.body, "Acme &lt;Agent&gt;");
  assertStringIncludes(page.body, "127.0.0.1:9");
  assertEquals(page.headers.get("x-frame-options"), "DENY");
  assertStringIncludes(page.headers.get("content-security-policy")!, "frame-ancestors 'none'");
  assert(!page.body.includes("<script"), "no scripts on the consent page");
  const [approve, deny] = forms(page);
  assertEquals(approve!.fields.decision, "approve");
  assertEquals(deny!.fields.decision, "deny");
  assertMatch(approve!.fields.csrf_token!, /^[A-Za-z0-9_-]{43}$/);
  const cookies = page.headers.getSetCookie().join("\n");
  assertMatch(
    cookies,
    /__Host-mcp-csrf=[^;]+; Max-Age=600; Path=\/; HttpOnly; Secure; SameSite=Lax/,
  );
});

Deno.test("POST /authorize refuses consent without the CSRF token, from another browser, or twice", async () => {
  await using server = await startTestServer();
  const client = await register(server.url);
  const victim = new ScriptedBrowser();
  const page = await victim.go((await authorizeUrl(server.url, client.client_id)).url);
  const form = forms(page)[0]!;

  const noToken = await victim.submit(page, { csrf_token: "" });
  assertEquals(noToken.status, 403);
  const wrongToken = await victim.submit(page, { csrf_token: "A".repeat(43) });
  assertEquals(wrongToken.status, 403);

  // An attacker who loaded the consent page in their own browser cannot make the victim's browser submit it.
  const attacker = new ScriptedBrowser();
  const attackerPage = await attacker.go((await authorizeUrl(server.url, client.client_id)).url);
  const forged = await victim.submit(attackerPage);
  assertEquals(forged.status, 403);

  // A cross-site POST is refused by the Origin check even with valid fields.
  const crossSite = await fetch(form.action, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: "https://evil.example",
      cookie: [...victim.jar].map(([k, v]) => `${k}=${v}`).join("; "),
    },
    body: new URLSearchParams(form.fields),
  });
  assertEquals(crossSite.status, 403);
  await crossSite.body?.cancel();

  const ok = await victim.submit(page, {}, {
    stopAt: (u) => u.pathname === "/user_management/authorize",
  });
  assertEquals(ok.status, 302);
  const replay = await victim.submit(page);
  assertEquals(replay.status, 403);
});

Deno.test("POST /authorize Deny sends access_denied back to the client with state and iss", async () => {
  await using server = await startTestServer();
  const client = await register(server.url);
  const browser = new ScriptedBrowser();
  const { url, state } = await authorizeUrl(server.url, client.client_id);
  const page = await browser.go(url);
  const back = await browser.submit(page, {}, {
    index: 1,
    stopAt: (u) => u.href.startsWith(REDIRECT_URI),
  });
  const location = new URL(back.url);
  assertEquals(location.searchParams.get("error"), "access_denied");
  assertEquals(location.searchParams.get("state"), state);
  assertEquals(location.searchParams.get("iss"), server.url);
});

Deno.test("approval is remembered per browser and client: a returning client goes straight to sign-in", async () => {
  await using server = await startTestServer();
  const client = await register(server.url);
  const browser = new ScriptedBrowser();
  const first = await browserSignIn(
    browser,
    (await authorizeUrl(server.url, client.client_id)).url,
    "bob@example.com",
  );
  assert(first.code);
  const consent = [...browser.jar.keys()].find((k) => k === "__Host-mcp-consent");
  assert(consent, "consent cookie set");
  const again = await get((await authorizeUrl(server.url, client.client_id)).url, {
    cookie: [...browser.jar].map(([k, v]) => `${k}=${v}`).join("; "),
  });
  assertEquals(again.status, 302);
  assertStringIncludes(again.headers.get("location")!, "/user_management/authorize");
  // Another client in the same browser still gets the consent page.
  const other = await register(server.url);
  const page = await browser.go((await authorizeUrl(server.url, other.client_id)).url);
  assertStringIncludes(page.body, 'name="decision"');
  // A tampered consent cookie is ignored.
  const tampered = await get((await authorizeUrl(server.url, other.client_id)).url, {
    cookie: `__Host-mcp-consent=${encodeURIComponent(JSON.stringify([other.client_id]))}.forged`,
  });
  assertEquals(tampered.status, 200);
  await tampered.body?.cancel();
});

Deno.test("GET /callback refuses a reused, unknown or foreign state", async () => {
  await using server = await startTestServer();
  const client = await register(server.url);
  const browser = new ScriptedBrowser();
  const { url } = await authorizeUrl(server.url, client.client_id);
  let page = await browser.go(url);
  page = await browser.submit(page);
  // Stop at our callback to capture AuthKit's redirect.
  const atCallback = await browser.submit(page, { email: "alice@example.com" }, {
    stopAt: (u) => u.pathname === "/callback",
  });
  const callback = atCallback.url;
  const cookie = [...browser.jar].map(([k, v]) => `${k}=${v}`).join("; ");

  // Foreign: the same callback URL opened in another browser (no state cookie).
  const foreign = await get(callback);
  assertEquals(foreign.status, 400);
  assertStringIncludes(await foreign.text(), "invalid_state");

  const first = await get(callback, { cookie });
  assertEquals(first.status, 302);
  assertStringIncludes(first.headers.get("location")!, "code=");
  await first.body?.cancel();

  const reused = await get(callback, { cookie });
  assertEquals(reused.status, 400);
  assertStringIncludes(await reused.text(), "invalid_state");

  const unknown = await get(`${server.url}/callback?code=x&state=unknown`, {
    cookie: "__Host-mcp-state=unknown",
  });
  assertEquals(unknown.status, 400);
  await unknown.body?.cancel();
});

Deno.test("GET /callback reports an AuthKit error to the client as access_denied", async () => {
  await using server = await startTestServer();
  const client = await register(server.url);
  const browser = new ScriptedBrowser();
  const { url, state } = await authorizeUrl(server.url, client.client_id);
  const atAuthKit = await browser.submit(await browser.go(url), {}, {
    stopAt: (u) => u.pathname === "/user_management/authorize",
  });
  const upstreamState = new URL(atAuthKit.url).searchParams.get("state")!;
  const back = await browser.go(
    `${server.url}/callback?error=access_denied&state=${upstreamState}`,
    {
      stopAt: (u) => u.href.startsWith(REDIRECT_URI),
    },
  );
  const location = new URL(back.url);
  assertEquals(location.searchParams.get("error"), "access_denied");
  assertEquals(location.searchParams.get("state"), state);
});

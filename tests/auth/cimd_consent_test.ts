/**
 * What the consent page and the per-user state say about client ID metadata document clients: the host
 * of the client ID URL is the verified identity, names are claims; remembered consent is bound to the
 * redirect URI; grants, the account page and revocation stay per user although every installation
 * shares one client_id.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { forms, ScriptedBrowser } from "../helpers/browser.ts";
import { startMetadataServer, TEST_CA } from "../helpers/metadata_server.ts";
import { whoami } from "../helpers/mcp_clients.ts";
import { authorizeUrl, browserSignIn, postForm, register } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

const DEV = { CIMD_ALLOW_LOOPBACK: "true" };
const TRUST = { cimd: { caCerts: [TEST_CA] } };

Deno.test("consent names a metadata client by its verified host and its name only as a claim", async () => {
  await using docs = startMetadataServer();
  const clientId = docs.serveClient("/client.json", { client_name: "Totally Official Claude" });
  await using server = await startTestServer(DEV, TRUST);
  const page = await new ScriptedBrowser().go((await authorizeUrl(server.url, clientId)).url);
  assertEquals(page.status, 200);
  assertStringIncludes(page.body, `<h1>Allow <strong>localhost:${docs.port}</strong>`);
  assertStringIncludes(page.body, "Verified identity");
  assertStringIncludes(page.body, `published at <code>${clientId}</code>`);
  assertStringIncludes(
    page.body,
    'Totally Official Claude <span class="claimed">(name claimed by the application)',
  );
  assert(!page.body.includes("unverified"));
});

Deno.test("consent marks a dynamically registered client's name as unverified", async () => {
  await using server = await startTestServer();
  const client = await register(server.url, { client_name: "Claude" });
  const page = await new ScriptedBrowser().go(
    (await authorizeUrl(server.url, client.client_id)).url,
  );
  assertEquals(page.status, 200);
  assertStringIncludes(page.body, "<h1>Allow <strong>Claude</strong> (an unverified name) to use");
  assertStringIncludes(page.body, "(unverified: a name the application chose itself)");
  assert(!page.body.includes("Verified identity"));
});

Deno.test("remembered consent for a metadata client is bound to its redirect URI, any loopback port", async () => {
  await using docs = startMetadataServer();
  const clientId = docs.serveClient("/client.json", {
    redirect_uris: ["http://127.0.0.1/callback", "https://app.example/cb"],
  });
  await using server = await startTestServer(DEV, TRUST);
  const browser = new ScriptedBrowser();
  const first = "http://127.0.0.1:40001/callback";
  const back = await browserSignIn(
    browser,
    (await authorizeUrl(server.url, clientId, { redirect_uri: first })).url,
    "alice@example.com",
    first,
  );
  assert(back.code);
  // Another launch of the same native app on another port: no consent page this time.
  const again = "http://127.0.0.1:40002/callback";
  const page = await browser.go(
    (await authorizeUrl(server.url, clientId, { redirect_uri: again })).url,
  );
  assert(!page.body.includes('name="decision"'), "consent is remembered");
  // The same client_id with its web redirect: asked again.
  const web = await browser.go(
    (await authorizeUrl(server.url, clientId, { redirect_uri: "https://app.example/cb" })).url,
  );
  assertStringIncludes(web.body, 'name="decision"');
});

Deno.test("two users of one metadata client keep separate grants, account pages and revocations", async () => {
  await using docs = startMetadataServer();
  const clientId = docs.serveClient("/client.json", {}, { "cache-control": "max-age=600" });
  await using server = await startTestServer(DEV, TRUST);
  const tokens: Record<string, string> = {};
  for (const email of ["alice@example.com", "bob@example.com"]) {
    const { url, verifier } = await authorizeUrl(server.url, clientId);
    const back = await browserSignIn(new ScriptedBrowser(), url, email);
    const res = await postForm(server.url, "/token", {
      grant_type: "authorization_code",
      code: back.code!,
      code_verifier: verifier,
      redirect_uri: "http://127.0.0.1:9/callback",
      client_id: clientId,
    });
    assertEquals(res.status, 200, JSON.stringify(res.body));
    tokens[email] = String(res.body.access_token);
  }
  const browser = new ScriptedBrowser();
  let page = await browser.go(`${server.url}/account`);
  page = await browser.submit(page, { email: "alice@example.com" });
  assertEquals(new URL(page.url).pathname, "/account");
  const revokeForms = forms(page).filter((f) => f.fields.grant_id);
  assertEquals(revokeForms.length, 1, "alice sees her grant only");
  assertStringIncludes(page.body, "Metadata Test Client");
  page = await browser.submit(page, {}, { index: forms(page).findIndex((f) => f.fields.grant_id) });
  assertEquals(forms(page).filter((f) => f.fields.grant_id).length, 0);
  assertEquals((await whoami(server.url, tokens["bob@example.com"]!)).email, "bob@example.com");
  const gone = await fetch(`${server.url}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${tokens["alice@example.com"]}`,
      "content-type": "application/json",
    },
    body: "{}",
  });
  await gone.body?.cancel();
  assertEquals(gone.status, 401);
});

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { ScriptedBrowser } from "../helpers/browser.ts";
import { authorizeUrl, browserSignIn, REDIRECT_URI, register } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

const EVIL = "https://evil.example/cb";

Deno.test("approval is remembered per client and redirect URI: another registered URI asks again", async () => {
  await using server = await startTestServer();
  const client = await register(server.url, { redirect_uris: [REDIRECT_URI, EVIL] });
  const browser = new ScriptedBrowser();
  const first = await browserSignIn(
    browser,
    (await authorizeUrl(server.url, client.client_id)).url,
    "bob@example.com",
  );
  assert(first.code);
  const cookie = [...browser.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  // The approved pair goes straight to sign-in…
  const same = await fetch((await authorizeUrl(server.url, client.client_id)).url, {
    headers: { cookie },
    redirect: "manual",
  });
  assertEquals(same.status, 302);
  assertStringIncludes(same.headers.get("location")!, "/user_management/authorize");
  await same.body?.cancel();
  // …the same client sending the user elsewhere shows the consent page again.
  const other = await fetch(
    (await authorizeUrl(server.url, client.client_id, { redirect_uri: EVIL })).url,
    { headers: { cookie }, redirect: "manual" },
  );
  assertEquals(other.status, 200);
  const page = await other.text();
  assertStringIncludes(page, 'name="decision"');
  assertStringIncludes(page, "evil.example");
});

Deno.test("the consent page says when a client registered redirect URIs on several hosts", async () => {
  await using server = await startTestServer();
  const several = await register(server.url, { redirect_uris: [REDIRECT_URI, EVIL] });
  const page = await fetch((await authorizeUrl(server.url, several.client_id)).url);
  const body = await page.text();
  assertStringIncludes(body, 'data-notice="several-hosts"');
  assertStringIncludes(body, "evil.example");
  const one = await register(server.url);
  const plain = await fetch((await authorizeUrl(server.url, one.client_id)).url);
  assertEquals((await plain.text()).includes("several-hosts"), false);
});

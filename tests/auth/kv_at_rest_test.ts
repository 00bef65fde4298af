import { assert, assertEquals } from "@std/assert";
import { deriveKeys } from "../../auth/crypto.ts";
import { GrantStore } from "../../auth/grants.ts";
import { ScriptedBrowser } from "../helpers/browser.ts";
import { authorizeUrl, browserSignIn, postForm, REDIRECT_URI, register } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

Deno.test("KV holds no access token, refresh token, code or WorkOS refresh token in plaintext", async () => {
  await using server = await startTestServer({ COOKIE_ENCRYPTION_KEY: "k".repeat(64) });
  const client = await register(server.url);
  const { url, verifier } = await authorizeUrl(server.url, client.client_id);
  const back = await browserSignIn(new ScriptedBrowser(), url, "alice@example.com");
  const first = await postForm(server.url, "/token", {
    grant_type: "authorization_code",
    code: back.code!,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    client_id: client.client_id,
  });
  const second = await postForm(server.url, "/token", {
    grant_type: "refresh_token",
    refresh_token: String(first.body.refresh_token),
    client_id: client.client_id,
  });
  assertEquals(second.status, 200);

  const entries: string[] = [];
  const grants: unknown[] = [];
  for await (const entry of server.kv.list({ prefix: [] })) {
    entries.push(JSON.stringify([entry.key, entry.value]));
    if (entry.key[0] === "oauth" && entry.key[1] === "grant") grants.push(entry.value);
  }
  const dump = entries.join("\n");
  assertEquals(grants.length, 1);

  // The WorkOS refresh token is stored encrypted: decrypt it with the server's key to know what to look for.
  const keys = await deriveKeys(server.config.cookieEncryptionKey);
  const store = new GrantStore(server.kv, keys.sealer);
  const upstream = await store.upstreamRefreshToken(
    grants[0] as Parameters<GrantStore["upstreamRefreshToken"]>[0],
  );
  assert(upstream.length >= 16);

  const secrets = {
    code: back.code!,
    access1: String(first.body.access_token),
    refresh1: String(first.body.refresh_token),
    access2: String(second.body.access_token),
    refresh2: String(second.body.refresh_token),
    workosRefresh: upstream,
  };
  for (const [name, secret] of Object.entries(secrets)) {
    assert(!dump.includes(secret), `${name} found in plaintext in KV`);
    // Also no secret part alone (tokens are "<grant id>.<secret>").
    const tail = secret.split(".").pop()!;
    assert(!dump.includes(tail), `${name}'s secret part found in KV`);
  }
});

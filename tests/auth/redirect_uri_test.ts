import { assertEquals } from "@std/assert";
import { redirectUriMatches, redirectUriProblem } from "../../auth/redirect_uri.ts";
import { ScriptedBrowser } from "../helpers/browser.ts";
import { authorizeUrl, browserSignIn, postForm, register } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

Deno.test("redirectUriMatches() lets a loopback redirect URI use any port (RFC 8252 §7.3)", () => {
  const registered = [
    "http://127.0.0.1:9/callback",
    "http://localhost/cb",
    "http://[::1]:5000/cb?x=1",
  ];
  for (
    const uri of [
      "http://127.0.0.1:9/callback",
      "http://127.0.0.1:53124/callback",
      "http://127.0.0.1/callback",
      "http://localhost:8080/cb",
      "http://localhost/cb",
      "http://[::1]:1/cb?x=1",
    ]
  ) assertEquals(redirectUriMatches(registered, uri), true, uri);
});

Deno.test("redirectUriMatches() still matches scheme, host, path and query exactly", () => {
  const registered = ["http://127.0.0.1:9/callback", "https://app.example/cb", "cursor://auth/cb"];
  for (
    const uri of [
      "http://127.0.0.1:9/callback/", // path
      "http://127.0.0.1:10/Callback", // path case
      "http://127.0.0.1:10/callback?x=1", // query
      "http://127.0.0.2:9/callback", // another loopback host
      "http://localhost:9/callback", // another spelling of loopback
      "https://127.0.0.1:9/callback", // scheme
      "HTTP://127.0.0.1:10/callback",
      "http://127.0.0.1:10/callback#f",
      "https://app.example:8443/cb", // non-loopback on another port
      "https://app.example:443/cb",
      "http://app.example/cb",
      "cursor://auth:1/cb",
    ]
  ) assertEquals(redirectUriMatches(registered, uri), false, uri);
});

Deno.test("redirectUriProblem() still admits only loopback http", () => {
  assertEquals(redirectUriProblem("http://127.0.0.1/cb"), null);
  assertEquals(
    redirectUriProblem("http://evil.example/cb"),
    "http is allowed only on a loopback host",
  );
});

Deno.test("a loopback client registered on one port signs in on another; the code needs the port it used", async () => {
  await using server = await startTestServer();
  const client = await register(server.url, { redirect_uris: ["http://127.0.0.1:9/callback"] });
  const used = "http://127.0.0.1:61234/callback";
  const { url, verifier } = await authorizeUrl(server.url, client.client_id, {
    redirect_uri: used,
  });
  const back = await browserSignIn(new ScriptedBrowser(), url, "alice@example.com", used);
  assertEquals(back.url.port, "61234");
  const exchange = (redirectUri: string) =>
    postForm(server.url, "/token", {
      grant_type: "authorization_code",
      code: back.code!,
      code_verifier: verifier,
      redirect_uri: redirectUri,
      client_id: client.client_id,
    });
  // The registered URI is not the one used at /authorize: refused, and the code stays unused.
  const registered = await exchange("http://127.0.0.1:9/callback");
  assertEquals(registered.status, 400);
  assertEquals(registered.body.error, "invalid_grant");
  const ok = await exchange(used);
  assertEquals(ok.status, 200, JSON.stringify(ok.body));
});

Deno.test("a non-loopback redirect URI on another port is refused with a local page", async () => {
  await using server = await startTestServer();
  const client = await register(server.url, { redirect_uris: ["https://app.example/cb"] });
  const { url } = await authorizeUrl(server.url, client.client_id, {
    redirect_uri: "https://app.example:8443/cb",
  });
  const res = await fetch(url, { redirect: "manual" });
  assertEquals(res.status, 400);
  assertEquals(res.headers.get("location"), null);
  await res.body?.cancel();
});

import { assertEquals, assertStringIncludes } from "@std/assert";
import { setQuiet } from "../../lib/log.ts";
import { startServer } from "../../app/serve.ts";
import { authorizeUrl, register } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

setQuiet(true);

async function registerStatus(
  base: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return await fetch(`${base}/register`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({
      redirect_uris: ["http://127.0.0.1:9/callback"],
      token_endpoint_auth_method: "none",
    }),
  });
}

Deno.test("POST /register past the per-address limit answers 429 with Retry-After, in OAuth JSON", async () => {
  await using server = await startTestServer({ REGISTER_RATE_LIMIT: "3" });
  for (let i = 0; i < 3; i++) assertEquals((await registerStatus(server.url)).status, 201);
  const refused = await registerStatus(server.url);
  assertEquals(refused.status, 429);
  const retryAfter = Number(refused.headers.get("retry-after"));
  assertEquals(retryAfter > 0 && retryAfter <= 3600, true);
  const body = await refused.json();
  assertEquals(body.error, "temporarily_unavailable");
  assertStringIncludes(body.error_description, "Too many register requests");
});

Deno.test("the registration limit holds across two instances sharing one KV", async () => {
  using kv = await Deno.openKv(":memory:");
  const env = { PORT: "0", HOSTNAME: "127.0.0.1", REGISTER_RATE_LIMIT: "3" };
  const a = await startServer({ env, kv });
  const b = await startServer({ env, kv });
  try {
    assertEquals((await registerStatus(a.url)).status, 201);
    assertEquals((await registerStatus(b.url)).status, 201);
    assertEquals((await registerStatus(a.url)).status, 201);
    const refused = await registerStatus(b.url);
    assertEquals(refused.status, 429);
    await refused.body?.cancel();
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("a proxy header counts only when TRUSTED_PROXY_HEADER names it", async () => {
  {
    // Not configured: a caller sending X-Forwarded-For does not get a fresh budget.
    await using server = await startTestServer({ REGISTER_RATE_LIMIT: "1" });
    assertEquals(
      (await registerStatus(server.url, { "x-forwarded-for": "203.0.113.1" })).status,
      201,
    );
    const spoofed = await registerStatus(server.url, { "x-forwarded-for": "203.0.113.2" });
    assertEquals(spoofed.status, 429);
    await spoofed.body?.cancel();
  }
  {
    // Configured: the rightmost value (the one the trusted proxy appended) is the caller.
    await using server = await startTestServer({
      REGISTER_RATE_LIMIT: "1",
      TRUSTED_PROXY_HEADER: "X-Forwarded-For",
    });
    const a = { "x-forwarded-for": "198.51.100.7, 203.0.113.1" };
    const b = { "x-forwarded-for": "198.51.100.7, 203.0.113.2" };
    assertEquals((await registerStatus(server.url, a)).status, 201);
    assertEquals((await registerStatus(server.url, b)).status, 201);
    const again = await registerStatus(server.url, a);
    assertEquals(again.status, 429);
    await again.body?.cancel();
  }
});

Deno.test("GET /authorize past the per-address limit answers a 429 page", async () => {
  await using server = await startTestServer({ AUTHORIZE_RATE_LIMIT: "2" });
  const client = await register(server.url);
  const { url } = await authorizeUrl(server.url, client.client_id);
  for (let i = 0; i < 2; i++) {
    const ok = await fetch(url, { redirect: "manual" });
    assertEquals(ok.status, 200);
    await ok.body?.cancel();
  }
  const refused = await fetch(url, { redirect: "manual" });
  assertEquals(refused.status, 429);
  assertStringIncludes(refused.headers.get("content-type") ?? "", "text/html");
  assertStringIncludes(await refused.text(), "rate_limited");
});

Deno.test("HEAD /authorize counts against the same limit as GET", async () => {
  await using server = await startTestServer({ AUTHORIZE_RATE_LIMIT: "2" });
  const client = await register(server.url);
  const { url } = await authorizeUrl(server.url, client.client_id);
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await fetch(url, { method: "HEAD", redirect: "manual" });
    await res.body?.cancel();
    statuses.push(res.status);
  }
  assertEquals(statuses, [200, 200, 429]);
});

Deno.test("an unused registration lapses after 24 h; one used at the token endpoint renews itself", async () => {
  let now = Date.UTC(2026, 0, 1);
  await using server = await startTestServer({}, { now: () => now });
  const unused = await register(server.url);
  const used = await register(server.url);
  // Client authentication at the revocation endpoint is a use of the registration.
  const revoke = await fetch(`${server.url}/revoke`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: "nothing", client_id: used.client_id }),
  });
  assertEquals(revoke.status, 200);
  await revoke.body?.cancel();

  now += 24 * 60 * 60 * 1000 + 1;
  const gone = await fetch((await authorizeUrl(server.url, unused.client_id)).url);
  assertEquals(gone.status, 400);
  assertStringIncludes(await gone.text(), "invalid_client");
  const kept = await fetch((await authorizeUrl(server.url, used.client_id)).url);
  assertEquals(kept.status, 200);
  await kept.body?.cancel();
});

Deno.test("GET /account without a browser session counts as starting a sign-in", async () => {
  await using server = await startTestServer({ AUTHORIZE_RATE_LIMIT: "1" });
  const first = await fetch(`${server.url}/account`, { redirect: "manual" });
  assertEquals(first.status, 302);
  await first.body?.cancel();
  const refused = await fetch(`${server.url}/account`, {
    redirect: "manual",
    headers: { accept: "text/html" },
  });
  assertEquals(refused.status, 429);
  assertStringIncludes(await refused.text(), "rate_limited");
});

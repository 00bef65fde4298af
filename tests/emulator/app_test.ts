/**
 * The emulator mounted on another Hono app (as `deno task dev` does) and its injected clock.
 *
 * @module
 */
import { assertEquals, assertRejects } from "@std/assert";
import { OauthException } from "@workos-inc/node";
import { Hono } from "hono";
import { decodeJwt } from "jose";
import { createAuthKitEmulator } from "../../emulator/app.ts";
import { API_KEY, CLIENT_ID, signIn, startEmulator } from "./_harness.ts";

const LOOPBACK = {
  remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 40000 },
  completed: Promise.resolve(),
} as Deno.ServeHandlerInfo;

Deno.test("createAuthKitEmulator() mounts on a host app without touching its other paths", async () => {
  const emulator = await createAuthKitEmulator({ clientId: CLIENT_ID, apiKey: API_KEY });
  const host = new Hono();
  host.get("/", (c) => c.text("host"));
  host.route("/", emulator.app);
  const home = await host.fetch(new Request("http://localhost:8000/"), LOOPBACK);
  assertEquals(await home.text(), "host");
  const other = await host.fetch(new Request("http://localhost:8000/mcp"), LOOPBACK);
  assertEquals(other.status, 404);
  assertEquals(await other.text(), "404 Not Found");
  const jwks = await host.fetch(
    new Request(`http://localhost:8000/sso/jwks/${CLIENT_ID}`),
    LOOPBACK,
  );
  assertEquals((await jwks.json()).keys.length, 1);
  const users = await host.fetch(new Request("http://localhost:8000/_emulator/users"), LOOPBACK);
  assertEquals(users.status, 200);
  await users.body?.cancel();
  const unknown = await host.fetch(new Request("http://localhost:8000/sso/other"), LOOPBACK);
  assertEquals(unknown.status, 404);
  assertEquals((await unknown.json()).message, "Not found: GET /sso/other");
  assertEquals(emulator.requestCount(), 2);
  assertEquals(emulator.requestCount("/"), 0);
});

Deno.test("createAuthKitEmulator() uses the injected clock for codes and tokens", async () => {
  let now = Date.parse("2026-03-01T12:00:00Z");
  await using h = await startEmulator({ clock: () => now });
  const um = h.workos.userManagement;
  const fresh = await signIn(h, "alice@example.com");
  const auth = await um.authenticateWithCode({
    code: fresh.code,
    codeVerifier: fresh.codeVerifier,
  });
  const claims = decodeJwt(auth.accessToken);
  assertEquals(claims.iat, now / 1000);
  assertEquals(claims.exp, now / 1000 + 300);
  assertEquals(new Date(auth.user.lastSignInAt ?? 0).toISOString(), "2026-03-01T12:00:00.000Z");

  const stale = await signIn(h, "alice@example.com");
  now += 10 * 60 * 1000;
  const error = await assertRejects(
    () => um.authenticateWithCode({ code: stale.code, codeVerifier: stale.codeVerifier }),
    OauthException,
  );
  assertEquals([error.error, error.errorDescription], ["invalid_grant", "The code has expired."]);
});

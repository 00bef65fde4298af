/**
 * A changed COOKIE_ENCRYPTION_KEY ends the grants it can no longer open, cleanly (invalid_grant / 401,
 * one warning line); a rotation with COOKIE_ENCRYPTION_KEY_PREVIOUS logs nobody out.
 */
import { assert, assertEquals } from "@std/assert";
import { createAuthKitEmulator } from "../../emulator/app.ts";
import { startServer } from "../../app/serve.ts";
import { captureLogs } from "../audit/_logs.ts";
import { startProxy } from "../helpers/proxy.ts";
import { discover } from "../helpers/mcp_clients.ts";
import { postForm, signIn } from "../helpers/oauth.ts";
import "../helpers/server.ts"; // quiet logs

const K1 = "1".repeat(64);
const K2 = "2".repeat(64);

/**
 * Instances behind one public URL (a proxy, aimed at the newest instance) with one WorkOS (an emulator
 * outside them), as in production: tokens and WorkOS sessions outlive any one instance.
 */
async function deployment() {
  const kv = await Deno.openKv(":memory:");
  const emulator = await createAuthKitEmulator({ clientId: "client_keys", apiKey: "sk_keys" });
  const workos = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (req, info) => emulator.app.fetch(req, info),
  );
  const proxy = startProxy();
  const env = {
    WORKOS_CLIENT_ID: "client_keys",
    WORKOS_API_KEY: "sk_keys",
    WORKOS_API_HOSTNAME: "127.0.0.1",
    WORKOS_API_PORT: String(workos.addr.port),
    WORKOS_API_HTTPS: "false",
    PUBLIC_URL: proxy.url,
    PORT: "0",
    HOSTNAME: "127.0.0.1",
  };
  return {
    url: proxy.url,
    /** Starts an instance and aims the proxy at it. */
    async serve(extra: Record<string, string>) {
      const server = await startServer({ env: { ...env, ...extra }, kv });
      this.aim(server);
      return Object.assign(server, { [Symbol.asyncDispose]: () => server.close() });
    },
    aim(server: { config: { port: number } }) {
      proxy.setBackends([`http://127.0.0.1:${server.config.port}`]);
    },
    async [Symbol.asyncDispose]() {
      await proxy.close();
      await workos.shutdown();
      kv.close();
    },
  };
}

function refresh(base: string, clientId: string, token: string) {
  return postForm(base, "/token", {
    grant_type: "refresh_token",
    refresh_token: token,
    client_id: clientId,
  });
}

Deno.test("a changed key ends the grants it cannot open at start: one warning line, then invalid_grant and 401", async () => {
  using logs = captureLogs();
  await using d = await deployment();
  let alice;
  {
    await using _a = await d.serve({ COOKIE_ENCRYPTION_KEY: K1 });
    alice = await signIn(d.url, "alice@example.com");
  }
  await using _b = await d.serve({ COOKIE_ENCRYPTION_KEY: K2 });
  const warnings = logs.lines.filter((l) => l.level === "warn" && String(l.msg).includes("ended"));
  assertEquals(warnings.length, 1);
  assertEquals(warnings[0]!.ended, 1);
  assert(String(warnings[0]!.fix).includes("COOKIE_ENCRYPTION_KEY_PREVIOUS"));
  const denied = await discover(d.url, alice.accessToken);
  assertEquals(denied.status, 401);
  const res = await refresh(d.url, alice.clientId, alice.refreshToken);
  assertEquals([res.status, res.body.error], [400, "invalid_grant"]);
});

Deno.test("a grant sealed with a key this instance lacks is ended when it next refreshes, never 503", async () => {
  using logs = captureLogs();
  await using d = await deployment();
  await using a = await d.serve({ COOKIE_ENCRYPTION_KEY: K1 });
  await using b = await d.serve({ COOKIE_ENCRYPTION_KEY: K2 }); // a misconfigured instance
  d.aim(a);
  const alice = await signIn(d.url, "alice@example.com"); // sealed by the first instance
  d.aim(b);
  const res = await refresh(d.url, alice.clientId, alice.refreshToken);
  assertEquals([res.status, res.body.error], [400, "invalid_grant"]);
  d.aim(a);
  assertEquals((await discover(d.url, alice.accessToken)).status, 401, "ended everywhere");
  assert(logs.lines.some((l) => l.level === "warn" && String(l.msg).includes("1 grant ended")));
});

Deno.test("a rotation with COOKIE_ENCRYPTION_KEY_PREVIOUS logs nobody out, and re-seals so the old key can go", async () => {
  await using d = await deployment();
  let alice;
  {
    await using _a = await d.serve({ COOKIE_ENCRYPTION_KEY: K1 });
    alice = await signIn(d.url, "alice@example.com");
  }
  {
    await using _b = await d.serve({
      COOKIE_ENCRYPTION_KEY: K2,
      COOKIE_ENCRYPTION_KEY_PREVIOUS: K1,
    });
    assertEquals((await discover(d.url, alice.accessToken)).status, 200, "still signed in");
  }
  // The old key dropped: the start-up scan sealed the grant again with K2, so it keeps refreshing.
  await using _c = await d.serve({ COOKIE_ENCRYPTION_KEY: K2 });
  const next = await refresh(d.url, alice.clientId, alice.refreshToken);
  assertEquals(next.status, 200, JSON.stringify(next.body));
  assertEquals((await discover(d.url, String(next.body.access_token))).status, 200);
});

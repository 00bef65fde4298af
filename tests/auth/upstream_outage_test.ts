/**
 * WorkOS incidents during refresh: only WorkOS refusing the user's session ends a grant. Our credentials
 * refused, a wrong host, 5xx, a dropped connection and a stall are outages: the grant lives, serves within
 * the permission bound, answers 503 with Retry-After past it, works again after recovery, and the log
 * names the variable to check.
 */
import { assert, assertEquals } from "@std/assert";
import type { Grant } from "../../auth/grants.ts";
import { grantIdOf } from "../../auth/tokens.ts";
import { keys } from "../../lib/kv_keys.ts";
import { captureLogs } from "../audit/_logs.ts";
import { discover } from "../helpers/mcp_clients.ts";
import { refreshTokens, signIn } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

type Server = Awaited<ReturnType<typeof startTestServer>>;

function refresh(server: Server, clientId: string, token: string) {
  return refreshTokens(server.url, clientId, token);
}

async function grantOf(server: Server, token: string): Promise<Grant | null> {
  return (await server.kv.get<Grant>(keys.grant(grantIdOf(token)!))).value;
}

const faults: Array<{ name: string; inject: (s: Server) => void; check?: string }> = [
  {
    name: "401 (our API key refused)",
    inject: (s) => s.emulator!.failNext(401, 50),
    check: "WORKOS_API_KEY",
  },
  { name: "403", inject: (s) => s.emulator!.failNext(403, 50), check: "WORKOS_API_KEY" },
  {
    name: "404 (wrong host)",
    inject: (s) => s.emulator!.failNext(404, 50),
    check: "WORKOS_API_HOSTNAME",
  },
  { name: "500", inject: (s) => s.emulator!.failNext(500, 50) },
  { name: "a dropped connection", inject: (s) => s.emulator!.failNext("reset", 50) },
  { name: "a stall past WORKOS_TIMEOUT_MS", inject: (s) => s.emulator!.stallNext(1000, 3) },
];

for (const fault of faults) {
  Deno.test(`WorkOS answering ${fault.name} during refresh keeps the grant; 503 past the bound; works after recovery`, async () => {
    using logs = captureLogs();
    let now = Date.now();
    await using server = await startTestServer(
      { PERMISSIONS_MAX_AGE_SECONDS: "60", WORKOS_TIMEOUT_MS: "300" },
      { now: () => now },
    );
    const alice = await signIn(server.url, "alice@example.com");
    fault.inject(server);

    const within = await refresh(server, alice.clientId, alice.refreshToken);
    assertEquals(within.status, 200, "within the bound, the last known permissions serve");
    const access = String(within.body.access_token);
    assertEquals((await discover(server.url, access)).status, 200);

    now += 61_000; // past the bound, WorkOS still failing
    const stale = await discover(server.url, access);
    assertEquals(stale.status, 503);
    const past = await refresh(server, alice.clientId, String(within.body.refresh_token));
    assertEquals([past.status, past.body.error], [503, "temporarily_unavailable"]);
    assertEquals(past.headers.get("retry-after"), "5");
    assert((await grantOf(server, access)) !== null, "the grant survives the outage");
    if (fault.check) {
      assert(
        logs.lines.some((l) => l.level === "error" && String(l.check).includes(fault.check!)),
        `an error log names ${fault.check}`,
      );
    }

    server.emulator!.clearFaults(); // WorkOS recovers
    const retried = await refresh(server, alice.clientId, String(within.body.refresh_token));
    assertEquals(retried.status, 200, JSON.stringify(retried.body));
    assertEquals((await discover(server.url, String(retried.body.access_token))).status, 200);
  });
}

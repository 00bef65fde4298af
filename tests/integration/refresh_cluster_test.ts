/**
 * The refresh policy across real processes sharing one KV file behind a round-robin proxy: concurrent
 * refreshes split across instances all end with one working pair, and a process killed in the middle of
 * a refresh leaves a state from which the client's retry, on another instance, succeeds.
 */
import { assert, assertEquals } from "@std/assert";
import { startCluster } from "../helpers/cluster.ts";
import { discover } from "../helpers/mcp_clients.ts";
import { postForm, signIn } from "../helpers/oauth.ts";

const AUTHENTICATE = "/user_management/authenticate";

Deno.test("20 concurrent refreshes split across two instances: one pair for all, WorkOS asked once", async () => {
  await using cluster = await startCluster({ instances: 2 });
  const alice = await signIn(cluster.url, "alice@example.com");
  const before = cluster.emulator.requestCount(AUTHENTICATE);
  const from = cluster.proxy.log.length;
  const results = await Promise.all(
    Array.from({ length: 20 }, () =>
      postForm(cluster.url, "/token", {
        grant_type: "refresh_token",
        refresh_token: alice.refreshToken,
        client_id: alice.clientId,
      })),
  );
  const backends = new Set(
    cluster.proxy.log.slice(from).filter((e) => e.path === "/token").map((e) => e.backend),
  );
  assertEquals(backends.size, 2, "the refreshes landed on both instances");
  assertEquals(results.map((r) => r.status), Array(20).fill(200));
  assertEquals(new Set(results.map((r) => r.body.access_token)).size, 1);
  assertEquals(cluster.emulator.requestCount(AUTHENTICATE) - before, 1);
  const pair = results[11]!.body;
  assertEquals((await discover(cluster.url, String(pair.access_token))).status, 200);
  const next = await postForm(cluster.url, "/token", {
    grant_type: "refresh_token",
    refresh_token: String(pair.refresh_token),
    client_id: alice.clientId,
  });
  assertEquals(next.status, 200);
});

Deno.test("a server process killed mid-refresh: the client's retry on another instance succeeds", async () => {
  await using cluster = await startCluster({ instances: 2, env: { WORKOS_TIMEOUT_MS: "1000" } });
  const alice = await signIn(cluster.url, "alice@example.com");
  const form = {
    grant_type: "refresh_token",
    refresh_token: alice.refreshToken,
    client_id: alice.clientId,
  };
  // WorkOS is slow to answer: the first instance is inside the refresh when it dies.
  cluster.emulator.stallNext(2000);
  const before = cluster.emulator.requestCount(AUTHENTICATE);
  const doomed = postForm(cluster.instances[0]!.origin, "/token", form).catch((err) => err);
  for (let i = 0; i < 200 && cluster.emulator.requestCount(AUTHENTICATE) === before; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assertEquals(
    cluster.emulator.requestCount(AUTHENTICATE),
    before + 1,
    "killed while asking WorkOS",
  );
  await cluster.stop(0);
  assert((await doomed) instanceof Error, "the client never got an answer");

  const retry = await postForm(cluster.instances[1]!.origin, "/token", form);
  assertEquals(retry.status, 200, JSON.stringify(retry.body));
  assertEquals((await discover(cluster.url, String(retry.body.access_token))).status, 200);
  const next = await postForm(cluster.instances[1]!.origin, "/token", {
    ...form,
    refresh_token: String(retry.body.refresh_token),
  });
  assertEquals(next.status, 200, "and the grant goes on refreshing");
});

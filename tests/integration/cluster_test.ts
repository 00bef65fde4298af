/**
 * Many instances: three server processes over one KV file behind a round-robin proxy (no sticky
 * routing, as on Deno Deploy). The real SDK clients sign in through it and work although consecutive
 * requests land on different instances; killing an instance mid-run leaves 2025 sessions working, and
 * gives SSE clients of the dead instance a clean 404, after which they reconnect.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { type Cluster, publishToolsChanged, startCluster } from "../helpers/cluster.ts";
import { postMcp, waitFor, whoami } from "../helpers/mcp_clients.ts";
import { sdkSignIn, signIn, type TestOAuthProvider } from "../helpers/oauth.ts";
import {
  Client,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  ToolListChangedNotificationSchema,
} from "../helpers/sdk_v1.ts";
import {
  Client as ClientV2,
  MODERN_PROTOCOL_VERSION,
  StreamableHTTPClientTransport as TransportV2,
} from "../helpers/sdk_v2.ts";
import { toolNames } from "../helpers/tools.ts";

const names = (list: { tools: { name: string }[] }) => list.tools.map((t) => t.name);
type Caller = {
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
};
const sum = async (client: Caller, a: number, b: number) => {
  const result = await client.callTool({ name: "add", arguments: { a, b } }) as {
    content: { type: string; text?: string }[];
  };
  return result.content[0]?.text;
};

/** Publishes `tools_list_changed` until `arrived()` (at most 3 times, 3 s apart). */
async function deliveredEventually(cluster: Cluster, arrived: () => boolean, what: string) {
  for (let attempt = 1; attempt <= 3; attempt++) {
    await publishToolsChanged(cluster);
    try {
      return await waitFor(arrived, 3000, what);
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

/** The requests of `path` since `from` in the proxy log: which backends served them, and statuses. */
function served(cluster: Cluster, path: string, from = 0) {
  const entries = cluster.proxy.log.slice(from).filter((e) => e.path === path);
  return {
    backends: new Set(entries.map((e) => e.backend)),
    statuses: entries.map((e) => e.status),
    count: entries.length,
  };
}

function v1Client() {
  const client = new Client({ name: "v1-cluster", version: "1.0.0" });
  let changes = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    changes++;
  });
  return { client, changes: () => changes };
}

Deno.test("cluster: v1 Streamable HTTP, v1 SSE and v2 2026-07-28 clients work across 3 instances", async (t) => {
  await using cluster = await startCluster({ instances: 3 });
  const mcpUrl = `${cluster.url}/mcp`;
  const sseUrl = `${cluster.url}/sse`;

  await t.step(
    "v1 client over Streamable HTTP: sign-in, session, calls, list_changed",
    async () => {
      const from = cluster.proxy.log.length;
      const provider = await sdkSignIn(mcpUrl, "alice@example.com");
      const { client, changes } = v1Client();
      const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
        authProvider: provider,
      });
      await client.connect(transport);
      try {
        assert(transport.sessionId, "a 2025 session was issued");
        assertEquals(names(await client.listTools()), toolNames(["image_generation"]));
        for (let i = 0; i < 6; i++) assertEquals(await sum(client, i, 10), String(i + 10));
        await waitFor(() => served(cluster, "/mcp", from).count > 9, 5000, "the GET stream");
        // The proxy sees the GET before its instance has subscribed; an event published before that is
        // rightly not delivered (a client lists tools when it connects). So publish until one arrives.
        await deliveredEventually(
          cluster,
          () => changes() >= 1,
          "list_changed from another process",
        );
        const mcp = served(cluster, "/mcp", from);
        assertEquals(mcp.backends.size, 3, "the session was served by every instance");
        assert(mcp.statuses.every((s) => s < 500), `statuses: ${mcp.statuses}`);
        const signInRequests = cluster.proxy.log.slice(from).filter((e) => e.path !== "/mcp");
        assertEquals(new Set(signInRequests.map((e) => e.backend)).size, 3);

        // Every instance applies the same session rules to a session it did not create.
        const token = provider.saved!.access_token;
        const bob = (await signIn(cluster.url, "bob@example.com")).accessToken;
        const list = { jsonrpc: "2.0", id: 9, method: "tools/list", params: {} };
        const version = { "mcp-protocol-version": "2025-11-25" };
        const sessionId = transport.sessionId!;
        for (const { origin } of cluster.instances) {
          const stolen = await postMcp(origin, bob, list, {
            ...version,
            "mcp-session-id": sessionId,
          });
          assertEquals(stolen.status, 404);
          assertEquals((stolen.message?.error as { code: number }).code, -32001);
          assertEquals((await postMcp(origin, token, list, version)).status, 400, "no session id");
        }

        await transport.terminateSession();
        // A DELETE on one instance ends the session on all of them (within a bus poll interval).
        const statusOn = async (origin: string) =>
          (await postMcp(origin, token, list, { ...version, "mcp-session-id": sessionId })).status;
        await waitFor(
          async () =>
            (await Promise.all(cluster.instances.map((i) => statusOn(i.origin)))).every((s) =>
              s === 404
            ),
          5000,
          "404 for the ended session on every instance",
        );

        // One JSON line per request on the instance that served it; pseudonyms, never secrets.
        const lines = cluster.instances.flatMap((i) => i.logs).filter((l) => l.msg === "request");
        const mcpLines = lines.filter((l) => l.route === "/mcp" && l.session !== undefined);
        assertEquals(new Set(mcpLines.map((l) => l.instance)).size, 3);
        assertEquals(new Set(mcpLines.map((l) => l.session)).size, 1, "one session, one pseudonym");
        const users = new Set(mcpLines.filter((l) => l.status !== 404).map((l) => l.user));
        assertEquals(users.size, 1, "one user, one pseudonym on every instance");
        assertEquals(lines.length >= served(cluster, "/mcp", from).count, true);
        const text = JSON.stringify(cluster.instances.flatMap((i) => i.logs));
        for (const secret of [token, provider.saved!.refresh_token!, bob, sessionId]) {
          assertEquals(text.includes(secret), false, "no token or raw session id in any log line");
        }
      } finally {
        await client.close();
      }
    },
  );

  await t.step("v1 client over SSE: POSTs on other instances reach the stream", async () => {
    const from = cluster.proxy.log.length;
    const provider = await sdkSignIn(sseUrl, "alice@example.com");
    const { client, changes } = v1Client();
    await client.connect(new SSEClientTransport(new URL(sseUrl), { authProvider: provider }));
    try {
      assertEquals(names(await client.listTools()), toolNames(["image_generation"]));
      for (let i = 0; i < 6; i++) assertEquals(await sum(client, i, 1), String(i + 1));
      // A reply can reach the stream before its POST's 202 reaches the client.
      await waitFor(() => !served(cluster, "/messages", from).statuses.includes(0), 5000, "202s");
      const posts = served(cluster, "/messages", from);
      assertEquals(posts.backends.size, 3, "messages were posted to every instance");
      assert(posts.statuses.every((s) => s === 202), `statuses: ${posts.statuses}`);
      assertEquals(served(cluster, "/sse", from).count, 1, "one stream, held by one instance");
      await deliveredEventually(cluster, () => changes() >= 1, "list_changed on the SSE stream");
    } finally {
      await client.close();
    }
  });

  await t.step("v2 client on 2026-07-28: stateless calls and a listen stream", async () => {
    const bob = await signIn(cluster.url, "bob@example.com");
    const from = cluster.proxy.log.length;
    const client = new ClientV2(
      { name: "v2-cluster", version: "1.0.0" },
      { versionNegotiation: { mode: { pin: MODERN_PROTOCOL_VERSION } } },
    );
    let changes = 0;
    client.setNotificationHandler("notifications/tools/list_changed", () => {
      changes++;
    });
    const transport = new TransportV2(new URL(mcpUrl), {
      requestInit: { headers: { authorization: `Bearer ${bob.accessToken}` } },
    });
    await client.connect(transport);
    try {
      assertEquals(client.getNegotiatedProtocolVersion(), MODERN_PROTOCOL_VERSION);
      assertEquals(names(await client.listTools()), toolNames([]));
      for (let i = 0; i < 4; i++) assertEquals(await sum(client, i, 2), String(i + 2));
      const subscription = await client.listen({ toolsListChanged: true });
      await deliveredEventually(cluster, () => changes >= 1, "list_changed on the listen stream");
      await subscription.close();
      const mcp = served(cluster, "/mcp", from);
      assertEquals(mcp.backends.size, 3);
      assert(mcp.statuses.every((s) => s < 500), `statuses: ${mcp.statuses}`);
    } finally {
      await client.close();
    }
  });
});

Deno.test("cluster: killing an instance mid-run: sessions go on, its SSE clients get 404 and reconnect", async () => {
  await using cluster = await startCluster({ instances: 3 });
  const mcpUrl = `${cluster.url}/mcp`;
  const sseUrl = `${cluster.url}/sse`;
  const httpProvider = await sdkSignIn(mcpUrl, "alice@example.com");
  const sseProvider: TestOAuthProvider = await sdkSignIn(sseUrl, "bob@example.com");
  const v2Token = (await signIn(cluster.url, "alice@example.com")).accessToken;

  const http = v1Client();
  const httpTransport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    authProvider: httpProvider,
  });
  await http.client.connect(httpTransport);
  const sse = v1Client();
  const streamAt = cluster.proxy.log.length;
  await sse.client.connect(new SSEClientTransport(new URL(sseUrl), { authProvider: sseProvider }));
  const holder = cluster.proxy.log.slice(streamAt).find((e) => e.path === "/sse")!.backend;
  try {
    assertEquals(await sum(http.client, 1, 1), "2");
    assertEquals(await sum(sse.client, 2, 2), "4");

    const status = await cluster.stop(holder, "SIGKILL");
    assertEquals(status.signal, "SIGKILL");
    const afterKill = cluster.proxy.log.length;

    // The 2025 session lives in KV: the survivors serve it, no re-initialize needed.
    for (let i = 0; i < 4; i++) assertEquals(await sum(http.client, i, 100), String(i + 100));

    // A 2026-07-28 client is stateless: nothing to lose.
    assertEquals((await whoami(cluster.url, v2Token)).email, "alice@example.com");

    // The SSE stream died with its instance: the next message gets a clean 404 (the survivor's
    // delivery to the dead holder timed out), not a hang (the SDK's own timeout is 60 s and says so)
    // and not a 500.
    const err = await assertRejects(() =>
      sse.client.callTool({ name: "add", arguments: { a: 1, b: 1 } })
    );
    assertStringIncludes(String(err), "404");
    assertStringIncludes(String(err), "Session not found");
    const survivors = cluster.instances.filter((i) => i.alive).flatMap((i) => i.logs);
    assert(
      survivors.some((l) => l.msg === "SSE stream unreachable" && l.outcome === "timeout"),
      "the survivor gave up on the dead holder",
    );
    const statuses = cluster.proxy.log.slice(afterKill).map((e) => e.status);
    assert(statuses.every((s) => s < 500), `no 5xx after the kill: ${statuses}`);

    // Reconnecting (what a client does after a 404) lands on a survivor and works.
    await sse.client.close();
    const again = v1Client();
    await again.client.connect(
      new SSEClientTransport(new URL(sseUrl), { authProvider: sseProvider }),
    );
    try {
      assertEquals(await sum(again.client, 20, 22), "42");
    } finally {
      await again.client.close();
    }
  } finally {
    await http.client.close();
    await sse.client.close();
  }
});

Deno.test("cluster: a SIGTERM'd instance exits in seconds; its 2025 and SSE clients reconnect elsewhere; old SSE sessions get 404 at once", async () => {
  await using cluster = await startCluster({ instances: 2 });
  const mcpUrl = `${cluster.url}/mcp`;
  const sseUrl = `${cluster.url}/sse`;
  const http = v1Client();
  const httpTransport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    authProvider: await sdkSignIn(mcpUrl, "alice@example.com"),
  });
  const from = cluster.proxy.log.length;
  await http.client.connect(httpTransport);
  await waitFor(
    () => cluster.proxy.log.slice(from).some((e) => e.method === "GET" && e.path === "/mcp"),
    5000,
    "the GET stream",
  );
  const victim = cluster.proxy.log.slice(from).find((e) => e.method === "GET")!.backend;
  // An SSE client whose stream lands on the same instance (reconnect until round-robin puts it there).
  const sseProvider = await sdkSignIn(sseUrl, "bob@example.com");
  const sseToken = sseProvider.saved!.access_token;
  let sse = v1Client();
  let landed = false;
  let sseAt = 0;
  for (let attempt = 0; attempt < 6 && !landed; attempt++) {
    sse = v1Client();
    sseAt = cluster.proxy.log.length;
    await sse.client.connect(
      new SSEClientTransport(new URL(sseUrl), { authProvider: sseProvider }),
    );
    landed = cluster.proxy.log.slice(sseAt).find((e) => e.path === "/sse")!.backend === victim;
    if (landed) break;
    await sse.client.close();
    // A connect makes an even number of proxied requests: one more shifts the round-robin.
    await (await fetch(`${cluster.url}/healthz`)).body?.cancel();
  }
  assert(landed, "the SSE stream landed on the instance to be stopped");
  try {
    assertEquals(await sum(sse.client, 2, 3), "5");
    const status = await cluster.stop(victim, "SIGTERM");
    assertEquals(status.code, 0, "a clean exit, not the 4 s deadline's exit 1");
    const victimLogs = cluster.instances[victim]!.logs;
    assertEquals(victimLogs.filter((l) => l.msg === "shutdown took too long; exiting").length, 0);

    // The 2025 client reopens its GET stream on the survivor and still gets notifications.
    const reconnected = cluster.proxy.log.length;
    await waitFor(
      () =>
        cluster.proxy.log.slice(reconnected).some((e) =>
          e.method === "GET" && e.path === "/mcp" && e.status === 200
        ),
      10_000,
      "the GET stream reopened elsewhere",
    );
    await deliveredEventually(
      cluster,
      () => http.changes() >= 1,
      "list_changed after the handover",
    );
    assertEquals(await sum(http.client, 40, 2), "42");

    {
      // The SSE stream ended with `retry: 1000`: the client's EventSource reconnected to the survivor
      // (a new session, a new endpoint) and goes on.
      assertEquals(await sum(sse.client, 1, 1), "2");
      const reopened = cluster.proxy.log.slice(sseAt).filter((e) => e.path === "/sse");
      assertEquals(reopened.length, 2, "the EventSource reconnected once");
      assertEquals(reopened.map((e) => e.backend), [victim, 1 - victim]);
      // The old session was deleted on shutdown: a POST to it gets 404 at once, not after a timeout.
      const old = cluster.proxy.log.slice(sseAt).find((e) => e.path === "/messages")!.search;
      const res = await fetch(`${cluster.url}/messages${old}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${sseToken}`,
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "ping" }),
      });
      assertEquals(res.status, 404);
      assertEquals((await res.json()).error.code, -32001);
      const survivor = cluster.instances[1 - victim]!.logs;
      assertEquals(
        survivor.filter((l) => l.msg === "SSE stream unreachable").length,
        0,
        "no delivery was even tried: the record was gone",
      );
    }
  } finally {
    await http.client.close();
    await sse.client.close();
  }
});

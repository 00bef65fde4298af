/**
 * Resumability across instances: the instance holding a 2025 client's `GET` stream is killed while a
 * `tools/list_changed` is in flight to it; the v1 SDK client reconnects with `Last-Event-ID`, lands on
 * the other instance, and receives the notification there. A POST's result lost with its connection
 * is replayed by another instance.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { publishToolsChanged, startCluster } from "../helpers/cluster.ts";
import { openSession, waitFor } from "../helpers/mcp_clients.ts";
import { sdkSignIn } from "../helpers/oauth.ts";
import {
  Client,
  StreamableHTTPClientTransport,
  ToolListChangedNotificationSchema,
} from "../helpers/sdk_v1.ts";

Deno.test("cluster: a GET stream's holder is killed with a notification in flight; the client resumes elsewhere and gets it", async () => {
  await using cluster = await startCluster({ instances: 2 });
  const mcpUrl = `${cluster.url}/mcp`;
  const client = new Client({ name: "v1-resume", version: "1.0.0" });
  let changes = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    changes++;
  });
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    authProvider: await sdkSignIn(mcpUrl, "alice@example.com"),
  });
  const from = cluster.proxy.log.length;
  await client.connect(transport);
  try {
    await waitFor(
      () => cluster.proxy.log.slice(from).some((e) => e.method === "GET" && e.status === 200),
      5000,
      "the GET stream",
    );
    const victim = cluster.proxy.log.slice(from).find((e) => e.method === "GET")!.backend;
    await new Promise((r) => setTimeout(r, 300)); // the priming event reaches the client

    await cluster.stop(victim, "SIGKILL");
    const afterKill = cluster.proxy.log.length;
    await publishToolsChanged(cluster); // in flight to an instance that is gone
    assertEquals(changes, 0);

    await waitFor(() => changes >= 1, 10_000, "list_changed on the resumed stream");
    const resumed = cluster.proxy.log.slice(afterKill).filter((e) =>
      e.method === "GET" && e.path === "/mcp" && e.status === 200
    );
    assert(resumed.length >= 1, "the client reopened its GET stream");
    assertEquals(resumed[0]!.backend, 1 - victim, "on the surviving instance");
    assert(resumed[0]!.lastEventId, "with Last-Event-ID");
  } finally {
    await client.close();
  }
});

Deno.test("cluster: a POST's result, lost with its connection on one instance, is replayed by another", async () => {
  await using cluster = await startCluster({ instances: 2 });
  const token = (await sdkSignIn(`${cluster.url}/mcp`, "alice@example.com")).saved!.access_token;
  const [first, second] = cluster.instances.map((i) => i.origin) as [string, string];
  const session = await openSession(first, token);
  const headers = {
    authorization: `Bearer ${token}`,
    "mcp-session-id": session,
    "mcp-protocol-version": "2025-11-25",
  };
  const res = await fetch(`${first}/mcp`, {
    method: "POST",
    headers: {
      ...headers,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "add", arguments: { a: 20, b: 22 } },
    }),
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("data: \n\n")) text += (await reader.read()).value ?? "";
  const primed = /^id: (p\.[A-Za-z0-9_.-]+\.0)\n/.exec(text)![1]!;
  await reader.cancel(); // the connection to the first instance is gone

  const resumed = await fetch(`${second}/mcp`, {
    headers: { ...headers, accept: "text/event-stream", "last-event-id": primed },
  });
  assertEquals(resumed.status, 200);
  const replay = await resumed.text(); // ends once the stream's last event is sent
  assertStringIncludes(replay, '"id":3');
  assertStringIncludes(replay, '"text":"42"');
});

/**
 * Resumability across instances: the instance holding a 2025 client's `GET` stream is killed while a
 * `tools/list_changed` is in flight to it; the v1 SDK client reconnects with `Last-Event-ID`, lands on
 * the other instance, and receives the notification there.
 */
import { assert, assertEquals } from "@std/assert";
import { publishToolsChanged, startCluster } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/mcp_clients.ts";
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

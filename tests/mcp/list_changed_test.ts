import { TOKEN_CACHE_MS } from "../../auth/token_cache.ts";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import {
  grantIdOf,
  grantStore,
  openSession,
  postMcp,
  startPngBackend,
  waitFor,
} from "../helpers/mcp_clients.ts";
import { sdkSignIn, signIn } from "../helpers/oauth.ts";
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
import { startTestServer } from "../helpers/server.ts";
import { toolNames } from "../helpers/tools.ts";

const names = (list: { tools: { name: string }[] }) => list.tools.map((t) => t.name);

Deno.test("/mcp (v1 client) gets tools/list_changed when the grant's permissions change", async () => {
  await using backend = await startPngBackend();
  await using server = await startTestServer(backend.env);
  const mcp = `${server.url}/mcp`;
  const provider = await sdkSignIn(mcp, "alice@example.com");
  const grants = await grantStore(server.kv);
  const grantId = grantIdOf(provider.saved!.access_token);
  const client = new Client({ name: "v1-test", version: "1.0.0" });
  let changes = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    changes++;
  });
  const transport = new StreamableHTTPClientTransport(new URL(mcp), { authProvider: provider });
  await client.connect(transport);
  try {
    assertEquals(names(await client.listTools()), toolNames(["image_generation"]));
    // Changed at once, maybe before the client's GET stream is open: the session remembers what it saw.
    await grants.updatePermissions(grantId, []);
    await waitFor(() => changes === 1, 5000, "the first list_changed");
    assertEquals(names(await client.listTools()), toolNames([]));
    const err = await assertRejects(() =>
      client.callTool({ name: "generateImage", arguments: { prompt: "x" } })
    );
    assertStringIncludes(String(err), "image_generation");
    assertEquals(backend.requests.length, 0);

    await grants.updatePermissions(grantId, ["image_generation"]);
    await waitFor(() => changes === 2, 5000, "the second list_changed");
    assertEquals(names(await client.listTools()), toolNames(["image_generation"]));
    await transport.terminateSession();
  } finally {
    await client.close();
  }
});

Deno.test("/mcp lists fresh tools, even without a stream, once the token cache bound has passed", async () => {
  let offset = 0;
  await using server = await startTestServer({}, { now: () => Date.now() + offset });
  const alice = await signIn(server.url, "alice@example.com");
  const grants = await grantStore(server.kv);
  const id = await openSession(server.url, alice.accessToken);
  const headers = { "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" };
  const list = { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} };
  await grants.updatePermissions(grantIdOf(alice.accessToken), []);
  offset = TOKEN_CACHE_MS; // a change made elsewhere reaches this instance's cache within the bound
  const res = await postMcp(server.url, alice.accessToken, list, headers);
  assertEquals(names(res.message?.result as { tools: { name: string }[] }), toolNames([]));
});

Deno.test("/mcp ends a session and closes its stream when the grant is revoked", async () => {
  await using server = await startTestServer();
  const alice = await signIn(server.url, "alice@example.com");
  const id = await openSession(server.url, alice.accessToken);
  const stream = await fetch(`${server.url}/mcp`, {
    headers: {
      authorization: `Bearer ${alice.accessToken}`,
      accept: "text/event-stream",
      "mcp-session-id": id,
      "mcp-protocol-version": "2025-11-25",
    },
  });
  assertEquals(stream.status, 200);
  await (await grantStore(server.kv)).revoke(grantIdOf(alice.accessToken));
  const text = await stream.text(); // resolves only once the server closes the stream
  assertEquals(text.replace(/^id: \d+\nretry: 1000\ndata: \n\n/, ""), ""); // the priming event only
  const left = [];
  for await (const e of server.kv.list({ prefix: ["mcp", "session"] })) left.push(e);
  assertEquals(left.length, 0);
});

Deno.test("/sse (v1 client) gets tools/list_changed and a fresh list when permissions change", async () => {
  await using server = await startTestServer();
  const sse = `${server.url}/sse`;
  const provider = await sdkSignIn(sse, "bob@example.com");
  const grants = await grantStore(server.kv);
  const client = new Client({ name: "v1-sse-test", version: "1.0.0" });
  let changes = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    changes++;
  });
  await client.connect(new SSEClientTransport(new URL(sse), { authProvider: provider }));
  try {
    assertEquals(names(await client.listTools()), toolNames([]));
    await grants.updatePermissions(grantIdOf(provider.saved!.access_token), ["image_generation"]);
    await waitFor(() => changes > 0, 5000, "list_changed on the SSE stream");
    assertEquals(names(await client.listTools()), toolNames(["image_generation"]));
    assertEquals(changes, 1, "one notification for one change");
  } finally {
    await client.close();
  }
});

Deno.test("/sse closes the stream when the grant is revoked", async () => {
  await using server = await startTestServer();
  const sse = `${server.url}/sse`;
  const provider = await sdkSignIn(sse, "bob@example.com");
  const token = provider.saved!.access_token;
  const res = await fetch(sse, {
    headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
  });
  assertEquals(res.status, 200);
  await (await grantStore(server.kv)).revoke(grantIdOf(token));
  const text = await res.text();
  assert(text.startsWith("event: endpoint\n"), text);
});

Deno.test("/mcp (v2 client, 2026-07-28) gets tools/list_changed on subscriptions/listen", async () => {
  await using server = await startTestServer();
  const bob = await signIn(server.url, "bob@example.com");
  const grants = await grantStore(server.kv);
  const client = new ClientV2(
    { name: "v2-test", version: "1.0.0" },
    { versionNegotiation: { mode: { pin: MODERN_PROTOCOL_VERSION } } },
  );
  let changes = 0;
  client.setNotificationHandler("notifications/tools/list_changed", () => {
    changes++;
  });
  const transport = new TransportV2(new URL(`${server.url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${bob.accessToken}` } },
  });
  await client.connect(transport);
  try {
    assertEquals(names(await client.listTools()), toolNames([]));
    const subscription = await client.listen({ toolsListChanged: true });
    await grants.updatePermissions(grantIdOf(bob.accessToken), ["image_generation"]);
    await waitFor(() => changes > 0, 5000, "list_changed on the listen stream");
    assertEquals(names(await client.listTools({}, { cacheMode: "bypass" })), [
      "add",
      "generateImage",
      "whoami",
    ]);
    await subscription.close();
  } finally {
    await client.close();
  }
});

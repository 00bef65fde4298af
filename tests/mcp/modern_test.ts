import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { PNG_SIGNATURE, startPngBackend } from "../helpers/mcp_clients.ts";
import { signIn } from "../helpers/oauth.ts";
import {
  Client,
  MODERN_PROTOCOL_VERSION,
  ProtocolError,
  StreamableHTTPClientTransport,
} from "../helpers/sdk_v2.ts";
import { startTestServer } from "../helpers/server.ts";
import { toolNames } from "../helpers/tools.ts";

function modernClient(url: string, token: string) {
  const client = new Client(
    { name: "v2-test", version: "1.0.0" },
    { versionNegotiation: { mode: { pin: MODERN_PROTOCOL_VERSION } } },
  );
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  return { client, transport };
}

Deno.test("/mcp (v2 client, 2026-07-28) gives alice generateImage and a PNG", async () => {
  await using backend = await startPngBackend();
  await using server = await startTestServer(backend.env);
  const alice = await signIn(server.url, "alice@example.com");
  const { client, transport } = modernClient(server.url, alice.accessToken);
  await client.connect(transport);
  try {
    assertEquals(client.getNegotiatedProtocolVersion(), MODERN_PROTOCOL_VERSION);
    assertEquals(transport.sessionId, undefined, "2026-07-28 is stateless");
    const { tools } = await client.listTools();
    assertEquals(tools.map((t) => t.name), toolNames(["image_generation"]));
    const result = await client.callTool({
      name: "generateImage",
      arguments: { prompt: "a heron" },
    });
    const image = result.content.find((c) => c.type === "image");
    assert(image?.type === "image");
    assertEquals([...Uint8Array.fromBase64(image.data).subarray(0, 8)], PNG_SIGNATURE);
    assertEquals(backend.requests.length, 1);
  } finally {
    await client.close();
  }
});

Deno.test("/mcp (v2 client, 2026-07-28) hides generateImage from bob and refuses a direct call", async () => {
  await using backend = await startPngBackend();
  await using server = await startTestServer(backend.env);
  const bob = await signIn(server.url, "bob@example.com");
  const { client, transport } = modernClient(server.url, bob.accessToken);
  await client.connect(transport);
  try {
    assertEquals((await client.listTools()).tools.map((t) => t.name), toolNames([]));
    const err = await assertRejects(
      () => client.callTool({ name: "generateImage", arguments: { prompt: "x" } }),
      ProtocolError,
    );
    assertEquals(err.code, -32602);
    assertStringIncludes(err.message, '"image_generation"');
    assertEquals(backend.requests.length, 0, "the image backend never ran");
  } finally {
    await client.close();
  }
});

Deno.test("/mcp answers server/discover with 2026-07-28 and a private cache scope", async () => {
  await using server = await startTestServer();
  const bob = await signIn(server.url, "bob@example.com");
  const meta = {
    "io.modelcontextprotocol/protocolVersion": MODERN_PROTOCOL_VERSION,
    "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
    "io.modelcontextprotocol/clientCapabilities": {},
  };
  const res = await fetch(`${server.url}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${bob.accessToken}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": MODERN_PROTOCOL_VERSION,
      "mcp-method": "server/discover",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "server/discover",
      params: { _meta: meta },
    }),
  });
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("mcp-session-id"), null);
  const { result } = await res.json();
  assertEquals(result.supportedVersions, [MODERN_PROTOCOL_VERSION]);
  assertEquals(result.cacheScope, "private");
  assertEquals(result._meta["io.modelcontextprotocol/serverInfo"].name, "workos-authkit-mcp");
  assert(result.capabilities.tools);
});

Deno.test("/mcp (v2 client, default 2025 handshake) gets a session and per-user tools", async () => {
  await using server = await startTestServer();
  const bob = await signIn(server.url, "bob@example.com");
  const client = new Client({ name: "v2-legacy-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${bob.accessToken}` } },
  });
  await client.connect(transport);
  try {
    assert(transport.sessionId, "a 2025 session id");
    assertEquals((await client.listTools()).tools.map((t) => t.name), toolNames([]));
    await transport.terminateSession();
  } finally {
    await client.close();
  }
});

import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { PNG_SIGNATURE, startPngBackend } from "../helpers/mcp_clients.ts";
import { sdkSignIn } from "../helpers/oauth.ts";
import { type CallToolResult, Client, StreamableHTTPClientTransport } from "../helpers/sdk_v1.ts";
import { startTestServer } from "../helpers/server.ts";
import { toolNames } from "../helpers/tools.ts";

Deno.test("/mcp (v1 client, Streamable HTTP) gives alice generateImage and a PNG", async () => {
  await using backend = await startPngBackend();
  await using server = await startTestServer(backend.env);
  const mcp = `${server.url}/mcp`;
  const provider = await sdkSignIn(mcp, "alice@example.com");
  const client = new Client({ name: "v1-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(mcp), { authProvider: provider });
  await client.connect(transport);
  try {
    assert(
      transport.sessionId && /^[\x21-\x7e]+$/.test(transport.sessionId),
      "visible-ASCII session id",
    );
    assertEquals(client.getServerVersion()?.name, "workos-authkit-mcp");
    const { tools } = await client.listTools();
    assertEquals(tools.map((t) => t.name), toolNames(["image_generation"]));

    const result = await client.callTool({
      name: "generateImage",
      arguments: { prompt: "a red fox" },
    }) as CallToolResult;
    assertEquals(result.isError, undefined);
    const image = result.content.find((c) => c.type === "image");
    assert(image?.type === "image");
    assertEquals(image.mimeType, "image/png");
    assertEquals([...Uint8Array.fromBase64(image.data).subarray(0, 8)], PNG_SIGNATURE);
    assertEquals(backend.requests.length, 1);

    const who = await client.callTool({ name: "whoami", arguments: {} }) as CallToolResult;
    const text = who.content[0];
    assert(text?.type === "text");
    assertEquals(JSON.parse(text.text).email, "alice@example.com");
    await transport.terminateSession();
  } finally {
    await client.close();
  }
});

Deno.test("/mcp (v1 client, Streamable HTTP) hides generateImage from bob and refuses a direct call", async () => {
  await using backend = await startPngBackend();
  await using server = await startTestServer(backend.env);
  const mcp = `${server.url}/mcp`;
  const provider = await sdkSignIn(mcp, "bob@example.com");
  const client = new Client({ name: "v1-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(mcp), { authProvider: provider });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    assertEquals(tools.map((t) => t.name), toolNames([]));
    const err = await assertRejects(() =>
      client.callTool({ name: "generateImage", arguments: { prompt: "x" } })
    );
    assertStringIncludes(String(err), "-32602");
    assertStringIncludes(String(err), '"image_generation"');
    assertEquals(backend.requests.length, 0, "the image backend never ran");
    const sum = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } }) as CallToolResult;
    assertEquals(sum.content, [{ type: "text", text: "5" }]);
  } finally {
    await client.close();
  }
});

import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { PNG_SIGNATURE, startPngBackend } from "../helpers/mcp_clients.ts";
import { sdkSignIn, signIn } from "../helpers/oauth.ts";
import { type CallToolResult, Client, SSEClientTransport } from "../helpers/sdk_v1.ts";
import { startTestServer } from "../helpers/server.ts";
import { toolNames } from "../helpers/tools.ts";

/** Opens `GET /sse` and reads up to the first event; resolves to the response, the event and a reader. */
async function openStream(url: string, token: string) {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
  });
  assertEquals(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  return { res, first: text.slice(0, text.indexOf("\n\n")), reader };
}

Deno.test("/sse (v1 client) gives alice generateImage and a PNG", async () => {
  await using backend = await startPngBackend();
  await using server = await startTestServer(backend.env);
  const sse = `${server.url}/sse`;
  const provider = await sdkSignIn(sse, "alice@example.com");
  const client = new Client({ name: "v1-sse-test", version: "1.0.0" });
  await client.connect(new SSEClientTransport(new URL(sse), { authProvider: provider }));
  try {
    const { tools } = await client.listTools();
    assertEquals(tools.map((t) => t.name), toolNames(["image_generation"]));
    const result = await client.callTool({
      name: "generateImage",
      arguments: { prompt: "owl" },
    }) as CallToolResult;
    const image = result.content.find((c) => c.type === "image");
    assert(image?.type === "image");
    assertEquals([...Uint8Array.fromBase64(image.data).subarray(0, 8)], PNG_SIGNATURE);
    assertEquals(backend.requests.length, 1);
  } finally {
    await client.close();
  }
});

Deno.test("/sse (v1 client) hides generateImage from bob and refuses a direct call", async () => {
  await using backend = await startPngBackend();
  await using server = await startTestServer(backend.env);
  const sse = `${server.url}/sse`;
  const provider = await sdkSignIn(sse, "bob@example.com");
  const client = new Client({ name: "v1-sse-test", version: "1.0.0" });
  await client.connect(new SSEClientTransport(new URL(sse), { authProvider: provider }));
  try {
    assertEquals((await client.listTools()).tools.map((t) => t.name), toolNames([]));
    const err = await assertRejects(() =>
      client.callTool({ name: "generateImage", arguments: { prompt: "x" } })
    );
    assertStringIncludes(
      String(err),
      '-32602: Tool "generateImage" requires the permission "image_generation"',
    );
    assertEquals(backend.requests.length, 0, "the image backend never ran");
  } finally {
    await client.close();
  }
});

Deno.test("GET /sse sends the endpoint event first; POST /messages is bound to the user", async () => {
  await using server = await startTestServer();
  const sse = `${server.url}/sse`;
  const alice = (await sdkSignIn(sse, "alice@example.com")).saved!.access_token;
  const bob = (await sdkSignIn(sse, "bob@example.com")).saved!.access_token;
  const { res, first, reader } = await openStream(sse, alice);
  try {
    assertEquals(res.headers.get("content-type"), "text/event-stream");
    const match = /^event: endpoint\ndata: (\/messages\?sessionId=([\x21-\x7e]+))$/.exec(first);
    assert(match, first);
    const post = (
      token: string | null,
      path = match[1]!,
      body: unknown = { jsonrpc: "2.0", id: 1, method: "ping" },
    ) =>
      fetch(`${server.url}${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
    const stolen = await post(bob);
    assertEquals(stolen.status, 404);
    assertEquals((await stolen.json()).error.code, -32001);
    const anonymous = await post(null);
    await anonymous.body?.cancel();
    assertEquals(anonymous.status, 401);
    const missing = await post(alice, "/messages");
    assertEquals(missing.status, 400);
    await missing.body?.cancel();
    const unknown = await post(alice, "/messages?sessionId=nope");
    assertEquals(unknown.status, 404);
    await unknown.body?.cancel();
    const invalid = await post(alice, match[1]!, { hello: "world" });
    assertEquals(invalid.status, 400);
    await invalid.body?.cancel();
    const ok = await post(alice);
    assertEquals(ok.status, 202);
    await ok.body?.cancel();
    let reply = "";
    while (!reply.includes('"id":1')) reply += (await reader.read()).value ?? "";
    assertStringIncludes(reply, "event: message\ndata: ");
  } finally {
    await reader.cancel();
  }
});

Deno.test("POST /sse answers 405 so http-first clients fall back to SSE", async () => {
  await using server = await startTestServer();
  const sse = `${server.url}/sse`;
  const token = (await sdkSignIn(sse, "bob@example.com")).saved!.access_token;
  const res = await fetch(sse, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: {} }),
  });
  await res.body?.cancel();
  assertEquals(res.status, 405);
  assertEquals(res.headers.get("allow"), "GET");
});

Deno.test("GET /sse refuses a token minted for /mcp (401 naming the /sse metadata)", async () => {
  await using server = await startTestServer();
  const { accessToken } = await signIn(server.url, "bob@example.com");
  const res = await fetch(`${server.url}/sse`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  await res.body?.cancel();
  assertEquals(res.status, 401);
  assertStringIncludes(
    res.headers.get("www-authenticate")!,
    "/.well-known/oauth-protected-resource/sse",
  );
});

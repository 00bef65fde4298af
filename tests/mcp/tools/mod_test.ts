import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { z } from "zod";
import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport, McpServer } from "@modelcontextprotocol/server";
import { findTool, TOOLS, toolsFor } from "../../../mcp/tools/mod.ts";
import { generateImage } from "../../../mcp/tools/generate_image.ts";
import { makeContext } from "./_context.ts";

Deno.test("TOOLS lists add, whoami and generateImage with unique names", () => {
  assertEquals(TOOLS.map((t) => t.name), ["add", "whoami", "generateImage"]);
  assertEquals(new Set(TOOLS.map((t) => t.name)).size, TOOLS.length);
  for (const tool of TOOLS) assert(tool.description.length > 0, tool.name);
});

Deno.test("toolsFor() excludes generateImage without image_generation", () => {
  assertEquals(toolsFor([]).map((t) => t.name), ["add", "whoami"]);
  assertEquals(toolsFor(["widgets:read"]).map((t) => t.name), ["add", "whoami"]);
});

Deno.test("toolsFor() includes generateImage with image_generation, sorted by name", () => {
  assertEquals(toolsFor(["image_generation"]).map((t) => t.name), [
    "add",
    "generateImage",
    "whoami",
  ]);
});

Deno.test("toolsFor() order is deterministic and does not mutate TOOLS", () => {
  const first = toolsFor(["x", "image_generation"]).map((t) => t.name);
  const second = toolsFor(["image_generation", "x"]).map((t) => t.name);
  assertEquals(first, second);
  assertEquals(TOOLS.map((t) => t.name), ["add", "whoami", "generateImage"]);
});

Deno.test("findTool() finds by exact name", () => {
  assertStrictEquals(findTool("generateImage"), TOOLS[2]);
  assertStrictEquals(findTool("generateimage"), undefined);
  assertStrictEquals(findTool("nope"), undefined);
});

Deno.test("TOOLS register with McpServer.registerTool and answer over MCP", async () => {
  const server = new McpServer({ name: "test", version: "0.0.0" });
  const ctx = makeContext();
  for (const tool of toolsFor(ctx.identity.permissions)) {
    server.registerTool(
      tool.name,
      {
        ...(tool.title === undefined ? {} : { title: tool.title }),
        description: tool.description,
        inputSchema: z.object(tool.inputSchema),
      },
      async (args) => ({ ...(await tool.run(args, ctx)) }),
    );
  }
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: "test-client", version: "0.0.0" });
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  try {
    const listed = await client.listTools();
    assertEquals(listed.tools.map((t) => t.name).sort(), ["add", "generateImage", "whoami"]);
    const schema = listed.tools.find((t) => t.name === generateImage.name)?.inputSchema;
    assertEquals(schema?.required, ["prompt"]);

    const sum = await client.callTool({ name: "add", arguments: { a: 1, b: 2 } });
    assertEquals(sum.content, [{ type: "text", text: "3" }]);

    const image = await client.callTool({ name: "generateImage", arguments: { prompt: "fox" } });
    assertEquals(image.isError ?? false, false);
    const content = image.content as { type: string; mimeType?: string }[];
    assertEquals(content[0]?.type, "image");
    assertEquals(content[0]?.mimeType, "image/png");

    const bad = await client.callTool({ name: "generateImage", arguments: { prompt: "" } });
    assertEquals(bad.isError, true);
  } finally {
    await client.close();
    await server.close();
  }
});

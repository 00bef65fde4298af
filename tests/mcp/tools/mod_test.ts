import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import { z } from "zod";
import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport, McpServer } from "@modelcontextprotocol/server";
import { findTool, TOOLS, toolsFor } from "../../../mcp/tools/mod.ts";
import { generateImage } from "../../../mcp/tools/generate_image.ts";
import { makeContext } from "./_context.ts";
import { copyProject } from "../../helpers/project.ts";

Deno.test("TOOLS holds every tool exported by a file of mcp/tools/, with unique names and descriptions", async () => {
  // Discovery, checked against the folder: each tool file contributes its exports.
  const files: string[] = [];
  for await (const e of Deno.readDir(new URL("../../../mcp/tools/", import.meta.url))) {
    if (e.isFile && e.name.endsWith(".ts") && e.name !== "mod.ts" && !e.name.startsWith("_")) {
      files.push(e.name);
    }
  }
  assert(files.length >= 3, `tool files: ${files}`);
  for (const file of files) {
    const module = await import(`../../../mcp/tools/${file}`);
    for (const value of Object.values(module)) {
      const name = (value as { name?: unknown }).name;
      if (typeof value === "object" && typeof name === "string") {
        assertStrictEquals(findTool(name), value, `${file} exports ${name}`);
      }
    }
  }
  assertEquals(new Set(TOOLS.map((t) => t.name)).size, TOOLS.length);
  for (const tool of TOOLS) assert(tool.description.length > 0, tool.name);
  assert(findTool("add") && findTool("whoami") && findTool("generateImage"));
});

Deno.test("toolsFor() excludes generateImage without image_generation", () => {
  const none = toolsFor([]).map((t) => t.name);
  assertEquals(none.includes("generateImage"), false);
  assert(none.includes("add") && none.includes("whoami"));
  assertEquals(toolsFor(["widgets:read"]).map((t) => t.name), none);
  // Exactly the tools that require nothing.
  assertEquals(none, TOOLS.filter((t) => t.requires.length === 0).map((t) => t.name).sort());
});

Deno.test("toolsFor() includes generateImage with image_generation, sorted by name", () => {
  const names = toolsFor(["image_generation"]).map((t) => t.name);
  assert(names.includes("generateImage"));
  assertEquals(names, [...names].sort());
  assertEquals(generateImage.requires, ["image_generation"]);
});

Deno.test("toolsFor() order is deterministic and does not mutate TOOLS", () => {
  const before = TOOLS.map((t) => t.name);
  const first = toolsFor(["x", "image_generation"]).map((t) => t.name);
  const second = toolsFor(["image_generation", "x"]).map((t) => t.name);
  assertEquals(first, second);
  assertEquals(TOOLS.map((t) => t.name), before);
});

Deno.test("findTool() finds by exact name", () => {
  assertStrictEquals(findTool("generateImage"), generateImage);
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
    assertEquals(
      listed.tools.map((t) => t.name).sort(),
      toolsFor(ctx.identity.permissions).map((t) => t.name),
    );
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

Deno.test("adding a tool is one new file in mcp/tools/: the registry serves it with no other change", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mcp-tool-" });
  try {
    await copyProject(dir);
    await Deno.writeTextFile(
      `${dir}/mcp/tools/report.ts`,
      `import { z } from "zod";
import { defineTool } from "../tool.ts";

export const report = defineTool({
  name: "report",
  description: "Builds the weekly report.",
  requires: ["reports:read"],
  inputSchema: { week: z.string() },
  run: ({ week }) => Promise.resolve({ content: [{ type: "text", text: week }] }),
});
`,
    );
    const script = `import { toolsFor } from "./mcp/tools/mod.ts";
console.log(JSON.stringify([toolsFor([]).map((t) => t.name), toolsFor(["reports:read"]).map((t) => t.name)]));`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", script],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const [none, withPermission] = JSON.parse(new TextDecoder().decode(out.stdout));
    assertEquals(none.includes("report"), false, "gated by its permission");
    assert(withPermission.includes("report"), new TextDecoder().decode(out.stderr));
    assertEquals(withPermission.length, none.length + 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

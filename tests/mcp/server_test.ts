import { assert, assertEquals } from "@std/assert";
import { InMemoryTransport } from "@modelcontextprotocol/server";
import { authInfoFor, buildServer, identityOf } from "../../mcp/server.ts";
import type { ImageGenerator, ToolServices } from "../../mcp/tool.ts";
import { Client } from "../helpers/sdk_v2.ts";
import { toolNames } from "../helpers/tools.ts";
import { IDENTITY } from "./tools/_context.ts";

const services: ToolServices = {
  image: {
    name: "none",
    generate: () => Promise.reject(new Error("not used")),
  } satisfies ImageGenerator,
};

/** The tool names a client sees on a server built for `permissions`. */
async function listed(permissions: string[]): Promise<string[]> {
  const server = buildServer({ ...IDENTITY, permissions }, services);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "server-test", version: "1" });
  await client.connect(clientSide);
  try {
    return (await client.listTools()).tools.map((t) => t.name);
  } finally {
    await client.close();
    await server.close();
  }
}

Deno.test("buildServer() registers only the tools the identity may use, in name order", async () => {
  assertEquals(await listed(["image_generation"]), toolNames(["image_generation"]));
  assertEquals(await listed([]), toolNames([]));
  assert(!(await listed([])).includes("generateImage"));
});

Deno.test("authInfoFor() carries the identity that identityOf() reads back", () => {
  const info = authInfoFor(IDENTITY, "grant_x.secret");
  assertEquals(identityOf(info), IDENTITY);
  assertEquals(info.clientId, IDENTITY.clientId);
  assertEquals(info.expiresAt, Math.floor(IDENTITY.expiresAt / 1000));
  assert(identityOf(undefined) === undefined);
});

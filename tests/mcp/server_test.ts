import { assert, assertEquals } from "@std/assert";
import type { ServerContext } from "@modelcontextprotocol/server";
import {
  authInfoFor,
  buildServer,
  identityOf,
  permissionMessage,
  syncTools,
} from "../../mcp/server.ts";
import type { ImageGenerator, ToolServices } from "../../mcp/tool.ts";
import { IDENTITY } from "./tools/_context.ts";
import { toolNames } from "../helpers/tools.ts";

function countingServices(): ToolServices & { calls: number } {
  const services = {
    calls: 0,
    image: {
      name: "counting",
      generate() {
        services.calls++;
        return Promise.resolve({ bytes: new Uint8Array([0x89]), mimeType: "image/png" });
      },
    } satisfies ImageGenerator,
  };
  return services;
}

function contextFor(permissions: string[]): ServerContext {
  const identity = { ...IDENTITY, permissions };
  return {
    mcpReq: { signal: new AbortController().signal },
    http: { authInfo: authInfoFor(identity, "grant_x.secret") },
  } as unknown as ServerContext;
}

Deno.test("buildServer() registers only the tools the identity may use, in name order", () => {
  const services = countingServices();
  assertEquals([...buildServer(IDENTITY, services).tools.keys()], [
    "add",
    "generateImage",
    "whoami",
  ]);
  const none = buildServer({ ...IDENTITY, permissions: [] }, services);
  assertEquals([...none.tools.keys()], toolNames([]));
});

Deno.test("buildServer() tools re-check the permissions of the calling request and do not run", async () => {
  const services = countingServices();
  const { tools } = buildServer(IDENTITY, services);
  const handler = tools.get("generateImage")!.handler as (
    args: unknown,
    ctx: ServerContext,
  ) => Promise<unknown>;
  const refused = await handler({ prompt: "x", steps: 4 }, contextFor([]));
  assertEquals(refused, {
    isError: true,
    content: [{ type: "text", text: permissionMessage("generateImage", ["image_generation"]) }],
  });
  assertEquals(services.calls, 0);
  const allowed = await handler({ prompt: "x", steps: 4 }, contextFor(["image_generation"])) as {
    isError?: boolean;
  };
  assertEquals(allowed.isError, undefined);
  assertEquals(services.calls, 1);
});

Deno.test("syncTools() adds and removes tools to match new permissions", () => {
  const services = countingServices();
  const { server, tools } = buildServer({ ...IDENTITY, permissions: [] }, services);
  assertEquals(syncTools(server, tools, { ...IDENTITY, permissions: [] }, services), false);
  assertEquals(syncTools(server, tools, IDENTITY, services), true);
  assertEquals([...tools.keys()], toolNames(["image_generation"]));
  assertEquals(syncTools(server, tools, { ...IDENTITY, permissions: ["other"] }, services), true);
  assertEquals([...tools.keys()], toolNames([]));
});

Deno.test("authInfoFor() carries the identity that identityOf() reads back", () => {
  const info = authInfoFor(IDENTITY, "grant_x.secret");
  assertEquals(identityOf(info), IDENTITY);
  assertEquals(info.clientId, IDENTITY.clientId);
  assertEquals(info.expiresAt, Math.floor(IDENTITY.expiresAt / 1000));
  assert(identityOf(undefined) === undefined);
});

Deno.test("permissionMessage() names every missing permission", () => {
  assertEquals(
    permissionMessage("t", ["a"]),
    'Tool "t" requires the permission "a", which you do not have',
  );
  assertEquals(
    permissionMessage("t", ["a", "b"]),
    'Tool "t" requires the permissions "a", "b", which you do not have',
  );
});

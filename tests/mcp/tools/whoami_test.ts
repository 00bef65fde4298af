import { assert, assertEquals } from "@std/assert";
import { whoami } from "../../../mcp/tools/whoami.ts";
import type { Identity } from "../../../auth/identity.ts";
import { IDENTITY, makeContext } from "./_context.ts";

Deno.test("whoami reflects the caller's identity as pretty JSON", async () => {
  const result = await whoami.run({}, makeContext());
  assertEquals(result.isError, undefined);
  assertEquals(result.content.length, 1);
  const block = result.content[0];
  assert(block?.type === "text");
  assert(block.text.includes('\n  "userId"'), "expected pretty-printed JSON");
  assertEquals(JSON.parse(block.text), {
    userId: "user_01TEST",
    email: "ada@example.com",
    name: "Ada Lovelace",
    organizationId: "org_01TEST",
    role: "admin",
    roles: ["admin", "member"],
    permissions: ["image_generation", "widgets:read"],
    clientId: "client_01TEST",
    grantId: "grant_01TEST",
    scopes: ["openid", "profile"],
    resource: "https://mcp.example.com/mcp",
    expiresAt: "2030-01-02T03:04:05.000Z",
  });
});

Deno.test("whoami shows nulls for a user without an organization", async () => {
  const identity: Identity = {
    ...IDENTITY,
    name: null,
    organizationId: null,
    role: null,
    roles: [],
    permissions: [],
    resource: null,
  };
  const result = await whoami.run({}, makeContext({ identity }));
  const block = result.content[0];
  assert(block?.type === "text");
  const view = JSON.parse(block.text);
  assertEquals(view.organizationId, null);
  assertEquals(view.role, null);
  assertEquals(view.roles, []);
  assertEquals(view.permissions, []);
  assertEquals(view.name, null);
});

Deno.test("whoami carries no token-like fields", async () => {
  const result = await whoami.run({}, makeContext());
  const block = result.content[0];
  assert(block?.type === "text");
  assert(!/token|secret|refresh/i.test(block.text), block.text);
});

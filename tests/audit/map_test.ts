/**
 * The mapping from domain events to audit records lives in audit/map.ts, typed with audit's own input
 * types: a tool call, a grant revoked by WorkOS or by its user, a permissions change. audit/ imports
 * nothing of ours except lib/.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import type { Grant } from "../../auth/grants.ts";
import type { Identity } from "../../auth/identity.ts";
import {
  grantRevokedByUser,
  grantRevokedByWorkOS,
  permissionsChanged,
  toolCallEvent,
} from "../../audit/map.ts";
import type { ToolCallRecord } from "../../mcp/tool.ts";

const IDENTITY: Identity = {
  userId: "user_1",
  email: "alice@example.com",
  name: "Alice",
  organizationId: "org_1",
  role: "member",
  roles: ["member"],
  permissions: ["image_generation"],
  clientId: "mcp_1",
  grantId: "grant_1",
  scopes: [],
  resource: null,
  expiresAt: 0,
};

const GRANT: Grant = {
  id: "grant_1",
  userId: "user_1",
  email: "alice@example.com",
  name: null,
  organizationId: "org_1",
  role: "member",
  roles: ["member"],
  permissions: ["a", "b"],
  sessionId: "session_1",
  clientId: "mcp_1",
  scopes: [],
  resource: null,
  upstreamRefreshToken: "sealed",
  createdAt: 0,
  permissionsCheckedAt: 0,
  expiresAt: 1,
};

const IDS = { userId: "user_1", organizationId: "org_1", clientId: "mcp_1", grantId: "grant_1" };

Deno.test("toolCallEvent() records an allowed call as mcp.tool_called with its outcome and time", () => {
  const record: ToolCallRecord = {
    identity: IDENTITY,
    tool: "add",
    outcome: "failure",
    durationMs: 12,
    detail: "boom",
  };
  assertEquals(toolCallEvent(record), {
    action: "mcp.tool_called",
    ...IDS,
    tool: "add",
    outcome: "failure",
    durationMs: 12,
    detail: "boom",
  });
  assertEquals(
    toolCallEvent({ identity: IDENTITY, tool: "add", outcome: "success", durationMs: 1 }),
    { action: "mcp.tool_called", ...IDS, tool: "add", outcome: "success", durationMs: 1 },
  );
});

Deno.test("toolCallEvent() records a refused call as mcp.tool_refused", () => {
  const event = toolCallEvent({
    identity: IDENTITY,
    tool: "generate_image",
    outcome: "refused",
    durationMs: 0,
    detail: "missing permissions: image_generation",
  });
  assertEquals([event.action, event.outcome, event.tool], [
    "mcp.tool_refused",
    "refused",
    "generate_image",
  ]);
});

Deno.test("grantRevokedByWorkOS() and grantRevokedByUser() record oauth.grant_revoked with the cause", () => {
  assertEquals(grantRevokedByWorkOS(GRANT, "session ended"), {
    ...IDS,
    action: "oauth.grant_revoked",
    outcome: "success",
    detail: "WorkOS refused the session refresh: session ended",
  });
  assertEquals(grantRevokedByUser(GRANT, "user_signed_in"), {
    ...IDS,
    userId: "user_signed_in",
    action: "oauth.grant_revoked",
    outcome: "success",
    detail: "revoked by the user on /account",
  });
});

Deno.test("permissionsChanged() records both permission lists, against the grant after the change", () => {
  const after: Grant = { ...GRANT, permissions: ["b"], organizationId: "org_2" };
  assertEquals(permissionsChanged(GRANT, after), {
    ...IDS,
    organizationId: "org_2",
    action: "permissions.changed",
    outcome: "success",
    detail: "[a, b] → [b]",
  });
});

Deno.test("audit/ imports nothing of ours except lib/", async () => {
  const folder = new URL("../../audit/", import.meta.url);
  const upward: string[] = [];
  let files = 0;
  for await (const entry of Deno.readDir(folder)) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    files++;
    const text = await Deno.readTextFile(new URL(entry.name, folder));
    for (const match of text.matchAll(/^(?:import|export)[^;]*?from\s+"(\.\.\/[^"]+)"/gms)) {
      if (!match[1]!.startsWith("../lib/")) upward.push(`${entry.name}: ${match[1]}`);
    }
  }
  assertEquals(files > 3, true);
  assertEquals(upward, []);
});

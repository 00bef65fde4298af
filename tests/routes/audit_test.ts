import { assert, assertEquals } from "@std/assert";
import { AuditLog } from "../../audit/store.ts";
import { grantIdOf } from "../../auth/tokens.ts";
import type { Grant } from "../../auth/grants.ts";
import { keys } from "../../lib/kv_keys.ts";
import { callTool, waitFor } from "../helpers/mcp_clients.ts";
import { signIn } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

Deno.test("createApp() records tool calls and refusals, and with WORKOS_AUDIT_LOGS=true sends them to WorkOS", async () => {
  await using server = await startTestServer({ WORKOS_AUDIT_LOGS: "true" });
  const alice = await signIn(server.url, "alice@example.com");
  const bob = await signIn(server.url, "bob@example.com");
  const ok = await callTool(server.url, alice.accessToken, "add", { a: 2, b: 3 });
  assertEquals(ok.status, 200);
  const refused = await callTool(server.url, bob.accessToken, "generateImage", { prompt: "x" });
  assertEquals((refused.message?.error as { code: number }).code, -32602);

  const grant = (await server.kv.get<Grant>(keys.grant(grantIdOf(alice.accessToken)!))).value!;
  const log = new AuditLog(server.kv);
  await waitFor(async () =>
    (await log.listForUser(grant.userId)).some((e) => e.action === "mcp.tool_called")
  );
  const events = await log.listForUser(grant.userId);
  const call = events.find((e) => e.action === "mcp.tool_called")!;
  assertEquals([call.tool, call.outcome, call.clientId, call.organizationId], [
    "add",
    "success",
    alice.clientId,
    "org_acme",
  ]);
  assert(typeof call.durationMs === "number");
  for (const action of ["user.signed_in", "oauth.token_issued"]) {
    assert(events.some((e) => e.action === action), `${action} recorded`);
  }
  const bobGrant = (await server.kv.get<Grant>(keys.grant(grantIdOf(bob.accessToken)!))).value!;
  await waitFor(async () =>
    (await log.listForUser(bobGrant.userId)).some((e) => e.action === "mcp.tool_refused")
  );
  const refusal = (await log.listForUser(bobGrant.userId)).find((e) =>
    e.action === "mcp.tool_refused"
  )!;
  assertEquals([refusal.tool, refusal.outcome], ["generateImage", "refused"]);

  // Alice's events belong to org_acme and reach WorkOS Audit Logs; bob has no organization (skipped).
  await waitFor(() =>
    Promise.resolve(
      server.emulator!.auditEvents().some((e) => JSON.stringify(e).includes("mcp.tool_called")),
    )
  );
  const sent = server.emulator!.auditEvents() as Array<
    { organization_id: string; event: { action: string } }
  >;
  assert(sent.every((e) => e.organization_id === "org_acme"));
  assert(!sent.some((e) => e.event.action === "mcp.tool_refused"));
});

/**
 * The WorkOS Audit Logs sink, against the project's AuthKit emulator over real HTTP with the
 * unmodified SDK: the body, retries with one idempotency key, skipping events without an
 * organization, the bounded queue, and that closing leaves no timer behind.
 *
 * @module
 */
import { assert, assertEquals, assertThrows } from "@std/assert";
import type { AuditEvent } from "../../audit/events.ts";
import { AuditLog } from "../../audit/store.ts";
import {
  createWorkOSAuditSink,
  isRetryable,
  toWorkOSEvent,
  type WorkOSAuditSink,
} from "../../audit/workos_sink.ts";
import { setQuiet } from "../../lib/log.ts";
import { startFakeWorkOS } from "./_fake_workos.ts";
import { captureLogs } from "./_logs.ts";

setQuiet(true);

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
let counter = 0;

function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  counter++;
  return {
    id: `aud_${String(T0).padStart(15, "0")}_${String(counter).padStart(6, "0")}_0123456789abcdef`,
    action: "mcp.tool_called",
    occurredAt: T0,
    userId: "user_carol",
    organizationId: "org_acme",
    clientId: "client_abc",
    grantId: "grant_1",
    tool: "generate_image",
    outcome: "success",
    durationMs: 42,
    ...overrides,
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert(condition(), `Timed out waiting for ${what}`);
}

function stats(sink: WorkOSAuditSink): Omit<ReturnType<WorkOSAuditSink["stats"]>, "queued"> {
  const { queued: _, ...rest } = sink.stats();
  return rest;
}

Deno.test("toWorkOSEvent() maps a tool call to actor, targets, context and string metadata", () => {
  const e = event({ ip: "203.0.113.7", detail: "rendered 1 image" });
  assertEquals(toWorkOSEvent(e), {
    action: "mcp.tool_called",
    occurredAt: new Date(T0),
    actor: { id: "user_carol", type: "user" },
    targets: [{ id: "generate_image", type: "mcp_tool" }, { id: "client_abc", type: "mcp_client" }],
    context: { location: "203.0.113.7" },
    metadata: {
      outcome: "success",
      grant_id: "grant_1",
      client_id: "client_abc",
      tool: "generate_image",
      duration_ms: "42",
      detail: "rendered 1 image",
    },
  });
});

Deno.test("toWorkOSEvent() falls back to the client actor, organization target and 0.0.0.0", () => {
  const e: AuditEvent = {
    id: "aud_1",
    action: "oauth.refresh_refused",
    occurredAt: T0,
    userId: null,
    organizationId: "org_acme",
    clientId: "client_abc",
    grantId: null,
    outcome: "refused",
    ip: null,
  };
  const body = toWorkOSEvent(e);
  assertEquals(body.actor, { id: "client_abc", type: "mcp_client" });
  assertEquals(body.targets, [{ id: "client_abc", type: "mcp_client" }]);
  assertEquals(body.context, { location: "0.0.0.0" });
  assertEquals(body.metadata, { outcome: "refused", client_id: "client_abc" });
  const bare = toWorkOSEvent({ ...e, clientId: null });
  assertEquals(bare.actor, { id: "unknown", type: "system" });
  assertEquals(bare.targets, [{ id: "org_acme", type: "organization" }]);
});

Deno.test("isRetryable() retries network errors and transient statuses only", () => {
  assert(isRetryable(new TypeError("fetch failed")));
  for (const status of [408, 429, 500, 502, 503, 504]) assert(isRetryable({ status }));
  for (const status of [400, 401, 403, 404, 409, 422]) assert(!isRetryable({ status }));
});

Deno.test("createWorkOSAuditSink() delivers an organization event with the right body", async () => {
  await using fake = await startFakeWorkOS();
  const sink = createWorkOSAuditSink(fake.workos);
  const e = event({ ip: "198.51.100.1" });
  sink.send(e);
  await sink.flush();
  sink.close();
  assertEquals(fake.emulator.auditEvents(), [{
    organization_id: "org_acme",
    event: {
      action: "mcp.tool_called",
      occurred_at: "2026-01-02T03:04:05.678Z",
      actor: { id: "user_carol", type: "user" },
      targets: [
        { id: "generate_image", type: "mcp_tool" },
        { id: "client_abc", type: "mcp_client" },
      ],
      context: { location: "198.51.100.1" },
      metadata: {
        outcome: "success",
        grant_id: "grant_1",
        client_id: "client_abc",
        tool: "generate_image",
        duration_ms: "42",
      },
    },
  }]);
  assertEquals(fake.idempotencyKeys, [e.id]);
  assertEquals(sink.stats(), { sent: 1, skipped: 0, failed: 0, dropped: 0, retries: 0, queued: 0 });
});

Deno.test("createWorkOSAuditSink() retries a failing WorkOS and delivers exactly once", async () => {
  using logs = captureLogs();
  await using fake = await startFakeWorkOS();
  fake.emulator.failNext(500, 2);
  const sink = createWorkOSAuditSink(fake.workos, { baseDelayMs: 5 });
  const e = event();
  sink.send(e);
  await sink.flush();
  sink.close();
  assertEquals(fake.emulator.auditEvents().length, 1);
  assertEquals(fake.idempotencyKeys, [e.id, e.id, e.id]);
  assertEquals(stats(sink), { sent: 1, skipped: 0, failed: 0, dropped: 0, retries: 2 });
  assertEquals(logs.messages(), [
    "Cannot send audit event to WorkOS: will retry",
    "Cannot send audit event to WorkOS: will retry",
  ]);
  assertEquals(logs.lines.map((line) => line["attempt"]), [1, 2]);
});

Deno.test("createWorkOSAuditSink() gives up after maxAttempts and logs it", async () => {
  using logs = captureLogs();
  await using fake = await startFakeWorkOS();
  fake.emulator.failNext(503, 3);
  const sink = createWorkOSAuditSink(fake.workos, { baseDelayMs: 1, maxAttempts: 3 });
  sink.send(event());
  await sink.flush();
  sink.close();
  assertEquals(fake.emulator.auditEvents(), []);
  assertEquals(fake.idempotencyKeys.length, 3);
  assertEquals(stats(sink), { sent: 0, skipped: 0, failed: 1, dropped: 0, retries: 2 });
  assertEquals(logs.messages().at(-1), "Cannot send audit event to WorkOS: giving up");
});

Deno.test("createWorkOSAuditSink() does not retry a permanent error", async () => {
  using logs = captureLogs();
  await using fake = await startFakeWorkOS();
  fake.emulator.failNext(400);
  const sink = createWorkOSAuditSink(fake.workos, { baseDelayMs: 1 });
  sink.send(event());
  const { tool: _, ...withoutTool } = event({ action: "oauth.token_issued" });
  sink.send(withoutTool);
  await sink.flush();
  sink.close();
  assertEquals(fake.idempotencyKeys.length, 2);
  assertEquals(stats(sink), { sent: 1, skipped: 0, failed: 1, dropped: 0, retries: 0 });
  assertEquals(logs.messages(), ["Cannot send audit event to WorkOS: giving up"]);
});

Deno.test("createWorkOSAuditSink() skips and counts events without an organization", async () => {
  await using fake = await startFakeWorkOS();
  const sink = createWorkOSAuditSink(fake.workos);
  sink.send(event({ organizationId: null }));
  sink.send(event({ organizationId: null, action: "user.signed_in" }));
  await sink.flush();
  sink.close();
  assertEquals(fake.idempotencyKeys, []);
  assertEquals(sink.stats(), { sent: 0, skipped: 2, failed: 0, dropped: 0, retries: 0, queued: 0 });
});

Deno.test("createWorkOSAuditSink() drops the oldest waiting event when the queue is full", async () => {
  using logs = captureLogs();
  await using fake = await startFakeWorkOS();
  const sink = createWorkOSAuditSink(fake.workos, { maxQueue: 2 });
  const events = Array.from({ length: 5 }, () => event());
  for (const e of events) sink.send(e);
  assertEquals(sink.stats().queued, 3);
  await sink.flush();
  sink.close();
  assertEquals(fake.idempotencyKeys, [0, 3, 4].map((i) => events[i]?.id ?? null));
  assertEquals(stats(sink), { sent: 3, skipped: 0, failed: 0, dropped: 2, retries: 0 });
  assertEquals(logs.lines.map((line) => line["eventId"]), [events[1]?.id, events[2]?.id]);
});

Deno.test("createWorkOSAuditSink() close() cancels a pending retry and its timer", async () => {
  using logs = captureLogs();
  await using fake = await startFakeWorkOS();
  fake.emulator.failNext(500, 10);
  const sink = createWorkOSAuditSink(fake.workos, { baseDelayMs: 60_000 });
  sink.send(event());
  sink.send(event());
  await until(() => sink.stats().retries === 1, "the first retry to be scheduled");
  sink.close();
  await sink.flush();
  sink.send(event());
  assertEquals(fake.idempotencyKeys.length, 1);
  assertEquals(stats(sink), { sent: 0, skipped: 0, failed: 0, dropped: 3, retries: 1 });
  assertEquals(sink.stats().queued, 0);
  assertEquals(logs.messages(), [
    "Cannot send audit event to WorkOS: will retry",
    "Closing the WorkOS audit sink with undelivered events",
  ]);
});

Deno.test("createWorkOSAuditSink() rejects options that are not positive integers", () => {
  const fakeClient = {} as Parameters<typeof createWorkOSAuditSink>[0];
  assertThrows(
    () => createWorkOSAuditSink(fakeClient, { maxAttempts: 0 }),
    TypeError,
    "maxAttempts",
  );
  assertThrows(
    () => createWorkOSAuditSink(fakeClient, { baseDelayMs: 1.5 }),
    TypeError,
    "baseDelayMs",
  );
  assertThrows(() => createWorkOSAuditSink(fakeClient, { maxQueue: -1 }), TypeError, "maxQueue");
});

Deno.test("AuditLog.record() resolves while WorkOS fails; flush() then delivers once", async () => {
  using logs = captureLogs();
  await using fake = await startFakeWorkOS();
  using kv = await Deno.openKv(":memory:");
  fake.emulator.failNext(500, 2);
  const sink = createWorkOSAuditSink(fake.workos, { baseDelayMs: 5 });
  const audit = new AuditLog(kv, { sinks: [sink] });
  const recorded = await audit.record({
    action: "oauth.token_issued",
    userId: "user_carol",
    organizationId: "org_acme",
    clientId: "client_abc",
    grantId: "grant_1",
    outcome: "success",
  });
  assertEquals(fake.emulator.auditEvents(), []);
  assertEquals((await audit.listForUser("user_carol")).map((e) => e.id), [recorded.id]);
  await audit.flush();
  audit.close();
  const delivered = fake.emulator.auditEvents() as { event: { action: string } }[];
  assertEquals(delivered.map((d) => d.event.action), ["oauth.token_issued"]);
  assertEquals(fake.idempotencyKeys, [recorded.id, recorded.id, recorded.id]);
  assertEquals(logs.messages().length, 2);
});

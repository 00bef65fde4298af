/**
 * The KV audit trail: recording, newest-first listing, retention, grant filtering, and that recording
 * never fails its caller.
 *
 * @module
 */
import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import type { AuditEvent, AuditEventInput, AuditSink } from "../../audit/events.ts";
import { EVENTS_PER_ENTRY, pack, type PackedEntry, unpack } from "../../audit/compact.ts";
import { auditKeys } from "../../audit/keys.ts";
import { AuditLog, MAX_QUEUED } from "../../audit/store.ts";
import { setQuiet } from "../../lib/log.ts";
import { captureLogs } from "./_logs.ts";

setQuiet(true);

const T0 = 1_760_000_000_000;
const DAY = 24 * 60 * 60 * 1000;

function clock(start = T0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

function input(overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    action: "mcp.tool_called",
    userId: "user_1",
    organizationId: "org_1",
    clientId: "client_1",
    grantId: "grant_1",
    tool: "add",
    outcome: "success",
    durationMs: 3,
    ...overrides,
  };
}

function recordingSink(name = "memory"): AuditSink & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return {
    name,
    events,
    send: (event) => void events.push(event),
    flush: () => Promise.resolve(),
    close: () => {},
  };
}

Deno.test("AuditLog.record() stores the event once under its user, indexed under its grant", async () => {
  using kv = await Deno.openKv(":memory:");
  const c = clock();
  const audit = new AuditLog(kv, { now: c.now, retentionDays: 30 });
  const event = await audit.record(input({ ip: "203.0.113.7", detail: "ok" }));
  assertMatch(event.id, /^aud_001760000000000_\d{6}_[0-9a-f]{16}$/);
  assertEquals(event, {
    id: event.id,
    action: "mcp.tool_called",
    occurredAt: T0,
    userId: "user_1",
    organizationId: "org_1",
    clientId: "client_1",
    grantId: "grant_1",
    tool: "add",
    outcome: "success",
    durationMs: 3,
    detail: "ok",
    ip: "203.0.113.7",
  });
  const byUser = await kv.get<PackedEntry>(auditKeys.userEvent("user_1", event.id));
  const byGrant = await kv.get(auditKeys.grantEvent("grant_1", event.id));
  assertEquals(byUser.value, { v: 2, expiresAt: T0 + 30 * DAY, events: [pack(event)] });
  assertEquals(unpack(byUser.value!.events[0]!, "user_1"), event);
  assertEquals(byGrant.value, "user_1", "the grant index names the user, not a second copy");
});

Deno.test("AuditLog.listForUser() returns the user's events newest first, up to limit", async () => {
  using kv = await Deno.openKv(":memory:");
  const c = clock();
  const audit = new AuditLog(kv, { now: c.now });
  const ids: string[] = [];
  for (const action of ["user.signed_in", "oauth.token_issued", "mcp.tool_called"] as const) {
    ids.push((await audit.record(input({ action }))).id);
    c.advance(1000);
  }
  await audit.record(input({ userId: "user_2" }));
  const all = await audit.listForUser("user_1");
  assertEquals(all.map((e) => e.id), ids.toReversed());
  assertEquals(all.map((e) => e.action), [
    "mcp.tool_called",
    "oauth.token_issued",
    "user.signed_in",
  ]);
  assert(all.every((e) => !("expiresAt" in e)));
  assertEquals((await audit.listForUser("user_1", { limit: 2 })).map((e) => e.id), [
    ids[2],
    ids[1],
  ]);
  assertEquals((await audit.listForUser("user_2")).length, 1);
  assertEquals(await audit.listForUser("user_nobody"), []);
});

Deno.test("AuditLog.listForUser() orders events of the same millisecond by recording order", async () => {
  using kv = await Deno.openKv(":memory:");
  const audit = new AuditLog(kv, { now: clock().now });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await audit.record(input())).id);
  assertEquals((await audit.listForUser("user_1")).map((e) => e.id), ids.toReversed());
});

Deno.test("AuditLog.listForUser() skips events past the retention period", async () => {
  using kv = await Deno.openKv(":memory:");
  const c = clock();
  const audit = new AuditLog(kv, { now: c.now, retentionDays: 1 });
  const old = await audit.record(input({ action: "user.signed_in" }));
  c.advance(DAY / 2);
  const recent = await audit.record(input());
  assertEquals((await audit.listForUser("user_1")).map((e) => e.id), [recent.id, old.id]);
  c.advance(DAY / 2);
  assertEquals((await audit.listForUser("user_1")).map((e) => e.id), [recent.id]);
  assertEquals((await audit.listForUser("user_1", { grantIds: ["grant_1"] })).length, 1);
  c.advance(DAY / 2);
  assertEquals(await audit.listForUser("user_1"), []);
});

Deno.test("AuditLog.record() does not store an event already past retention", async () => {
  using kv = await Deno.openKv(":memory:");
  const sink = recordingSink();
  const audit = new AuditLog(kv, { now: clock().now, retentionDays: 1, sinks: [sink] });
  const event = await audit.record(input({ occurredAt: T0 - 2 * DAY }));
  assertEquals(event.occurredAt, T0 - 2 * DAY);
  assertEquals(await Array.fromAsync(kv.list({ prefix: ["audit"] })), []);
  assertEquals(sink.events, [event]);
});

Deno.test("AuditLog.listForUser() with grantIds returns only those grants' events", async () => {
  using kv = await Deno.openKv(":memory:");
  const c = clock();
  const audit = new AuditLog(kv, { now: c.now });
  const a1 = await audit.record(input({ grantId: "grant_a" }));
  c.advance(10);
  const b1 = await audit.record(input({ grantId: "grant_b" }));
  c.advance(10);
  await audit.record(input({ grantId: "grant_c" }));
  c.advance(10);
  const a2 = await audit.record(input({ grantId: "grant_a" }));
  c.advance(10);
  await audit.record(input({ grantId: null }));
  await audit.record(input({ userId: "user_other", grantId: "grant_a" }));
  const mine = await audit.listForUser("user_1", { grantIds: ["grant_a", "grant_b", "grant_a"] });
  assertEquals(mine.map((e) => e.id), [a2.id, b1.id, a1.id]);
  const limited = await audit.listForUser("user_1", { grantIds: ["grant_a", "grant_b"], limit: 2 });
  assertEquals(limited.map((e) => e.id), [a2.id, b1.id]);
  assertEquals(await audit.listForUser("user_1", { grantIds: [] }), []);
  assertEquals((await audit.listForUser("user_1")).length, 5);
});

Deno.test("AuditLog.record() stores an event without a user under anon only", async () => {
  using kv = await Deno.openKv(":memory:");
  const audit = new AuditLog(kv, { now: clock().now });
  const event = await audit.record(
    input({ action: "oauth.refresh_refused", userId: null, grantId: null, outcome: "refused" }),
  );
  const keys = (await Array.fromAsync(kv.list({ prefix: ["audit"] }))).map((e) => e.key);
  assertEquals(keys, [auditKeys.anonEvent(event.id)]);
});

Deno.test("AuditLog.record() clamps detail to 500 characters", async () => {
  using kv = await Deno.openKv(":memory:");
  const audit = new AuditLog(kv, { now: clock().now });
  const event = await audit.record(input({ detail: "x".repeat(2000) }));
  assertEquals(event.detail?.length, 500);
  assertEquals((await audit.listForUser("user_1"))[0]?.detail?.length, 500);
});

Deno.test("AuditLog.record() resolves with the event when KV is closed, and logs it", async () => {
  using logs = captureLogs();
  const kv = await Deno.openKv(":memory:");
  kv.close();
  const sink = recordingSink();
  const audit = new AuditLog(kv, { now: clock().now, sinks: [sink] });
  const event = await audit.record(input());
  assertEquals(event.action, "mcp.tool_called");
  assertEquals(sink.events, [event]);
  assertEquals(logs.messages(), ["Cannot record audit event"]);
  assertEquals(logs.lines[0]?.["eventId"], event.id);
});

Deno.test("AuditLog.record() resolves when KV throws synchronously", async () => {
  using logs = captureLogs();
  const kv = {
    atomic() {
      throw new Error("KV is down");
    },
  } as unknown as Deno.Kv;
  const audit = new AuditLog(kv, { now: clock().now });
  const event = await audit.record(input());
  assertEquals(event.occurredAt, T0);
  assertEquals(logs.lines, [{
    time: logs.lines[0]?.["time"],
    level: "error",
    msg: "Cannot record audit event",
    eventId: event.id,
    action: "mcp.tool_called",
    error: "Error: KV is down",
  }]);
});

Deno.test("AuditLog.record() resolves when a sink throws, and still feeds the other sinks", async () => {
  using logs = captureLogs();
  using kv = await Deno.openKv(":memory:");
  const broken: AuditSink = {
    name: "broken",
    send() {
      throw new Error("sink is down");
    },
    flush: () => Promise.reject(new Error("sink is down")),
    close() {
      throw new Error("sink is down");
    },
  };
  const good = recordingSink();
  const audit = new AuditLog(kv, { now: clock().now, sinks: [broken, good] });
  const event = await audit.record(input());
  assertEquals(good.events, [event]);
  assertEquals((await audit.listForUser("user_1")).length, 1);
  await audit.flush();
  audit.close();
  assertEquals(logs.messages(), ["Cannot hand audit event to sink", "Cannot close audit sink"]);
});

Deno.test("AuditLog.flush() waits for records that were not awaited", async () => {
  using kv = await Deno.openKv(":memory:");
  const audit = new AuditLog(kv, { now: clock().now });
  for (let i = 0; i < 3; i++) void audit.record(input());
  await audit.flush();
  assertEquals((await audit.listForUser("user_1")).length, 3);
});

Deno.test("AuditLog rejects a bad retentionDays and a bad limit", async () => {
  using kv = await Deno.openKv(":memory:");
  for (const retentionDays of [0, -1, Number.NaN, Infinity]) {
    assertThrows(() => new AuditLog(kv, { retentionDays }), RangeError, '"retentionDays" option');
  }
  const audit = new AuditLog(kv);
  for (const limit of [0, 1.5, 501]) {
    let error: unknown;
    await audit.listForUser("user_1", { limit }).catch((e) => error = e);
    assert(error instanceof RangeError, `limit ${limit} should be rejected`);
  }
});

/** `kv` with its atomic commits counted, and optionally held until `release()`. */
function countingKv(kv: Deno.Kv, hold = false) {
  let commits = 0;
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const wrapped = new Proxy(kv, {
    get(target, prop) {
      if (prop !== "atomic") {
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      }
      return () => {
        const op = target.atomic();
        const commit = op.commit.bind(op);
        op.commit = async () => {
          commits++;
          if (hold) await gate;
          return await commit();
        };
        return op;
      };
    },
  });
  return { kv: wrapped, commits: () => commits, release };
}

Deno.test("AuditLog.record() writes a burst in batches, not one commit per event", async () => {
  using kv = await Deno.openKv(":memory:");
  const counted = countingKv(kv);
  const audit = new AuditLog(counted.kv, { now: clock().now });
  for (let i = 0; i < 700; i++) void audit.record(input());
  await audit.flush();
  assertEquals(counted.commits(), 3, "300 + 300 + 100 events");
  assertEquals((await audit.listForUser("user_1", { limit: 500 })).length, 500);
  let entries = 0;
  for await (const _ of kv.list({ prefix: auditKeys.userEvents("user_1") })) entries++;
  assertEquals(entries, 700 / EVENTS_PER_ENTRY, "one user's events share entries");
});

Deno.test("AuditLog holds at most MAX_QUEUED events while KV is stuck, and says it dropped some", async () => {
  using logs = captureLogs();
  using kv = await Deno.openKv(":memory:");
  const counted = countingKv(kv, true);
  const audit = new AuditLog(counted.kv, { now: clock().now });
  for (let i = 0; i < MAX_QUEUED + 5; i++) void audit.record(input());
  assertEquals(logs.messages(), ["Cannot record audit event: the write queue is full"]);
  counted.release();
  await audit.flush();
  assertEquals((await audit.listForUser("user_1", { limit: 500 })).length, 500);
  let stored = 0;
  for await (const { value } of kv.list<PackedEntry>({ prefix: auditKeys.userEvents("user_1") })) {
    stored += value.events.length;
  }
  assertEquals(stored, MAX_QUEUED);
});

Deno.test("AuditLog.listForUser() still reads events stored one per entry, with grant copies", async () => {
  using kv = await Deno.openKv(":memory:");
  const c = clock();
  const audit = new AuditLog(kv, { now: c.now });
  const old = {
    ...input({ detail: "old form" }),
    id: "aud_001759999999999_000001_00",
    occurredAt: T0 - 1,
  };
  const stored = { ...old, expiresAt: T0 + DAY };
  await kv.set(auditKeys.userEvent("user_1", old.id), stored);
  await kv.set(auditKeys.grantEvent("grant_1", old.id), stored);
  const fresh = await audit.record(input());
  assertEquals((await audit.listForUser("user_1")).map((e) => e.id), [fresh.id, old.id]);
  assertEquals(
    (await audit.listForUser("user_1", { grantIds: ["grant_1"] })).map((e) => e.id),
    [fresh.id, old.id],
  );
  c.advance(DAY);
  assertEquals((await audit.listForUser("user_1")).map((e) => e.id), [fresh.id], "own expiry kept");
});

Deno.test("AuditLog.listForUser() lists what this instance recorded a moment ago", async () => {
  using kv = await Deno.openKv(":memory:");
  const audit = new AuditLog(kv, { now: clock().now });
  void audit.record(input({ detail: "just now" }));
  assertEquals((await audit.listForUser("user_1")).map((e) => e.detail), ["just now"]);
});

Deno.test("AuditLog.enqueue() records like record() without a promise, and drops past MAX_QUEUED", async () => {
  using logs = captureLogs();
  using kv = await Deno.openKv(":memory:");
  const counted = countingKv(kv, true);
  const sink = recordingSink();
  const audit = new AuditLog(counted.kv, { now: clock().now, sinks: [sink] });
  assertEquals(audit.enqueue(input({ tool: "add" })), undefined);
  for (let i = 1; i < MAX_QUEUED + 5; i++) audit.enqueue(input());
  assertEquals(logs.messages(), ["Cannot record audit event: the write queue is full"]);
  counted.release();
  await audit.flush();
  const listed = await audit.listForUser("user_1", { limit: 500 });
  assertEquals(listed.length, 500);
  assertEquals(sink.events.length, MAX_QUEUED, "every event kept reached the sink");
  assertEquals(sink.events[0]!.tool, "add");
});

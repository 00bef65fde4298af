/**
 * The emulator's key-protected API (users, audit logs), its admin endpoints and loopback check,
 * its users file (validation, reload on change) and `serve.ts`'s argument parsing.
 *
 * @module
 */
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { BadRequestException, NotFoundException, UnauthorizedException } from "@workos-inc/node";
import { decodeJwt } from "jose";
import { createAuthKitEmulator } from "../../emulator/app.ts";
import { isLoopback } from "../../emulator/admin.ts";
import { parsePort } from "../../emulator/serve.ts";
import { API_KEY, authenticate, CLIENT_ID, startEmulator } from "./_harness.ts";

function connInfo(hostname: string): Deno.ServeHandlerInfo {
  return {
    remoteAddr: { transport: "tcp", hostname, port: 40000 },
    completed: Promise.resolve(),
  } as Deno.ServeHandlerInfo;
}

Deno.test("getUser() returns the WorkOS user and 404 for an unknown id", async () => {
  await using h = await startEmulator();
  const user = await h.workos.userManagement.getUser("user_carol");
  assertEquals(user.object, "user");
  assertEquals([user.email, user.firstName, user.lastName], ["carol@example.com", "Carol", "Chen"]);
  assertEquals(user.metadata, {});
  await assertRejects(() => h.workos.userManagement.getUser("user_nobody"), NotFoundException);
  await assertRejects(
    () => h.sdk("sk_wrong").userManagement.getUser("user_carol"),
    UnauthorizedException,
  );
});

Deno.test("auditLogs.createEvent() stores valid events and rejects invalid ones", async () => {
  await using h = await startEmulator();
  const event = {
    action: "tool.invoked",
    occurredAt: new Date("2026-01-02T03:04:05Z"),
    actor: { id: "user_alice", type: "user", name: "Alice Anders" },
    targets: [{ id: "generate_image", type: "tool" }],
    context: { location: "127.0.0.1", userAgent: "test" },
    metadata: { outcome: "ok" },
  };
  await h.workos.auditLogs.createEvent("org_acme", event);
  assertEquals(h.emulator.auditEvents(), [{
    "organization_id": "org_acme",
    event: {
      action: "tool.invoked",
      "occurred_at": "2026-01-02T03:04:05.000Z",
      actor: { id: "user_alice", type: "user", name: "Alice Anders" },
      targets: [{ id: "generate_image", type: "tool" }],
      context: { location: "127.0.0.1", "user_agent": "test" },
      metadata: { outcome: "ok" },
    },
  }]);
  const invalid = { ...event, targets: undefined } as unknown as typeof event;
  const error = await assertRejects(
    () => h.workos.auditLogs.createEvent("org_acme", invalid),
    BadRequestException,
  );
  assertEquals(error.code, "invalid_audit_log_event");
  assertEquals(
    (error.errors as unknown as { instancePath: string }[]).map((e) => e.instancePath),
    ["/event/targets"],
  );
  const noOrg = await fetch(`${h.origin}/audit_logs/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ event: {} }),
  });
  assertEquals(noOrg.status, 400);
  const body = await noOrg.json();
  const paths = body.errors.map((e: { instancePath: string }) => e.instancePath);
  for (const path of ["/organization_id", "/event/action", "/event/occurred_at", "/event/actor"]) {
    assert(paths.includes(path), path);
  }
  assertEquals(h.emulator.auditEvents().length, 1);
});

Deno.test("the emulator answers unknown paths under its prefixes with 404 JSON", async () => {
  await using h = await startEmulator();
  for (const path of ["/user_management/nope", "/sso/nope", "/audit_logs/nope"]) {
    const response = await fetch(`${h.origin}${path}`);
    assertEquals(response.status, 404, path);
    assertStringIncludes((await response.json()).message, "Not found");
  }
});

Deno.test("admin endpoints refuse non-loopback clients and serve loopback ones", async () => {
  const emulator = await createAuthKitEmulator({ clientId: CLIENT_ID, apiKey: API_KEY });
  const url = "http://emulator.test/_emulator/users";
  const remote = await emulator.app.fetch(new Request(url), connInfo("10.0.0.1"));
  assertEquals(remote.status, 403);
  await remote.body?.cancel();
  const noInfo = await emulator.app.fetch(new Request(url));
  assertEquals(noInfo.status, 403);
  await noInfo.body?.cancel();

  const local = await emulator.app.fetch(new Request(url), connInfo("127.0.0.1"));
  assertEquals(local.status, 200);
  const data = await local.json();
  assertEquals(data.users.map((u: { email: string }) => u.email), [
    "alice@example.com",
    "bob@example.com",
    "carol@example.com",
  ]);
  const put = (body: unknown, email = "bob@example.com") =>
    emulator.app.fetch(
      new Request(`http://emulator.test/_emulator/users/${email}/permissions`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
      connInfo("::1"),
    );
  assertEquals((await put({ "organization_id": null, permissions: ["a"] })).status, 204);
  assertEquals(emulator.setUserPermissions("bob@example.com", null, ["a", "b"]), undefined);
  const notMember = await put({ "organization_id": "org_acme", permissions: [] });
  assertEquals(notMember.status, 422);
  await notMember.body?.cancel();
  const unknown = await put({ "organization_id": null, permissions: [] }, "zed@example.com");
  assertEquals(unknown.status, 404);
  await unknown.body?.cancel();
  const bad = await put({ permissions: "all" });
  assertEquals(bad.status, 400);
  await bad.body?.cancel();

  const rotate = await emulator.app.fetch(
    new Request("http://emulator.test/_emulator/keys/rotate", { method: "POST" }),
    connInfo("127.0.0.2"),
  );
  assertEquals(rotate.status, 200);
  const { kid } = await rotate.json();
  const jwks = await (await emulator.app.request(`/sso/jwks/${CLIENT_ID}`)).json();
  assertEquals(jwks.keys.length, 2);
  assertEquals(jwks.keys[0].kid, kid);
  assertThrows(() => emulator.setUserPermissions("zed@example.com", null, []), RangeError);
});

Deno.test("isLoopback() accepts 127.0.0.0/8 and ::1 only", () => {
  for (const address of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "::ffff:127.0.0.1"]) {
    assert(isLoopback(address), address);
  }
  for (const address of ["10.0.0.1", "0.0.0.0", "::", "128.0.0.1", "::ffff:10.0.0.1", ""]) {
    assert(!isLoopback(address), address);
  }
});

Deno.test("createAuthKitEmulator() re-reads the users file when it changes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/users.json`;
    const data = JSON.parse(
      await Deno.readTextFile(new URL("../../emulator/users.json", import.meta.url)),
    );
    await Deno.writeTextFile(file, JSON.stringify(data));
    await using h = await startEmulator({ usersFile: file });
    const first = await authenticate(h, "alice@example.com");
    data.users[0].memberships[0].permissions = ["image_generation", "video_generation"];
    data.users[0].first_name = "Alicia";
    await Deno.writeTextFile(file, JSON.stringify(data, null, 2));
    const second = await h.workos.userManagement.authenticateWithRefreshToken({
      refreshToken: first.refreshToken,
    });
    assertEquals(decodeJwt(second.accessToken)["permissions"], [
      "image_generation",
      "video_generation",
    ]);
    assertEquals(second.user.firstName, "Alicia");
    // An in-memory override wins over the file.
    h.emulator.setUserPermissions("alice@example.com", "org_acme", ["override"]);
    const third = await h.workos.userManagement.authenticateWithRefreshToken({
      refreshToken: second.refreshToken,
    });
    assertEquals(decodeJwt(third.accessToken)["permissions"], ["override"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createAuthKitEmulator() names the users file and the problem when it is invalid", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/bad.json`;
    const create = () =>
      createAuthKitEmulator({ clientId: CLIENT_ID, apiKey: API_KEY, usersFile: file });
    await Deno.writeTextFile(file, "{ not json");
    const syntax = await assertRejects(create, SyntaxError);
    assertStringIncludes(syntax.message, `Cannot parse users file "${file}"`);
    await Deno.writeTextFile(file, JSON.stringify({ users: [{ id: "u", email: "nope" }] }));
    const shape = await assertRejects(create, SyntaxError);
    assertStringIncludes(shape.message, `Cannot load users file "${file}"`);
    assertStringIncludes(shape.message, "users.0.email");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        users: [{
          id: "u",
          email: "u@example.com",
          "first_name": "U",
          "last_name": "V",
          memberships: [{ "organization_id": "org_x", role: "member" }],
        }],
      }),
    );
    const org = await assertRejects(create, SyntaxError);
    assertStringIncludes(org.message, 'unknown organization "org_x"');
    const missing = await assertRejects(
      () =>
        createAuthKitEmulator({
          clientId: CLIENT_ID,
          apiKey: API_KEY,
          usersFile: `${dir}/none.json`,
        }),
      Error,
    );
    assertStringIncludes(missing.message, `Cannot read users file "${dir}/none.json"`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parsePort() reads --port N and --port=N", () => {
  assertEquals(parsePort(["--port", "9100"]), 9100);
  assertEquals(parsePort(["--port=9200"]), 9200);
  assertEquals(parsePort([]), 9000);
  assertThrows(() => parsePort(["--port", "x"]), RangeError, 'Cannot parse --port "x"');
});

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { inherited, spawnServer } from "./helpers/cluster.ts";
import { copyProject } from "./helpers/project.ts";
import { openSession } from "./helpers/mcp_clients.ts";
import { sdkSignIn } from "./helpers/oauth.ts";

const ROOT = new URL("../", import.meta.url);

/** The permission flags of `deno task start` (without --env-file: a developer's .env must not leak in). */
async function startTaskFlags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const words = String(config.tasks.start).split(/\s+/);
  return words.slice(words.indexOf("run") + 1, words.indexOf("main.ts"))
    .filter((w) => !w.startsWith("--env-file"));
}

/** A free loopback port (closed again, for a child process to take). */
function freePort(): number {
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (free.addr as Deno.NetAddr).port;
  free.close();
  return port;
}

/**
 * Runs `deno task <task>` in `dir` until the server says it listens; its child process, and a reader of
 * the rest of its stdout (cancel it when done).
 */
async function startTask(
  dir: string,
  task: string,
  env: Record<string, string>,
  stderr: "piped" | "null",
): Promise<{ child: Deno.ChildProcess; out: string; reader: ReadableStreamDefaultReader<string> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", task],
    cwd: dir,
    env: { ...inherited(), ...env, NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr,
  }).spawn();
  let out = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  while (!out.includes('"msg":"MCP server listening"')) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  return { child, out, reader };
}

/** Runs main.ts to its exit, with `-A` or the given flags, in the project folder. */
async function runMain(
  env: Record<string, string>,
  flags: string[] = ["-A"],
): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, "main.ts"],
    cwd: ROOT.pathname,
    env: { ...inherited(), ...env, NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** The JSON log lines of `stderr` that report a configuration problem, by variable. */
function problems(stderr: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stderr.split("\n")) {
    try {
      const entry = JSON.parse(line);
      if (entry.level === "error" && entry.variable) out[entry.variable] = entry.msg;
    } catch {
      // not a log line (a Deno warning)
    }
  }
  return out;
}

Deno.test("main.ts refuses emulator mode on Deno Deploy and exits naming the variable", async () => {
  const { code, stderr } = await runMain({
    DENO_DEPLOYMENT_ID: "dep_1",
    PUBLIC_URL: "https://mcp.example.com",
  });
  assertEquals(code, 1);
  assertStringIncludes(stderr, "WORKOS_CLIENT_ID");
  assertStringIncludes(stderr, "refused on Deno Deploy");
});

Deno.test("main.ts stops on a bad value with a message naming the variable and the fix", async () => {
  const { code, stderr } = await runMain({ WORKOS_CLIENT_ID: "client_1", WORKOS_API_KEY: "sk_1" });
  assertEquals(code, 1);
  assertStringIncludes(stderr, "COOKIE_ENCRYPTION_KEY");
  assertStringIncludes(stderr, "openssl rand -hex 32");
});

Deno.test("main.ts on SIGTERM ends SSE and 2025 streams with retry: and exits 0 within seconds", async () => {
  const dir = await Deno.makeTempDir();
  const server = await spawnServer({ PORT: "0", KV_PATH: `${dir}/kv.sqlite3` });
  try {
    const base = server.publicUrl;
    const sseToken = (await sdkSignIn(`${base}/sse`, "bob@example.com")).saved!.access_token;
    const mcpToken = (await sdkSignIn(`${base}/mcp`, "bob@example.com")).saved!.access_token;
    const sse = await fetch(`${base}/sse`, {
      headers: { authorization: `Bearer ${sseToken}`, accept: "text/event-stream" },
    });
    const session = await openSession(base, mcpToken);
    const get = await fetch(`${base}/mcp`, {
      headers: {
        authorization: `Bearer ${mcpToken}`,
        accept: "text/event-stream",
        "mcp-session-id": session,
      },
    });
    assertEquals([sse.status, get.status], [200, 200]);

    server.process.kill("SIGTERM");
    const [sseText, getText, status] = await Promise.all([sse.text(), get.text(), server.exited]);
    // Exit 0 means it finished before its 4 s deadline (which exits 1, logging why).
    assertEquals(status.code, 0);
    assertEquals(server.logs.filter((l) => l.msg === "shutdown took too long; exiting"), []);
    assertStringIncludes(sseText, "event: endpoint\n");
    assert(sseText.endsWith("retry: 1000\n\n"), sseText);
    assert(getText.endsWith("retry: 1000\n\n"), getText);
    assert(server.logs.some((l) => l.msg === "shutting down" && l.signal === "SIGTERM"));
  } finally {
    try {
      server.process.kill("SIGKILL");
    } catch {
      // already exited
    }
    await server.exited;
    await Deno.remove(dir, { recursive: true });
  }
});

/** A stand-in for a KV Connect server: answers the metadata exchange, fails every data call. */
function startKvConnectStub(options: { metadataStatus?: number } = {}) {
  const seen: { path: string; authorization: string | null }[] = [];
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen() {},
  }, async (req): Promise<Response> => {
    const path = new URL(req.url).pathname;
    seen.push({ path, authorization: req.headers.get("authorization") });
    await req.body?.cancel();
    if (path !== "/connect") return new Response("unavailable", { status: 503 });
    if (options.metadataStatus) return new Response("denied", { status: options.metadataStatus });
    return Response.json({
      version: 2,
      databaseId: crypto.randomUUID(),
      endpoints: [{ url: `http://127.0.0.1:${server.addr.port}/v2`, consistency: "strong" }],
      token: "data-plane-token",
      expiresAt: "2030-01-01T00:00:00Z",
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/connect`,
    seen,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("main.ts with DENO_KV_URL opens KV through KV Connect with DENO_KV_ACCESS_TOKEN; /healthz reports a KV outage", async () => {
  await using stub = startKvConnectStub();
  const server = await spawnServer({
    PORT: "0",
    DENO_KV_URL: stub.url,
    DENO_KV_ACCESS_TOKEN: "kv-access-token",
  });
  try {
    assertEquals(stub.seen[0], { path: "/connect", authorization: "Bearer kv-access-token" });
    const res = await fetch(`${server.origin}/healthz`);
    assertEquals(res.status, 503);
    const body = await res.json();
    assertEquals(body.status, "kv_unavailable");
    assertStringIncludes(body.kv.error, "no answer in 2000 ms");
    assert(
      stub.seen.some((s) =>
        s.path === "/v2/snapshot_read" && s.authorization === "Bearer data-plane-token"
      ),
      "reads went to the advertised endpoint with the exchanged token",
    );
  } finally {
    server.process.kill("SIGKILL");
    await server.exited;
  }
});

Deno.test("main.ts exits naming DENO_KV_URL when KV Connect refuses the access token", async () => {
  await using stub = startKvConnectStub({ metadataStatus: 401 });
  const { code, stderr } = await runMain({
    DENO_KV_URL: stub.url,
    DENO_KV_ACCESS_TOKEN: "wrong",
  });
  assertEquals(code, 1);
  assertStringIncludes(stderr, "DENO_KV_URL");
  assertStringIncludes(stderr, "DENO_KV_ACCESS_TOKEN");
});

Deno.test("main.ts with OTEL_DENO=true exports request traces and the JSON logs over OTLP", async () => {
  const received: { path: string; body: string }[] = [];
  await using collector = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      const bytes = new Uint8Array(await req.arrayBuffer());
      received.push({ path: new URL(req.url).pathname, body: new TextDecoder().decode(bytes) });
      return new Response(null, { status: 200 });
    },
  );
  const server = await spawnServer({
    PORT: "0",
    KV_PATH: ":memory:",
    OTEL_DENO: "true",
    OTEL_SERVICE_NAME: "mcp-authkit-test",
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.addr.port}`,
  });
  assertEquals((await fetch(`${server.origin}/healthz`)).status, 200);
  server.process.kill("SIGTERM"); // exporters flush on exit
  assertEquals((await server.exited).code, 0);
  const traces = received.filter((r) => r.path === "/v1/traces");
  const logs = received.filter((r) => r.path === "/v1/logs");
  assert(traces.some((t) => t.body.includes("mcp-authkit-test") && t.body.includes("GET")));
  assert(logs.some((l) => l.body.includes('"msg":"request"') && l.body.includes("/healthz")));
});

Deno.test("main.ts reports every configuration problem at once, each naming its variable and fix, and exits 1", async () => {
  const { code, stderr } = await runMain({
    PORT: "eighty",
    PUBLIC_URL: "https://mcp.example.com/path",
    SERVER_ACCENT_COLOR: "blue",
  });
  assertEquals(code, 1);
  const found = problems(stderr);
  assertEquals(Object.keys(found).sort(), ["PORT", "PUBLIC_URL", "SERVER_ACCENT_COLOR"]);
  assertStringIncludes(found.PORT!, "port number between 0");
  assertStringIncludes(found.SERVER_ACCENT_COLOR!, "#rrggbb");
});

Deno.test("main.ts detects swapped WORKOS_CLIENT_ID and WORKOS_API_KEY", async () => {
  const { code, stderr } = await runMain({
    WORKOS_CLIENT_ID: "sk_test_abc",
    WORKOS_API_KEY: "client_01ABC",
    COOKIE_ENCRYPTION_KEY: "k".repeat(64),
  });
  assertEquals(code, 1);
  const found = problems(stderr);
  assertStringIncludes(found.WORKOS_CLIENT_ID!, "swapped");
  assertStringIncludes(found.WORKOS_API_KEY!, "swapped");
});

Deno.test("main.ts names PORT when the port is in use", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { code, stderr } = await runMain({
    PORT: String((taken.addr as Deno.NetAddr).port),
    KV_PATH: ":memory:",
  });
  assertEquals(code, 1);
  assertStringIncludes(problems(stderr).PORT!, "already in use");
  assertStringIncludes(problems(stderr).PORT!, "PORT=0 picks any");
});

Deno.test("main.ts names HOSTNAME when it cannot be resolved", async () => {
  const { code, stderr } = await runMain({
    PORT: "0",
    HOSTNAME: "no-such-host.invalid",
    KV_PATH: ":memory:",
  });
  assertEquals(code, 1);
  assertStringIncludes(problems(stderr).HOSTNAME!, "no-such-host.invalid");
  assertStringIncludes(problems(stderr).HOSTNAME!, "127.0.0.1");
});

Deno.test("main.ts with the start task's permissions names KV_PATH outside .data/ and the exact fix, with a broken AUTHKIT_EMULATOR_USERS in the same report", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const users = `${dir}/users.json`;
    await Deno.writeTextFile(users, '{"users": [{"id": 1}]}');
    const { code, stderr } = await runMain({
      PORT: "0",
      KV_PATH: `${dir}/kv/kv.sqlite3`,
      AUTHKIT_EMULATOR_USERS: users,
    }, await startTaskFlags());
    assertEquals(code, 1);
    const found = problems(stderr);
    assertStringIncludes(found.KV_PATH!, "outside the folder");
    assertStringIncludes(found.KV_PATH!, `--allow-write=${dir}/kv`);
    assertStringIncludes(found.AUTHKIT_EMULATOR_USERS!, `Cannot load users file "${users}"`);
    assertEquals(stderr.includes("    at "), false, "no stack trace");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main.ts names AUTHKIT_EMULATOR_USERS when the file is missing", async () => {
  const { code, stderr } = await runMain({
    PORT: "0",
    KV_PATH: ":memory:",
    AUTHKIT_EMULATOR_USERS: "/no/such/users.json",
  });
  assertEquals(code, 1);
  assertStringIncludes(problems(stderr).AUTHKIT_EMULATOR_USERS!, "/no/such/users.json");
});

Deno.test("main.ts warns when emulator mode is reachable at a public https PUBLIC_URL", async () => {
  const server = await spawnServer({
    PORT: "0",
    KV_PATH: ":memory:",
    PUBLIC_URL: "https://mcp.example.com",
  });
  try {
    const warned = () =>
      server.logs.some((l) =>
        l.level === "warn" && String(l.msg).includes("anyone can sign in as a demo user")
      );
    // The warning follows the banner on the other stream: give it a moment.
    for (let i = 0; i < 40 && !warned(); i++) await new Promise((r) => setTimeout(r, 50));
    assert(warned(), JSON.stringify(server.logs));
  } finally {
    server.process.kill("SIGKILL");
    await server.exited;
  }
});

Deno.test("main.ts answers 421 naming PUBLIC_URL when reached through the other loopback name (pages redirect there)", async () => {
  const server = await spawnServer({ PORT: "0", KV_PATH: ":memory:" });
  try {
    const port = new URL(server.publicUrl).port;
    const res = await fetch(`http://127.0.0.1:${port}/mcp`, { method: "POST", body: "{}" });
    assertEquals(res.status, 421);
    const text = await res.text();
    assertStringIncludes(text, `PUBLIC_URL is http://localhost:${port}`);
    assertStringIncludes(text, `connect to http://localhost:${port}/mcp`);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assertEquals(health.status, 200);
    await health.body?.cancel();
    // A browser opening a page there is sent to the same page under PUBLIC_URL.
    const page = await fetch(`http://127.0.0.1:${port}/account?x=1`, {
      headers: { accept: "text/html" },
      redirect: "manual",
    });
    assertEquals(page.status, 307);
    assertEquals(page.headers.get("location"), `http://localhost:${port}/account?x=1`);
    const ok = await fetch(`http://localhost:${port}/.well-known/oauth-protected-resource/mcp`);
    assertEquals(ok.status, 200);
    await ok.body?.cancel();
  } finally {
    server.process.kill("SIGKILL");
    await server.exited;
  }
});

Deno.test("deno task dev reads .env (its PORT is honoured), and ends on SIGTERM; with a bad .env it exits 1 instead of waiting", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mcp-dev-" });
  try {
    await copyProject(dir);
    const port = freePort();
    await Deno.writeTextFile(`${dir}/.env`, `PORT=${port}\nSERVER_NAME=Dotenv test\n`);
    const { child, out, reader } = await startTask(dir, "dev", {}, "null");
    assertStringIncludes(out, `"listen":"127.0.0.1:${port}"`);
    const home = await (await fetch(`http://localhost:${port}/`)).text();
    assertStringIncludes(home, "Dotenv test");
    child.kill("SIGTERM");
    const status = await child.status;
    assertEquals(status.success, false);
    await reader.cancel();
    // The watcher is gone too: the port is free again.
    const again = Deno.listen({ hostname: "127.0.0.1", port });
    again.close();

    await Deno.writeTextFile(`${dir}/.env`, "PORT=eighty\n");
    const bad = await new Deno.Command(Deno.execPath(), {
      args: ["task", "dev"],
      cwd: dir,
      env: { ...inherited(), NO_COLOR: "1" },
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    assertEquals(bad.code, 1);
    assertStringIncludes(new TextDecoder().decode(bad.stderr), "PORT");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task start without a .env starts without a warning about the missing file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mcp-start-" });
  try {
    await copyProject(dir);
    const port = freePort();
    const { child, out, reader } = await startTask(dir, "start", { PORT: String(port) }, "piped");
    assertStringIncludes(out, `"listen":"127.0.0.1:${port}"`);
    child.kill("SIGTERM");
    await child.status;
    await reader.cancel();
    const stderr = new TextDecoder().decode(
      await new Response(child.stderr).arrayBuffer(),
    );
    assert(!/warning/i.test(stderr.replace(/^Task start .*$/m, "")), stderr);
    assert(!stderr.includes(".env"), stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main.ts logs a line naming AUTHKIT_EMULATOR_USERS when the users file breaks while it runs; the sign-in page explains it", async () => {
  const dir = await Deno.makeTempDir();
  const users = `${dir}/users.json`;
  await Deno.copyFile(new URL("../emulator/users.json", import.meta.url), users);
  const server = await spawnServer({
    PORT: "0",
    KV_PATH: ":memory:",
    AUTHKIT_EMULATOR_USERS: users,
  });
  try {
    await Deno.writeTextFile(users, "{ not json");
    const res = await fetch(
      `${server.publicUrl}/user_management/authorize?client_id=client_emulator&redirect_uri=${
        encodeURIComponent(`${server.publicUrl}/callback`)
      }&response_type=code`,
      { headers: { accept: "text/html" } },
    );
    assertEquals(res.status, 503);
    const page = await res.text();
    assertStringIncludes(page, "The demo users file is broken");
    assertStringIncludes(page, "AUTHKIT_EMULATOR_USERS");
    const logged = () =>
      server.logs.some((l) => l.level === "error" && l.variable === "AUTHKIT_EMULATOR_USERS");
    for (let i = 0; i < 40 && !logged(); i++) await new Promise((r) => setTimeout(r, 50));
    assert(logged(), JSON.stringify(server.logs.slice(-3)));
  } finally {
    server.process.kill("SIGKILL");
    await server.exited;
    await Deno.remove(dir, { recursive: true });
  }
});

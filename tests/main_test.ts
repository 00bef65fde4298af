import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { spawnServer } from "./helpers/cluster.ts";
import { openSession } from "./helpers/mcp_clients.ts";
import { sdkSignIn } from "./helpers/oauth.ts";

async function runMain(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
    env: { ...env, NO_COLOR: "1" },
    clearEnv: true,
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
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

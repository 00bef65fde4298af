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

    const started = performance.now();
    server.process.kill("SIGTERM");
    const [sseText, getText, status] = await Promise.all([sse.text(), get.text(), server.exited]);
    const seconds = (performance.now() - started) / 1000;
    assertEquals(status.code, 0);
    assert(seconds < 4.5, `exited after ${seconds.toFixed(2)} s`);
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

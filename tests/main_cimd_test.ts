import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { spawnServer } from "./helpers/cluster.ts";
import { waitFor } from "./helpers/mcp_clients.ts";

Deno.test("main.ts warns at startup while CIMD_ALLOW_LOOPBACK is on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "main-cimd-" });
  const server = await spawnServer({
    PORT: "0",
    KV_PATH: `${dir}/kv.sqlite3`,
    CIMD_ALLOW_LOOPBACK: "true",
  });
  try {
    const isWarning = (l: Record<string, unknown>) =>
      String(l.msg).startsWith("CIMD_ALLOW_LOOPBACK=true");
    await waitFor(() => server.logs.some(isWarning), 5000, "the startup warning");
    const warning = server.logs.find((l) => String(l.msg).startsWith("CIMD_ALLOW_LOOPBACK=true"));
    assert(warning, JSON.stringify(server.logs));
    assertEquals(warning.level, "warn");
  } finally {
    server.process.kill("SIGKILL");
    await server.exited;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main.ts refuses CIMD_ALLOW_LOOPBACK on Deno Deploy, naming the variable", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
    env: {
      NO_COLOR: "1",
      DENO_DEPLOYMENT_ID: "dep_1",
      PUBLIC_URL: "https://mcp.example.com",
      WORKOS_CLIENT_ID: "client_1",
      WORKOS_API_KEY: "sk_1",
      COOKIE_ENCRYPTION_KEY: "k".repeat(32),
      CIMD_ALLOW_LOOPBACK: "true",
    },
    clearEnv: true,
    stdout: "null",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 1);
  assertStringIncludes(new TextDecoder().decode(out.stderr), "CIMD_ALLOW_LOOPBACK");
});

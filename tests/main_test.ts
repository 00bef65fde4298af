import { assertEquals, assertStringIncludes } from "@std/assert";

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

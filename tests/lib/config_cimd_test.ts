import { assertEquals, assertThrows } from "@std/assert";
import { ConfigError, loadConfig } from "../../lib/config.ts";

const WORKOS = {
  WORKOS_CLIENT_ID: "client_x",
  WORKOS_API_KEY: "sk_x",
  COOKIE_ENCRYPTION_KEY: "k".repeat(32),
};

Deno.test("loadConfig() reads CIMD_ALLOW_LOOPBACK, off by default", () => {
  assertEquals(loadConfig({}).cimdAllowLoopback, false);
  assertEquals(loadConfig({ CIMD_ALLOW_LOOPBACK: "true" }).cimdAllowLoopback, true);
  // Explicit local development against real WorkOS: a loopback PUBLIC_URL.
  assertEquals(
    loadConfig({ ...WORKOS, PUBLIC_URL: "http://localhost:8788", CIMD_ALLOW_LOOPBACK: "true" })
      .cimdAllowLoopback,
    true,
  );
});

Deno.test("loadConfig() refuses CIMD_ALLOW_LOOPBACK on Deno Deploy and on a public PUBLIC_URL", () => {
  for (
    const env of [
      {
        ...WORKOS,
        DENO_DEPLOYMENT_ID: "d1",
        PUBLIC_URL: "https://mcp.example.com",
        CIMD_ALLOW_LOOPBACK: "true",
      },
      { ...WORKOS, PUBLIC_URL: "https://mcp.example.com", CIMD_ALLOW_LOOPBACK: "true" },
    ]
  ) {
    const err = assertThrows(() => loadConfig(env), ConfigError);
    assertEquals(err.variable, "CIMD_ALLOW_LOOPBACK");
  }
  const bad = assertThrows(() => loadConfig({ CIMD_ALLOW_LOOPBACK: "yes" }), ConfigError);
  assertEquals(
    bad.message,
    'Invalid configuration: CIMD_ALLOW_LOOPBACK: must be "true" or "false"',
  );
});

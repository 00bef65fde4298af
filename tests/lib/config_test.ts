import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { ConfigError, loadConfig } from "../../lib/config.ts";

const WORKOS = {
  WORKOS_CLIENT_ID: "client_123",
  WORKOS_API_KEY: "sk_test_123",
  COOKIE_ENCRYPTION_KEY: "k".repeat(64),
};

Deno.test("loadConfig() defaults to emulator mode on localhost:8788", () => {
  const config = loadConfig({});
  assertEquals(config.mode, "emulator");
  assertEquals(config.publicUrl, "http://localhost:8788");
  assertEquals(config.port, 8788);
  assertEquals(config.workos.apiHostname, "localhost");
  assertEquals(config.workos.apiPort, 8788);
  assertEquals(config.workos.apiHttps, false);
  assertEquals(config.workos.issuers, [
    "http://localhost:8788",
    "http://localhost:8788/user_management/client_emulator",
  ]);
  assertEquals(config.ephemeralKey, true);
});

Deno.test("loadConfig() refuses emulator mode on Deno Deploy, naming the variable", () => {
  const err = assertThrows(
    () => loadConfig({ DENO_DEPLOYMENT_ID: "abc", PUBLIC_URL: "https://mcp.example.com" }),
    ConfigError,
  );
  assertEquals(err.variable, "WORKOS_CLIENT_ID");
  assertStringIncludes(err.message, "emulator is refused on Deno Deploy");
});

Deno.test("loadConfig() in WorkOS mode requires an API key and a cookie key", () => {
  const noKey = assertThrows(() => loadConfig({ WORKOS_CLIENT_ID: "client_1" }), ConfigError);
  assertEquals(noKey.variable, "WORKOS_API_KEY");
  const noCookie = assertThrows(
    () => loadConfig({ WORKOS_CLIENT_ID: "client_1", WORKOS_API_KEY: "sk" }),
    ConfigError,
  );
  assertEquals(noCookie.variable, "COOKIE_ENCRYPTION_KEY");
  assertStringIncludes(noCookie.message, "openssl rand -hex 32");
  const short = assertThrows(
    () => loadConfig({ ...WORKOS, COOKIE_ENCRYPTION_KEY: "short" }),
    ConfigError,
  );
  assertEquals(short.variable, "COOKIE_ENCRYPTION_KEY");
});

Deno.test("loadConfig() accepts WORKOS_CLIENT_SECRET as the API key (the Cloudflare demo's name)", () => {
  const config = loadConfig({
    WORKOS_CLIENT_ID: "client_1",
    WORKOS_CLIENT_SECRET: "sk_from_cf",
    COOKIE_ENCRYPTION_KEY: "k".repeat(32),
  });
  assertEquals(config.workos.apiKey, "sk_from_cf");
  assertEquals(config.workos.apiHostname, "api.workos.com");
  assertEquals(config.workos.issuers, [
    "https://api.workos.com",
    "https://api.workos.com/user_management/client_1",
  ]);
});

Deno.test("loadConfig() aims the SDK at another host and takes an explicit issuer list", () => {
  const config = loadConfig({
    ...WORKOS,
    WORKOS_API_HOSTNAME: "auth.example.com",
    WORKOS_API_PORT: "8443",
    WORKOS_API_HTTPS: "true",
    WORKOS_ISSUER: "https://auth.example.com, https://api.workos.com/user_management/client_123",
  });
  assertEquals(config.workos.apiHostname, "auth.example.com");
  assertEquals(config.workos.apiPort, 8443);
  assertEquals(config.workos.issuers, [
    "https://auth.example.com",
    "https://api.workos.com/user_management/client_123",
  ]);
});

Deno.test("loadConfig() names the variable for malformed values", () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ PORT: "eighty" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ PUBLIC_URL: "https://mcp.example.com/" }, "PUBLIC_URL"],
    [{ PUBLIC_URL: "https://mcp.example.com/path" }, "PUBLIC_URL"],
    [{ PUBLIC_URL: "http://mcp.example.com" }, "PUBLIC_URL"],
    [{ ...WORKOS, WORKOS_API_HTTPS: "yes" }, "WORKOS_API_HTTPS"],
    [{ ...WORKOS, WORKOS_API_HOSTNAME: "https://api.workos.com" }, "WORKOS_API_HOSTNAME"],
  ];
  for (const [env, variable] of cases) {
    const err = assertThrows(() => loadConfig(env), ConfigError, undefined);
    assertEquals(err.variable, variable, JSON.stringify(env));
  }
});

Deno.test("loadConfig() on Deno Deploy opens the attached database (no path, no disk), whatever KV_PATH says", () => {
  const config = loadConfig({
    ...WORKOS,
    DENO_DEPLOYMENT_ID: "dep_1",
    PUBLIC_URL: "https://mcp.example.com",
    KV_PATH: "/tmp/should-not-be-used.sqlite3",
  });
  assertEquals(config.onDeploy, true);
  assertEquals(config.deploymentId, "dep_1");
  assertEquals(config.kvPath, undefined);
});

Deno.test("loadConfig() takes DENO_KV_URL (KV Connect) over KV_PATH, and requires its access token", () => {
  const url = "https://api.deno.com/databases/0000/connect";
  const config = loadConfig({ DENO_KV_URL: url, DENO_KV_ACCESS_TOKEN: "ddp_x", KV_PATH: "x.db" });
  assertEquals(config.kvPath, url);
  const missing = assertThrows(() => loadConfig({ DENO_KV_URL: url }), ConfigError);
  assertEquals(missing.variable, "DENO_KV_ACCESS_TOKEN");
  assertStringIncludes(missing.message, "required with DENO_KV_URL");
  const bad = assertThrows(() => loadConfig({ DENO_KV_URL: "kv.example.com" }), ConfigError);
  assertEquals(bad.variable, "DENO_KV_URL");
  assertStringIncludes(bad.message, "KV Connect URL");
});

Deno.test("loadConfig() reads KV_POLL_MS (default 100) and refuses values below 10 ms", () => {
  assertEquals(loadConfig({}).mcp.pollMs, 100);
  assertEquals(loadConfig({ KV_POLL_MS: "25" }).mcp.pollMs, 25);
  for (const value of ["5", "abc", "-1"]) {
    const err = assertThrows(() => loadConfig({ KV_POLL_MS: value }), ConfigError);
    assertEquals(err.variable, "KV_POLL_MS");
    assertStringIncludes(err.message, "at least 10");
  }
});

Deno.test("loadConfig() reports every malformed value at once, one problem per variable", () => {
  const err = assertThrows(
    () => loadConfig({ PORT: "x", KV_POLL_MS: "1", SERVER_LOGO_URL: "http://x/logo.png" }),
    ConfigError,
  );
  assertEquals(err.problems.map((p) => p.variable).sort(), [
    "KV_POLL_MS",
    "PORT",
    "SERVER_LOGO_URL",
  ]);
  assertStringIncludes(err.message, "3 problems");
  for (const p of err.problems) assertStringIncludes(err.message, `${p.variable}: ${p.message}`);
});

Deno.test("loadConfig() reports every missing WorkOS setting at once", () => {
  const err = assertThrows(() => loadConfig({ WORKOS_CLIENT_ID: "client_1" }), ConfigError);
  assertEquals(err.problems.map((p) => p.variable), ["WORKOS_API_KEY", "COOKIE_ENCRYPTION_KEY"]);
});

Deno.test("loadConfig() detects swapped WORKOS_CLIENT_ID and WORKOS_API_KEY by their prefixes", () => {
  const err = assertThrows(
    () => loadConfig({ ...WORKOS, WORKOS_CLIENT_ID: "sk_test_1", WORKOS_API_KEY: "client_1" }),
    ConfigError,
  );
  assertEquals(err.problems.map((p) => p.variable), ["WORKOS_CLIENT_ID", "WORKOS_API_KEY"]);
  for (const p of err.problems) assertStringIncludes(p.message, "swapped");
  // The right way round is accepted.
  assertEquals(loadConfig(WORKOS).mode, "workos");
});

Deno.test("loadConfig() warns (without refusing) when emulator mode sits behind a public https PUBLIC_URL", () => {
  const config = loadConfig({ PUBLIC_URL: "https://mcp.example.com" });
  assertEquals(config.mode, "emulator");
  assertEquals(config.warnings.length, 1);
  assertStringIncludes(config.warnings[0]!, "anyone can sign in as a demo user");
  assertEquals(loadConfig({}).warnings, []);
  assertEquals(loadConfig({ ...WORKOS, PUBLIC_URL: "https://mcp.example.com" }).warnings, []);
});

Deno.test("loadConfig() reads the brand (SERVER_NAME, SERVER_LOGO_URL, SERVER_ACCENT_COLOR) with defaults", () => {
  assertEquals(loadConfig({}).brand, {
    name: "MCP server",
    logoUrl: undefined,
    accentColor: "#4f46e5",
  });
  const brand = loadConfig({
    SERVER_NAME: "Acme tools",
    SERVER_LOGO_URL: "https://cdn.example.com/logo.svg",
    SERVER_ACCENT_COLOR: "#0F766E",
  }).brand;
  assertEquals(brand, {
    name: "Acme tools",
    logoUrl: "https://cdn.example.com/logo.svg",
    accentColor: "#0f766e",
  });
  for (const [name, value] of [["SERVER_ACCENT_COLOR", "teal"], ["SERVER_NAME", "x".repeat(61)]]) {
    const err = assertThrows(() => loadConfig({ [name!]: value! }), ConfigError);
    assertEquals(err.variable, name);
  }
});

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { banner, clientEntryName } from "../../app/banner.ts";
import { loadConfig } from "../../lib/config.ts";

Deno.test("banner() names the MCP URL, the mode, the demo users, /account and a line per client", () => {
  const text = banner({
    config: loadConfig({ PORT: "9123" }),
    demoUsers: ["alice@example.com (image_generation)", "bob@example.com (no permissions)"],
  });
  const mcp = "http://localhost:9123/mcp";
  assertStringIncludes(text, `MCP URL         ${mcp}`);
  assertStringIncludes(text, "emulator mode");
  assertStringIncludes(text, "http://localhost:9123/account");
  assertStringIncludes(text, "alice@example.com (image_generation)");
  assertStringIncludes(text, "bob@example.com (no permissions)");
  assertStringIncludes(text, `claude mcp add --transport http mcp-server ${mcp}`);
  assertStringIncludes(text, `"args":["-y","mcp-remote","${mcp}"]`);
  assertStringIncludes(text, `{"mcpServers":{"mcp-server":{"url":"${mcp}"}}}`);
  assertStringIncludes(text, `code --add-mcp '{"name":"mcp-server","type":"http","url":"${mcp}"}'`);
  assertStringIncludes(text, "npx @modelcontextprotocol/inspector");
  // Short: a screenful, not a 500-character JSON line.
  const lines = text.split("\n");
  assert(lines.length <= 25, `${lines.length} lines`);
});

Deno.test("banner() in WorkOS mode names WorkOS and lists no demo users", () => {
  const text = banner({
    config: loadConfig({
      WORKOS_CLIENT_ID: "client_1",
      WORKOS_API_KEY: "sk_1",
      COOKIE_ENCRYPTION_KEY: "k".repeat(32),
      PUBLIC_URL: "https://mcp.example.com",
      SERVER_NAME: "Acme Tools",
    }),
  });
  assertStringIncludes(text, "Acme Tools is running: WorkOS mode");
  assertEquals(text.includes("Demo users"), false);
  assertStringIncludes(
    text,
    "claude mcp add --transport http acme-tools https://mcp.example.com/mcp",
  );
});

Deno.test("clientEntryName() makes a config key from the server name", () => {
  assertEquals(clientEntryName("MCP server"), "mcp-server");
  assertEquals(clientEntryName("  Acme / Tools! "), "acme-tools");
  assertEquals(clientEntryName("***"), "mcp-server");
});

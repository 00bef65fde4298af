/**
 * The startup banner a person reads on a terminal: where the MCP server is, the mode, the demo users,
 * the account page, and copy-paste lines to connect the usual clients. (Logs and non-terminals get one
 * JSON line instead, written by `main.ts`.)
 *
 * @module
 */
import { type Config, resources } from "../lib/config.ts";

/** What the banner shows besides the configuration. */
export interface BannerInput {
  config: Config;
  /** Demo users, one line each (emulator mode). */
  demoUsers?: readonly string[];
}

/** A name for client configuration files: the server name as lowercase words joined by dashes. */
export function clientEntryName(serverName: string): string {
  return serverName.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "mcp-server";
}

/**
 * The banner text.
 *
 * @example
 * ```ts
 * banner({ config: loadConfig({}) }); // "MCP server is running … claude mcp add --transport http …"
 * ```
 */
export function banner(input: BannerInput): string {
  const { config } = input;
  const mcp = resources(config).mcp;
  const name = clientEntryName(config.brand.name);
  const mode = config.mode === "emulator"
    ? "emulator mode (sign-in uses the built-in AuthKit emulator; set WORKOS_CLIENT_ID for real WorkOS)"
    : `WorkOS mode (AuthKit at ${config.workos.apiHostname})`;
  const lines = [
    "",
    `${config.brand.name} is running: ${mode}`,
    "",
    `  MCP URL         ${mcp}`,
    `  Your account    ${config.publicUrl}/account  (connected clients, revoke, activity)`,
  ];
  if (input.demoUsers?.length) {
    lines.push(`  Demo users      ${input.demoUsers[0]}`);
    for (const user of input.demoUsers.slice(1)) lines.push(`                  ${user}`);
  }
  const desktop = JSON.stringify({
    mcpServers: { [name]: { command: "npx", args: ["-y", "mcp-remote", mcp] } },
  });
  lines.push(
    "",
    "Connect a client (each opens a browser to sign in; use this address, not 127.0.0.1):",
    `  Claude Code     claude mcp add --transport http ${name} ${mcp}`,
    `  Claude Desktop  add to claude_desktop_config.json: ${desktop}`,
    `  Cursor          add to ~/.cursor/mcp.json: ${
      JSON.stringify({ mcpServers: { [name]: { url: mcp } } })
    }`,
    `  VS Code         code --add-mcp '${JSON.stringify({ name, type: "http", url: mcp })}'`,
    `  MCP Inspector   npx @modelcontextprotocol/inspector  (Streamable HTTP, URL ${mcp};`,
    `                  start this server with ALLOWED_ORIGINS=http://localhost:6274)`,
    "",
  );
  return lines.join("\n");
}

/**
 * The MCP side of one app instance, built once in `createApp`: tool services, the grant watcher, the
 * 2025 session store, the 2024-11-05 SSE sessions, and the SDK's 2026-07-28 handler (`legacy: "reject"`,
 * since `routes/mcp.ts` serves 2025 traffic itself, with sessions).
 *
 * @module
 */
import { createMcpHandler, type McpHttpHandler } from "@modelcontextprotocol/server";
import type { Config } from "../lib/config.ts";
import { errorFields, log } from "../lib/log.ts";
import { GrantWatcher } from "./list_changed.ts";
import { buildServer, identityOf } from "./server.ts";
import { SessionStore } from "./sessions.ts";
import { SseSessions } from "./sse_sessions.ts";
import type { ToolServices } from "./tool.ts";

/** Everything the MCP routes use. */
export interface McpRuntime {
  readonly config: Config;
  readonly services: ToolServices;
  readonly watcher: GrantWatcher;
  readonly sessions: SessionStore;
  readonly sse: SseSessions;
  /** Serves 2026-07-28 requests; rejects 2025-era ones (they never reach it). */
  readonly modern: McpHttpHandler;
}

/** Builds the runtime. */
export function createMcpRuntime(
  deps: { kv: Deno.Kv; config: Config; services: ToolServices; now?: () => number },
): McpRuntime {
  const now = deps.now ?? Date.now;
  const watcher = new GrantWatcher(deps.kv, { now });
  const sessions = new SessionStore(deps.kv, {
    idleMs: deps.config.mcp.sessionIdleSeconds * 1000,
    watcher,
    now,
  });
  const modern = createMcpHandler((ctx) => {
    const identity = identityOf(ctx.authInfo);
    if (!identity) {
      throw new Error("Cannot build MCP server: the request carries no verified identity");
    }
    return buildServer(identity, deps.services).server;
  }, {
    legacy: "reject",
    onerror: (err) => log("debug", "MCP request rejected", errorFields(err)),
  });
  return {
    config: deps.config,
    services: deps.services,
    watcher,
    sessions,
    sse: new SseSessions(watcher, deps.services),
    modern,
  };
}

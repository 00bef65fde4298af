/**
 * The MCP side of one app instance, built once in `createApp`: tool services, the grant watcher, the
 * instance's KV poller and cross-instance bus, the 2025 session store, the 2024-11-05 SSE sessions, the
 * SDK's 2026-07-28 handler (`legacy: "reject"`, since `routes/mcp.ts` serves 2025 traffic itself, with
 * sessions) and the SDK's stateless legacy leg that serves every 2025 POST and every SSE message.
 *
 * Nothing here assumes that the next request lands on this instance: sessions live in KV, and what
 * must reach a stream held elsewhere goes through KV (see `bus.ts`, `sse_relay.ts`).
 *
 * @module
 */
import {
  createMcpHandler,
  type LegacyHttpHandler,
  legacyStatelessFallback,
  type McpHttpHandler,
  type McpServerFactory,
} from "@modelcontextprotocol/server";
import { randomToken } from "../auth/crypto.ts";
import { type Config, DEFAULT_SERVER_NAME } from "../lib/config.ts";
import { errorFields, log } from "../lib/log.ts";
import { withTimeout } from "../lib/timeout.ts";
import { KvEventBus } from "./cluster/bus.ts";
import { announceCatalog, catalogFingerprint } from "./cluster/catalog.ts";
import { createDispatcher, type MessageDispatcher } from "./dispatch.ts";
import { FastPath } from "./fast_path.ts";
import { KvPoller } from "./cluster/kv_poller.ts";
import { GrantWatcher } from "./cluster/grant_watcher.ts";
import { buildServer, identityOf } from "./server.ts";
import { SessionStore } from "./sessions.ts";
import { SseSessions } from "./sse_sessions.ts";
import type { ToolServices } from "./tool.ts";

/** How long clients are told to wait before reconnecting when this instance shuts down. */
export const SHUTDOWN_RETRY_MS = 1000;

/** Everything the MCP routes use. */
export interface McpRuntime {
  readonly config: Config;
  readonly services: ToolServices;
  /** This instance's random id (names it in SSE records, outboxes and bus events). */
  readonly instanceId: string;
  readonly watcher: GrantWatcher;
  readonly bus: KvEventBus;
  readonly sessions: SessionStore;
  readonly sse: SseSessions;
  /** Serves 2026-07-28 requests; rejects 2025-era ones (they never reach it). */
  readonly modern: McpHttpHandler;
  /** Ends each open 2026-07-28 `subscriptions/listen` stream (see `listen.ts`). */
  readonly listens: Set<() => void>;
  /** Serves one 2025-era POST with a fresh server (the SDK's stateless legacy leg). */
  readonly legacy: LegacyHttpHandler;
  /**
   * Serves plain `tools/call`, `tools/list` and `ping` without an SDK server (see `fast_path.ts`);
   * null when MCP_FAST_PATH=off.
   */
  readonly fast: FastPath | null;
  /** Serves one SSE client message through {@linkcode McpRuntime.legacy}. */
  readonly dispatch: MessageDispatcher;
  /** True once shutdown began: new streams are refused with 503. */
  readonly draining: boolean;
  /** Open streams of every kind on this instance. */
  openStreams(): { sse: number; mcp: number; listen: number };
  /**
   * Shutdown: refuses new streams, ends open ones (2025 and SSE ones with `retry:`, so clients
   * reconnect elsewhere), stops polling and flushes bus events. Requests in flight are left to finish.
   */
  close(): Promise<void>;
}

/** Options of {@linkcode createMcpRuntime}. */
export interface McpRuntimeDeps {
  kv: Deno.Kv;
  config: Config;
  services: ToolServices;
  now?: () => number;
}

/** Builds the runtime. */
export function createMcpRuntime(deps: McpRuntimeDeps): McpRuntime {
  const now = deps.now ?? Date.now;
  const instanceId = randomToken(12);
  const poller = new KvPoller(deps.kv, { intervalMs: deps.config.mcp.pollMs });
  const bus = new KvEventBus(deps.kv, poller, instanceId, { now });
  const watcher = new GrantWatcher(deps.kv, { now });
  const sessions = new SessionStore(deps.kv, {
    idleMs: deps.config.mcp.sessionIdleSeconds * 1000,
    watcher,
    bus,
    now,
  });
  const factory: McpServerFactory = (ctx) => {
    const identity = identityOf(ctx.authInfo);
    if (!identity) {
      throw new Error("Cannot build MCP server: the request carries no verified identity");
    }
    return buildServer(identity, deps.services, serverName(deps.config));
  };
  const modern = createMcpHandler(factory, {
    legacy: "reject",
    bus: bus.sdk,
    onerror: (err) => log("debug", "MCP request rejected", errorFields(err)),
  });
  const legacy = legacyStatelessFallback(
    factory,
    (err) => log("debug", "legacy MCP request failed", errorFields(err)),
  );
  const sse = new SseSessions({ kv: deps.kv, watcher, bus, poller, instanceId, now });
  const announced = catalogFingerprint()
    .then((fingerprint) => announceCatalog(deps.kv, bus, fingerprint))
    .then((changed) => changed && log("info", "tool catalog changed; told every live session"))
    .catch((err) => log("warn", "tool catalog announcement failed", errorFields(err)));
  const listens = new Set<() => void>();
  let draining = false;
  return {
    config: deps.config,
    services: deps.services,
    instanceId,
    watcher,
    bus,
    sessions,
    sse,
    modern,
    listens,
    legacy,
    fast: deps.config.mcp.fastPath ? new FastPath(deps.services) : null,
    dispatch: createDispatcher(legacy, `${deps.config.publicUrl}/mcp`),
    get draining() {
      return draining;
    },
    openStreams: () => ({ sse: sse.size, mcp: sessions.streams, listen: listens.size }),
    async close() {
      draining = true;
      await withTimeout(announced, 1000).catch(() => {});
      sessions.closeAll(SHUTDOWN_RETRY_MS);
      await sse.closeAll(SHUTDOWN_RETRY_MS);
      // 2026-07-28 requests in flight finish normally (closing the SDK handler would fail them).
      for (const end of [...listens]) end();
      await poller.close();
      await bus.flush();
      await sessions.flush();
    },
  };
}

/** SERVER_NAME when one is configured (the default brand keeps the package's own serverInfo name). */
function serverName(config: Config): string | undefined {
  return config.brand.name === DEFAULT_SERVER_NAME ? undefined : config.brand.name;
}

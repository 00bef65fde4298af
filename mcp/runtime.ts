/**
 * The MCP side of one app instance, built once by `createApp`, offered as actions: `post`, `get` and
 * `delete` serve the Streamable HTTP endpoint (`streamable_http.ts`), `openSse` and `sseMessage` the
 * 2024-11-05 transport (`sse_transport.ts`); `close` drains it. Routes pass it the request and the
 * verified caller and hand back what it answers; they never see its parts.
 *
 * What it builds, each here and nowhere else: the tool services (the image backend from CLOUDFLARE_*,
 * unless one is given, and the tool-call hook), the per-grant limits (MAX_STREAMS_PER_GRANT,
 * MAX_SESSIONS_PER_GRANT), the grant watcher, the instance's KV poller and cross-instance bus, the 2025
 * session store, the 2024-11-05 SSE sessions, the fast path (unless MCP_FAST_PATH=off), the SDK's
 * 2026-07-28 handler (`legacy: "reject"`: 2025 traffic is served with sessions by
 * `streamable_http.ts`) and the SDK's stateless legacy leg that serves every 2025 POST and every SSE
 * message.
 *
 * Nothing here assumes that the next request lands on this instance: sessions live in KV, and what
 * must reach a stream held elsewhere goes through KV (see `cluster/bus.ts`, `cluster/sse_relay.ts`).
 *
 * @module
 */
import {
  createMcpHandler,
  legacyStatelessFallback,
  type McpServerFactory,
} from "@modelcontextprotocol/server";
import { randomToken } from "../auth/crypto.ts";
import type { Identity } from "../auth/identity.ts";
import { type Config, DEFAULT_SERVER_NAME } from "../lib/config.ts";
import { errorFields, log } from "../lib/log.ts";
import { withTimeout } from "../lib/timeout.ts";
import { KvEventBus } from "./cluster/bus.ts";
import { announceCatalog, catalogFingerprint } from "./cluster/catalog.ts";
import { createDispatcher } from "./dispatch.ts";
import { FastPath } from "./fast_path.ts";
import { GrantLimits } from "./grant_limits.ts";
import { KvPoller } from "./cluster/kv_poller.ts";
import { GrantWatcher } from "./cluster/grant_watcher.ts";
import { buildServer, identityOf } from "./server.ts";
import { SessionStore } from "./sessions.ts";
import { SseSessions } from "./sse_sessions.ts";
import { createSseTransport } from "./sse_transport.ts";
import { type Caller, createStreamableHttp } from "./streamable_http.ts";
import type { ImageGenerator, ToolCallRecord, ToolServices } from "./tool.ts";
import { imageGeneratorFromConfig } from "./tools/generate_image/from_env.ts";

/** How long clients are told to wait before reconnecting when this instance shuts down. */
export const SHUTDOWN_RETRY_MS = 1000;

/** What the MCP routes (and `/healthz`) can ask of this instance. */
export interface McpRuntime {
  /** This instance's random id (names it in SSE records, outboxes, bus events and `/healthz`). */
  readonly instanceId: string;
  /** True once shutdown began: new streams are refused with 503. */
  readonly draining: boolean;
  /**
   * Serves `POST /mcp` of any era: a 2026-07-28 request statelessly, a 2025 one in its session (an
   * `initialize` opens one). Throws `McpHttpError` (and storage errors) for the route to answer.
   */
  post(request: Request, caller: Caller): Promise<Response>;
  /** Serves `GET /mcp`: a 2025 session's event stream, or its resumption from `Last-Event-ID`. */
  get(request: Request, caller: Caller): Promise<Response>;
  /** Serves `DELETE /mcp`: ends the 2025 session named by `Mcp-Session-Id`. */
  delete(request: Request, caller: Caller): Promise<Response>;
  /** Serves `GET /sse`: opens a 2024-11-05 session's event stream for `identity`. */
  openSse(identity: Identity): Promise<Response>;
  /** Serves `POST /messages?sessionId=…`: one client message of a 2024-11-05 session (202). */
  sseMessage(sessionId: string | undefined, caller: Caller, request: Request): Promise<Response>;
  /**
   * Whether {@linkcode McpRuntime.post} would answer this request on the fast path, without an SDK
   * server (always false with MCP_FAST_PATH=off). For tests and diagnostics; changes nothing.
   */
  takesFastPath(headers: Headers, body: unknown): boolean;
  /**
   * Tells every live session, on every instance, that the tool list changed; resolves once the event
   * is written to KV (so a stream resumed later replays it).
   */
  announceToolsChanged(): Promise<void>;
  /** Open streams of every kind on this instance. */
  openStreams(): { sse: number; mcp: number; listen: number };
  /**
   * Shutdown: refuses new streams, ends open ones (2025 and SSE ones with `retry:`, so clients
   * reconnect elsewhere), stops polling and flushes bus events. Requests in flight are left to finish;
   * call {@linkcode McpRuntime.flush} once they have.
   */
  close(): Promise<void>;
  /**
   * Writes what is still queued: bus events and kept answers, including those of requests that
   * finished after {@linkcode McpRuntime.close} (a clean stop loses none).
   */
  flush(): Promise<void>;
}

/** Options of {@linkcode createMcpRuntime}. */
export interface McpRuntimeDeps {
  kv: Deno.Kv;
  config: Config;
  /** Told about every tool call, allowed or refused (the audit trail); must not throw. */
  onToolCall?: (record: ToolCallRecord) => void;
  /** The image backend; built from the configuration (CLOUDFLARE_*) when absent. */
  image?: ImageGenerator;
  now?: () => number;
}

/** Builds the runtime. */
export function createMcpRuntime(deps: McpRuntimeDeps): McpRuntime {
  const { kv, config } = deps;
  const now = deps.now ?? Date.now;
  const instanceId = randomToken(12);
  const services: ToolServices = {
    image: deps.image ?? imageGeneratorFromConfig({
      cloudflareAccountId: config.cloudflare.accountId,
      cloudflareApiToken: config.cloudflare.apiToken,
      cloudflareApiBaseUrl: config.cloudflare.apiBaseUrl,
    }),
    ...(deps.onToolCall ? { onToolCall: deps.onToolCall } : {}),
  };
  const limits = new GrantLimits({
    kv,
    maxStreams: config.limits.maxStreamsPerGrant,
    maxSessions: config.limits.maxSessionsPerGrant,
    sessionIdleMs: config.mcp.sessionIdleSeconds * 1000,
    now,
  });
  const poller = new KvPoller(kv, { intervalMs: config.mcp.pollMs });
  const bus = new KvEventBus(kv, poller, instanceId, { now });
  const watcher = new GrantWatcher(kv, { now });
  const sessions = new SessionStore(kv, {
    idleMs: config.mcp.sessionIdleSeconds * 1000,
    watcher,
    bus,
    now,
  });
  const factory: McpServerFactory = (ctx) => {
    const identity = identityOf(ctx.authInfo);
    if (!identity) {
      throw new Error("Cannot build MCP server: the request carries no verified identity");
    }
    return buildServer(identity, services, serverName(config));
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
  const sse = new SseSessions({ kv, watcher, bus, poller, instanceId, now });
  const fast = config.mcp.fastPath ? new FastPath(services) : null;
  const announced = catalogFingerprint()
    .then((fingerprint) => announceCatalog(kv, bus, fingerprint))
    .then((changed) => changed && log("info", "tool catalog changed; told every live session"))
    .catch((err) => log("warn", "tool catalog announcement failed", errorFields(err)));
  const listens = new Set<() => void>();
  let draining = false;
  const isDraining = () => draining;
  const http = createStreamableHttp({
    services,
    sessions,
    modern,
    legacy,
    fast,
    watcher,
    bus,
    listens,
    limits,
    pollMs: config.mcp.pollMs,
    draining: isDraining,
  });
  const sseTransport = createSseTransport({
    services,
    sse,
    dispatch: createDispatcher(legacy, `${config.publicUrl}/mcp`),
    limits,
    draining: isDraining,
  });
  return {
    instanceId,
    get draining() {
      return draining;
    },
    post: http.post,
    get: http.get,
    delete: http.delete,
    openSse: sseTransport.open,
    sseMessage: sseTransport.message,
    takesFastPath: (headers, body) => fast?.accept(headers, body) != null,
    async announceToolsChanged() {
      bus.publish({ kind: "tools_list_changed" });
      await bus.flush();
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
    async flush() {
      await bus.flush();
      await sessions.flush();
    },
  };
}

/** SERVER_NAME when one is configured (the default brand keeps the package's own serverInfo name). */
function serverName(config: Config): string | undefined {
  return config.brand.name === DEFAULT_SERVER_NAME ? undefined : config.brand.name;
}

/**
 * Live 2024-11-05 SSE sessions. Here the session *is* the connection: one SDK server per open `GET /sse`
 * stream, kept in memory on the instance holding the stream (a POST can only be served there), bound to
 * the user, client and grant that opened it. When the grant's permissions change the server's tools are
 * re-synced, which makes the SDK send `notifications/tools/list_changed`; when the grant is revoked the
 * stream is closed.
 *
 * @see 2024-11-05 basic/transports.mdx §HTTP with SSE; mcp-spec.md §3 "Legacy SSE ... owner check"
 * @module
 */
import type { McpServer } from "@modelcontextprotocol/server";
import type { Identity } from "../auth/identity.ts";
import { errorFields, log } from "../lib/log.ts";
import type { GrantWatcher } from "./list_changed.ts";
import { buildServer, syncTools, type ToolRegistry } from "./server.ts";
import { SseServerTransport } from "./sse_transport.ts";
import type { ToolServices } from "./tool.ts";

/** One open SSE session. */
export interface SseSession {
  readonly transport: SseServerTransport;
  readonly server: McpServer;
  readonly tools: ToolRegistry;
  /** The identity of the latest request, whose permissions the tools reflect. */
  identity: Identity;
}

/** The open SSE sessions of this instance. */
export class SseSessions {
  #sessions = new Map<string, SseSession>();
  #watcher: GrantWatcher;
  #services: ToolServices;
  #keepAliveMs: number | undefined;

  constructor(
    watcher: GrantWatcher,
    services: ToolServices,
    options: { keepAliveMs?: number } = {},
  ) {
    this.#watcher = watcher;
    this.#services = services;
    this.#keepAliveMs = options.keepAliveMs;
  }

  /** Open sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Opens a session for `identity`; answer the `GET` with `transport.response()`. */
  async open(identity: Identity, endpoint: string): Promise<SseSession> {
    const { server, tools } = buildServer(identity, this.#services);
    let unwatch = (): void => {};
    const transport = new SseServerTransport(endpoint, {
      ...(this.#keepAliveMs === undefined ? {} : { keepAliveMs: this.#keepAliveMs }),
      onClose: () => {
        unwatch();
        this.#sessions.delete(transport.sessionId);
        server.close().catch((err) => log("warn", "SSE server close failed", errorFields(err)));
      },
    });
    const session: SseSession = { transport, server, tools, identity };
    this.#sessions.set(transport.sessionId, session);
    unwatch = this.#watcher.watch(identity.grantId, identity.permissions, (change) => {
      if (change.kind === "revoked") {
        transport.close();
        return;
      }
      this.sync(session, { ...session.identity, permissions: [...change.permissions] });
    });
    await server.connect(transport);
    return session;
  }

  /** The session `id` if `identity` (same user, client and grant) opened it, else null. */
  find(identity: Identity, id: string): SseSession | null {
    const session = this.#sessions.get(id);
    if (!session || session.transport.closed) return null;
    const owner = session.identity;
    if (owner.userId !== identity.userId || owner.clientId !== identity.clientId) return null;
    return owner.grantId === identity.grantId ? session : null;
  }

  /** Makes the session's tools match `identity`'s permissions (sending list_changed on a change). */
  sync(session: SseSession, identity: Identity): void {
    session.identity = identity;
    syncTools(session.server, session.tools, identity, this.#services);
  }

  /** Closes every session (shutdown). */
  closeAll(): void {
    for (const session of [...this.#sessions.values()]) session.transport.close();
  }
}

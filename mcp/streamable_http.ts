/**
 * `POST`, `GET` and `DELETE` on the MCP endpoint, for every Streamable HTTP era, as plain web-standard
 * functions (`Request` in, `Response` out) behind the runtime's `post`/`get`/`delete` actions:
 *
 * - 2026-07-28 requests (per-request `_meta` envelope; `server/discover`, `Mcp-Method`/`Mcp-Name`
 *   headers) go to the SDK's stateless handler (`subscriptions/listen` for push);
 * - 2025 requests (routed by the SDK's own `isLegacyRequest`) get sessions from `sessions.ts`: an
 *   `initialize` opens one (`Mcp-Session-Id`), every other POST needs it, `GET` opens its event stream,
 *   `DELETE` ends it. Each POST is served by a fresh per-request server (the SDK's stateless legacy leg),
 *   so an idle session costs a KV record and a small cache entry, not an SDK server;
 * - plain `tools/call`, `tools/list` and `ping` of either era take the fast path (`fast_path.ts`).
 *
 * A call of a tool the caller lacks permissions for is refused before any server is built. Failures
 * are thrown as {@linkcode McpHttpError} for the app's error handler to answer (`mcpErrorHandler`).
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports §Session Management, §Protocol Version Header
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/versioning §Backward Compatibility
 * @module
 */
import {
  isInitializeRequest,
  isLegacyRequest,
  type LegacyHttpHandler,
  type McpHttpHandler,
} from "@modelcontextprotocol/server";
import type { Identity } from "../auth/identity.ts";
import type { KvEventBus } from "./cluster/bus.ts";
import type { GrantWatcher } from "./cluster/grant_watcher.ts";
import type { FastPath, FastRequest } from "./fast_path.ts";
import { type GrantLimits, releaseOnEnd } from "./grant_limits.ts";
import { oversizedInit, SESSION_HEADER, sessionInit, withSession } from "./session_http.ts";
import {
  assertSupportedVersion,
  ERROR_CODES,
  forbiddenCall,
  McpHttpError,
  readJsonBody,
  sessionNotFound,
  shuttingDown,
} from "./jsonrpc.ts";
import { watchListen } from "./listen.ts";
import { authInfoFor, reportRefusal } from "./server.ts";
import type { SessionRecord, SessionStore } from "./sessions.ts";
import { SSE_HEADERS } from "./sse_stream.ts";
import type { ToolServices } from "./tool.ts";

/** Who is calling: the identity and the access token the bearer check verified. */
export interface Caller {
  readonly identity: Identity;
  readonly accessToken: string;
}

/** The runtime parts {@linkcode createStreamableHttp} serves with. */
export interface StreamableHttpParts {
  readonly services: ToolServices;
  readonly sessions: SessionStore;
  /** Serves 2026-07-28 requests; rejects 2025-era ones (they never reach it). */
  readonly modern: McpHttpHandler;
  /** Serves one 2025-era POST with a fresh server (the SDK's stateless legacy leg). */
  readonly legacy: LegacyHttpHandler;
  /** Null when MCP_FAST_PATH=off. */
  readonly fast: FastPath | null;
  readonly watcher: GrantWatcher;
  readonly bus: KvEventBus;
  /** Ends each open 2026-07-28 `subscriptions/listen` stream (see `listen.ts`). */
  readonly listens: Set<() => void>;
  readonly limits: GrantLimits;
  /** KV_POLL_MS, for replaying a resumed POST stream. */
  readonly pollMs: number;
  /** True once shutdown began: new streams are refused with 503. */
  draining(): boolean;
}

/** The MCP endpoint's three methods. */
export interface StreamableHttp {
  /** Serves `POST /mcp` (any era). */
  post(request: Request, caller: Caller): Promise<Response>;
  /** Serves `GET /mcp`: opens a 2025 session's event stream, or resumes one (`Last-Event-ID`). */
  get(request: Request, caller: Caller): Promise<Response>;
  /** Serves `DELETE /mcp`: ends a 2025 session. */
  delete(request: Request, caller: Caller): Promise<Response>;
}

/** Reports a call refused before any server was built (see `reportRefusal`). */
type RefusalHook = (tool: string, missing: string[]) => void;

/** Serves a POST of one era that the fast path did not take; `body` is already parsed. */
type PostLeg = (
  request: Request,
  caller: Caller,
  body: unknown,
  refusedHook: RefusalHook,
) => Promise<Response>;

/** The MCP endpoint over `parts`. */
export function createStreamableHttp(parts: StreamableHttpParts): StreamableHttp {
  const { services, sessions, modern, legacy, fast, limits } = parts;

  /** A 2026-07-28 request (the fast path did not take it). */
  const postModern: PostLeg = async (request, caller, body, refusedHook) => {
    const identity = caller.identity;
    const method = request.headers.get("mcp-method");
    const refused = method === "tools/call" ? forbiddenCall(body, identity, refusedHook) : null;
    if (refused) return refused;
    const listen = method === "subscriptions/listen";
    if (listen && parts.draining()) throw shuttingDown();
    const release = listen ? limits.acquireStream(identity.grantId) : null;
    const authInfo = authInfoFor(identity, caller.accessToken);
    const res = await modern.fetch(request, { authInfo, parsedBody: body });
    if (!listen) {
      fast?.learn(body, res.status);
      return res;
    }
    if (!release) return res;
    // A grant's permission change concerns this instance's streams only (others watch their own).
    return withRelease(
      watchListen(
        res,
        identity,
        parts.watcher,
        parts.listens,
        () => parts.bus.publishLocal({ kind: "tools_list_changed" }, { sdkOnly: true }),
      ),
      release,
    );
  };

  /** A 2025 request (the fast path did not take it). */
  const postLegacy: PostLeg = async (request, caller, body, refusedHook) => {
    const identity = caller.identity;
    const initialize = isInitializeRequest(body);
    const oversized = initialize ? oversizedInit(body) : null;
    if (oversized) return oversized;
    if (initialize) await limits.assertRoomForSession(identity);
    const session = initialize ? null : await requireSession(request, identity);
    const refused = forbiddenCall(body, identity, refusedHook);
    if (refused) return withSession(refused, session?.id);
    const authInfo = authInfoFor(identity, caller.accessToken);
    if (session && sessions.resumes(session)) {
      // A lost connection is not a cancellation (2025-11-25 §Resumability): the request is served
      // to its end, detached from the client's connection, and its result kept for a resumption.
      const detached = new Request(request.url, { method: "POST", headers: request.headers });
      const res = await legacy(detached, { authInfo, parsedBody: body });
      return sessions.resumable(session, res);
    }
    const res = await legacy(request, { authInfo, parsedBody: body });
    if (!initialize || res.status !== 200) return res;
    const created = await sessions.create(identity, sessionInit(body));
    return withSession(res, created.id);
  };

  /**
   * Serves a request the fast path took: the session check (2025), the permission refusal, then the
   * answer as one JSON response.
   */
  async function serveFast(
    request: Request,
    identity: Identity,
    fast: FastPath,
    taken: FastRequest,
    body: unknown,
    onRefused: RefusalHook,
  ): Promise<Response> {
    const session = taken.era === "legacy" ? await requireSession(request, identity) : undefined;
    const refused = forbiddenCall(body, identity, onRefused);
    if (refused) return withSession(refused, session?.id);
    // A lost connection must not lose a tool's result in a session that resumes (2025-11-25
    // §Resumability): the answer goes out as a resumable event stream, stored like the SDK's.
    if (session && taken.method === "tools/call" && sessions.resumes(session)) {
      const answer = await fast.answer(taken, identity, new AbortController().signal);
      return sessions.resumableAnswer(session, answer, { [SESSION_HEADER]: session.id });
    }
    return Response.json(await fast.answer(taken, identity, request.signal));
  }

  /**
   * The request's session; throws {@linkcode McpHttpError} 400 for an unsupported
   * `MCP-Protocol-Version` or a missing session id, 404 for an unknown, ended, idle or foreign one (the
   * client re-initializes).
   *
   * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports §Session Management items 3–4 (never conflate 400 and 404)
   */
  async function requireSession(request: Request, identity: Identity): Promise<SessionRecord> {
    assertSupportedVersion(request.headers.get("mcp-protocol-version") ?? undefined);
    const id = request.headers.get(SESSION_HEADER);
    if (!id) {
      throw new McpHttpError(
        400,
        ERROR_CODES.badRequest,
        "Bad Request: Mcp-Session-Id header is required",
      );
    }
    const session = await sessions.find(identity, id);
    if (!session) throw sessionNotFound();
    return session;
  }

  return {
    async post(request, caller) {
      const body = await readJsonBody(request);
      const refusedHook = reportRefusal(services, caller.identity);
      const taken = fast?.accept(request.headers, body);
      if (fast && taken) {
        return await serveFast(request, caller.identity, fast, taken, body, refusedHook);
      }
      return (await isLegacyRequest(request, body))
        ? await postLegacy(request, caller, body, refusedHook)
        : await postModern(request, caller, body, refusedHook);
    },

    async get(request, caller) {
      if (!(request.headers.get("accept") ?? "").includes("text/event-stream")) {
        throw new McpHttpError(
          406,
          ERROR_CODES.badRequest,
          "Not Acceptable: Client must accept text/event-stream",
        );
      }
      if (parts.draining()) throw shuttingDown();
      const session = await requireSession(request, caller.identity);
      if (parts.draining()) throw shuttingDown(); // shutdown began while we read KV
      const lastEventId = request.headers.get("last-event-id");
      const replay = await sessions.replayPost(session, lastEventId, parts.pollMs);
      if (replay === null) {
        throw new McpHttpError(
          400,
          ERROR_CODES.badRequest,
          "Bad Request: Last-Event-ID names no resumable stream of this session",
        );
      }
      if (replay === "finished") {
        return new Response(null, {
          status: 204,
          headers: { [SESSION_HEADER]: session.id, "cache-control": "no-store" },
        });
      }
      if (replay) {
        return new Response(replay.body, {
          headers: { ...SSE_HEADERS, [SESSION_HEADER]: session.id },
        });
      }
      const release = limits.acquireStream(caller.identity.grantId);
      const stream = sessions.openStream(session, undefined, lastEventId);
      return new Response(releaseOnEnd(stream.body, release), {
        headers: { ...SSE_HEADERS, [SESSION_HEADER]: session.id },
      });
    },

    async delete(request, caller) {
      const session = await requireSession(request, caller.identity);
      await sessions.end(session);
      return new Response(null, { status: 200 });
    },
  };
}

/** `res` with its body releasing a stream reservation when it ends. */
function withRelease(res: Response, release: () => void): Response {
  if (!res.body) {
    release();
    return res;
  }
  return new Response(releaseOnEnd(res.body, release), res);
}

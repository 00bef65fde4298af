/**
 * `/mcp`: one endpoint for every Streamable HTTP era. Origin check, then the bearer check, then:
 *
 * - 2026-07-28 requests (per-request `_meta` envelope; `server/discover`, `Mcp-Method`/`Mcp-Name`
 *   headers) go to the SDK's `createMcpHandler` (stateless; `subscriptions/listen` for push);
 * - 2025 requests (routed by the SDK's own `isLegacyRequest`) get sessions from `mcp/sessions.ts`: an
 *   `initialize` opens one (`Mcp-Session-Id`), every other POST needs it, `GET` opens its event stream,
 *   `DELETE` ends it. Each POST is served by a fresh per-request server (the SDK's stateless legacy leg),
 *   so an idle session costs a KV record and a small cache entry, not an SDK server.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports §Session Management, §Protocol Version Header
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/versioning §Backward Compatibility
 * @module
 */
import {
  type InitializeRequest,
  isInitializeRequest,
  isLegacyRequest,
  LATEST_PROTOCOL_VERSION,
} from "@modelcontextprotocol/server";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { BearerVariables } from "../auth/bearer.ts";
import {
  assertSupportedVersion,
  ERROR_CODES,
  forbiddenCall,
  jsonRpcError,
  LEGACY_PROTOCOL_VERSIONS,
  mcpErrorHandler,
  McpHttpError,
  methodNotAllowed,
  readJsonBody,
  sessionNotFound,
  shuttingDown,
} from "../mcp/jsonrpc.ts";
import { GrantLimits, releaseOnEnd } from "../mcp/grant_limits.ts";
import type { FastPath, FastRequest } from "../mcp/fast_path.ts";
import { watchListen } from "../mcp/listen.ts";
import { checkOrigin, mcpCors } from "../mcp/origin.ts";
import type { McpRuntime } from "../mcp/runtime.ts";
import { authInfoFor, reportRefusal } from "../mcp/server.ts";
import type { SessionRecord } from "../mcp/sessions.ts";
import { SSE_HEADERS } from "../mcp/sse_stream.ts";

/** The session header (case-insensitive; 2025-11-25 spells it `MCP-Session-Id`). */
export const SESSION_HEADER = "mcp-session-id";

type Env = { Variables: BearerVariables };

/** What the `/mcp` routes use: the bearer check built for `/mcp`, the allowed browser origins. */
export interface McpRouteDeps {
  bearer: MiddlewareHandler<Env>;
  allowedOrigins: readonly string[];
}

/** `/mcp` routes. */
export function mcpRoutes(deps: McpRouteDeps, mcp: McpRuntime, limits: GrantLimits): Hono<Env> {
  const app = new Hono<Env>();

  app.onError(mcpErrorHandler);
  const allowed = deps.allowedOrigins;
  app.use(
    "/mcp",
    checkOrigin({ allowed }),
    mcpCors({ allowed, methods: ["GET", "POST", "DELETE"] }),
    deps.bearer,
  );

  app.post("/mcp", async (c) => {
    const body = await readJsonBody(c.req.raw);
    const identity = c.var.identity;
    const refusedHook = reportRefusal(mcp.services, identity);
    const fast = mcp.fast?.accept(c.req.raw.headers, body);
    if (mcp.fast && fast) return await serveFast(c, mcp, mcp.fast, fast, body, refusedHook);
    const authInfo = authInfoFor(identity, c.var.accessToken);

    if (!(await isLegacyRequest(c.req.raw, body))) {
      const refused = c.req.header("mcp-method") === "tools/call"
        ? forbiddenCall(body, identity, refusedHook)
        : null;
      if (refused) return refused;
      const listen = c.req.header("mcp-method") === "subscriptions/listen";
      if (listen && mcp.draining) throw shuttingDown();
      const release = listen ? limits.acquireStream(identity.grantId) : null;
      const res = await mcp.modern.fetch(c.req.raw, { authInfo, parsedBody: body });
      if (!listen) {
        mcp.fast?.learn(body, res.status);
        return res;
      }
      if (!release) return res;
      // A grant's permission change concerns this instance's streams only (others watch their own).
      return withRelease(
        watchListen(
          res,
          identity,
          mcp.watcher,
          mcp.listens,
          () => mcp.bus.publishLocal({ kind: "tools_list_changed" }, { sdkOnly: true }),
        ),
        release,
      );
    }

    const initialize = isInitializeRequest(body);
    const oversized = initialize ? oversizedInit(body) : null;
    if (oversized) return oversized;
    if (initialize) await limits.assertRoomForSession(identity);
    const session = initialize ? null : await requireSession(c, mcp);
    const refused = forbiddenCall(body, identity, refusedHook);
    if (refused) return withSession(refused, session?.id);
    if (session && mcp.sessions.resumes(session)) {
      // A lost connection is not a cancellation (2025-11-25 §Resumability): the request is served
      // to its end, detached from the client's connection, and its result kept for a resumption.
      const detached = new Request(c.req.raw.url, { method: "POST", headers: c.req.raw.headers });
      const res = await mcp.legacy(detached, { authInfo, parsedBody: body });
      return mcp.sessions.resumable(session, res);
    }
    const res = await mcp.legacy(c.req.raw, { authInfo, parsedBody: body });
    if (!initialize || res.status !== 200) return res;
    const created = await mcp.sessions.create(identity, sessionInit(body));
    return withSession(res, created.id);
  });

  app.get("/mcp", async (c) => {
    if (!(c.req.header("accept") ?? "").includes("text/event-stream")) {
      throw new McpHttpError(
        406,
        ERROR_CODES.badRequest,
        "Not Acceptable: Client must accept text/event-stream",
      );
    }
    if (mcp.draining) throw shuttingDown();
    const session = await requireSession(c, mcp);
    if (mcp.draining) throw shuttingDown(); // shutdown began while we read KV
    const lastEventId = c.req.header("last-event-id") ?? null;
    const replay = await mcp.sessions.replayPost(session, lastEventId, mcp.config.mcp.pollMs);
    if (replay === null) {
      throw new McpHttpError(
        400,
        ERROR_CODES.badRequest,
        "Bad Request: Last-Event-ID names no resumable stream of this session",
      );
    }
    if (replay === "finished") {
      return new Response(null, { status: 204, headers: { [SESSION_HEADER]: session.id } });
    }
    if (replay) {
      return new Response(replay.body, {
        headers: { ...SSE_HEADERS, [SESSION_HEADER]: session.id },
      });
    }
    const release = limits.acquireStream(c.var.identity.grantId);
    const stream = mcp.sessions.openStream(session, undefined, lastEventId);
    return new Response(releaseOnEnd(stream.body, release), {
      headers: { ...SSE_HEADERS, [SESSION_HEADER]: session.id },
    });
  });

  app.delete("/mcp", async (c) => {
    const session = await requireSession(c, mcp);
    await mcp.sessions.end(session);
    return new Response(null, { status: 200 });
  });

  app.all("/mcp", () => {
    throw methodNotAllowed("GET, POST, DELETE");
  });
  return app;
}

/**
 * Serves a request the fast path took: the session check (2025), the permission refusal, then the
 * answer as one JSON response.
 */
async function serveFast(
  c: Context<Env>,
  mcp: McpRuntime,
  fast: FastPath,
  request: FastRequest,
  body: unknown,
  onRefused: (tool: string, missing: string[]) => void,
): Promise<Response> {
  const session = request.era === "legacy" ? await requireSession(c, mcp) : undefined;
  const refused = forbiddenCall(body, c.var.identity, onRefused);
  if (refused) return withSession(refused, session?.id);
  // A lost connection must not lose a tool's result in a session that resumes (2025-11-25
  // §Resumability): the answer goes out as a resumable event stream, stored like the SDK's.
  if (session && request.method === "tools/call" && mcp.sessions.resumes(session)) {
    const answer = await fast.answer(request, c.var.identity, new AbortController().signal);
    return mcp.sessions.resumableAnswer(session, answer, { [SESSION_HEADER]: session.id });
  }
  return Response.json(await fast.answer(request, c.var.identity, c.req.raw.signal));
}

/**
 * The request's session; throws {@linkcode McpHttpError} 400 for an unsupported `MCP-Protocol-Version`
 * or a missing session id, 404 for an unknown, ended, idle or foreign one (the client re-initializes).
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports §Session Management items 3–4 (never conflate 400 and 404)
 */
async function requireSession(c: Context<Env>, mcp: McpRuntime): Promise<SessionRecord> {
  assertSupportedVersion(c.req.header("mcp-protocol-version"));
  const id = c.req.header(SESSION_HEADER);
  if (!id) {
    throw new McpHttpError(
      400,
      ERROR_CODES.badRequest,
      "Bad Request: Mcp-Session-Id header is required",
    );
  }
  const session = await mcp.sessions.find(c.var.identity, id);
  if (!session) throw sessionNotFound();
  return session;
}

/** The most of `clientInfo`, and of `capabilities`, a session record keeps (KV values: 64 KiB). */
export const MAX_INIT_FIELD_BYTES = 16 * 1024;

/** A JSON-RPC -32602 (HTTP 400) naming the field when `clientInfo` or `capabilities` is too large. */
function oversizedInit(body: InitializeRequest): Response | null {
  for (
    const [field, value] of [["clientInfo", body.params.clientInfo], [
      "capabilities",
      body.params.capabilities,
    ]] as const
  ) {
    const size = new TextEncoder().encode(JSON.stringify(value ?? null)).length;
    if (size > MAX_INIT_FIELD_BYTES) {
      return jsonRpcError(
        400,
        ERROR_CODES.invalidParams,
        `Invalid params: ${field} is too large (${size} bytes; at most ${MAX_INIT_FIELD_BYTES})`,
        { id: (body as { id?: string | number }).id ?? null },
      );
    }
  }
  return null;
}

/** What an `initialize` tells us about the client, for the session record. */
function sessionInit(body: InitializeRequest): Pick<
  SessionRecord,
  "protocolVersion" | "clientInfo" | "clientCapabilities"
> {
  const requested = body.params.protocolVersion;
  return {
    protocolVersion: LEGACY_PROTOCOL_VERSIONS.includes(requested)
      ? requested
      : LATEST_PROTOCOL_VERSION,
    clientInfo: { ...body.params.clientInfo },
    clientCapabilities: { ...body.params.capabilities },
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

function withSession(res: Response, sessionId: string | undefined): Response {
  if (sessionId === undefined) return res;
  const copy = new Response(res.body, res);
  copy.headers.set(SESSION_HEADER, sessionId);
  return copy;
}

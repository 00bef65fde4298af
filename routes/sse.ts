/**
 * The 2024-11-05 HTTP+SSE transport: `GET /sse` opens a session's event stream (first event `endpoint`),
 * `POST /messages?sessionId=…` delivers client messages (202; replies go on the stream). Both need the
 * bearer token (for the `/sse` resource) and pass the Origin check; a POST is accepted only from the user,
 * client and grant that opened the stream. The POST may land on any instance: it is served there and
 * its reply reaches the stream wherever it is held (`mcp/sse_sessions.ts`). `POST /sse` answers 405 so
 * clients that try Streamable HTTP first (mcp-remote's http-first) fall back to SSE.
 *
 * @see https://modelcontextprotocol.io/specification/2024-11-05/basic/transports §HTTP with SSE
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports §Backwards Compatibility (clients fall back to SSE on 4xx)
 * @module
 */
import { type JSONRPCMessage, parseJSONRPCMessage } from "@modelcontextprotocol/server";
import { Hono } from "hono";
import type { BearerVariables } from "../auth/bearer.ts";
import type { McpRouteDeps } from "./mcp.ts";
import {
  ERROR_CODES,
  forbiddenCallReply,
  mcpErrorHandler,
  McpHttpError,
  methodNotAllowed,
  readJsonBody,
  sessionNotFound,
  shuttingDown,
} from "../mcp/jsonrpc.ts";
import { type GrantLimits, releaseOnEnd } from "../mcp/grant_limits.ts";
import { checkOrigin, mcpCors } from "../mcp/origin.ts";
import type { McpRuntime } from "../mcp/runtime.ts";
import { authInfoFor, reportRefusal } from "../mcp/server.ts";
import { SSE_HEADERS } from "../mcp/sse_stream.ts";

/** Where SSE clients POST their messages. */
export const MESSAGES_PATH = "/messages";

type Env = { Variables: BearerVariables };

/** `/sse` and `/messages` routes; `deps.bearer` is the check built for the `/sse` resource. */
export function sseRoutes(deps: McpRouteDeps, mcp: McpRuntime, limits: GrantLimits): Hono<Env> {
  const app = new Hono<Env>();
  const allowed = deps.allowedOrigins;
  const origin = checkOrigin({ allowed });
  const bearer = deps.bearer;
  app.onError(mcpErrorHandler);
  app.use("/sse", origin, mcpCors({ allowed, methods: ["GET"] }), bearer);
  app.use(MESSAGES_PATH, origin, mcpCors({ allowed, methods: ["POST"] }), bearer);

  app.get("/sse", async (c) => {
    if (mcp.draining) throw shuttingDown();
    await limits.assertRoomForSession(c.var.identity);
    const release = limits.acquireStream(c.var.identity.grantId);
    const stream = await mcp.sse.open(c.var.identity, MESSAGES_PATH).catch((err) => {
      release();
      throw err;
    });
    if (mcp.draining) { // shutdown began while the record was written
      stream.close();
      release();
      throw shuttingDown();
    }
    return new Response(releaseOnEnd(stream.body, release), { headers: SSE_HEADERS });
  });
  app.all("/sse", () => {
    throw methodNotAllowed("GET", "Method not allowed: open the stream with GET /sse");
  });

  app.post(MESSAGES_PATH, async (c) => {
    const id = c.req.query("sessionId");
    if (!id) {
      throw new McpHttpError(
        400,
        ERROR_CODES.badRequest,
        "Bad Request: sessionId query parameter is required",
      );
    }
    const identity = c.var.identity;
    const session = await mcp.sse.find(identity, id);
    if (!session) throw sessionNotFound();
    const body = await readJsonBody(c.req.raw);
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(body);
    } catch {
      throw new McpHttpError(
        400,
        ERROR_CODES.invalidRequest,
        "Invalid Request: not a JSON-RPC message",
      );
    }
    const refused = forbiddenCallReply(message, identity, reportRefusal(mcp.services, identity));
    const output = refused
      ? [refused]
      : await mcp.dispatch(message, authInfoFor(identity, c.var.accessToken), c.req.raw.signal);
    const delivered = await mcp.sse.deliver(session, output);
    if (!delivered) throw sessionNotFound();
    return new Response(null, { status: 202 });
  });
  app.all(MESSAGES_PATH, () => {
    throw methodNotAllowed("POST");
  });
  return app;
}

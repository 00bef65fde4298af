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
import { type BearerVariables, requireBearer } from "../auth/bearer.ts";
import { protectedResourceMetadataUrl } from "../auth/metadata.ts";
import type { AuthServices } from "../auth/services.ts";
import { resources } from "../lib/config.ts";
import {
  ERROR_CODES,
  forbiddenCallReply,
  jsonRpcError,
  mcpErrorHandler,
  readJsonBody,
  shuttingDown,
} from "../mcp/jsonrpc.ts";
import { type GrantLimits, releaseOnEnd } from "../mcp/grant_limits.ts";
import { allowedOrigins, checkOrigin, mcpCors } from "../mcp/origin.ts";
import type { McpRuntime } from "../mcp/runtime.ts";
import { authInfoFor, reportRefusal } from "../mcp/server.ts";
import { SSE_HEADERS } from "../mcp/sse_stream.ts";

/** Where SSE clients POST their messages. */
export const MESSAGES_PATH = "/messages";

type Env = { Variables: BearerVariables };

/** `/sse` and `/messages` routes. */
export function sseRoutes(auth: AuthServices, mcp: McpRuntime, limits: GrantLimits): Hono<Env> {
  const app = new Hono<Env>();
  const allowed = allowedOrigins(auth.config);
  const origin = checkOrigin({ allowed });
  const bearer = requireBearer({
    tokens: auth.tokens,
    resources: [resources(auth.config).sse],
    resourceMetadataUrl: protectedResourceMetadataUrl(auth.config, "sse"),
    freshness: auth.freshness,
    cache: auth.tokenCache,
  });
  app.onError(mcpErrorHandler);
  app.use("/sse", origin, mcpCors({ allowed, methods: ["GET"] }), bearer);
  app.use(MESSAGES_PATH, origin, mcpCors({ allowed, methods: ["POST"] }), bearer);

  app.get("/sse", async (c) => {
    if (mcp.draining) return shuttingDown();
    const crowded = await limits.refuseNewSession(c.var.identity);
    if (crowded) return crowded;
    const release = limits.acquireStream(c.var.identity.grantId);
    if (release instanceof Response) return release;
    const stream = await mcp.sse.open(c.var.identity, MESSAGES_PATH).catch((err) => {
      release();
      throw err;
    });
    if (mcp.draining) { // shutdown began while the record was written
      stream.close();
      release();
      return shuttingDown();
    }
    return new Response(releaseOnEnd(stream.body, release), { headers: SSE_HEADERS });
  });
  app.all(
    "/sse",
    () =>
      jsonRpcError(
        405,
        ERROR_CODES.badRequest,
        "Method not allowed: open the stream with GET /sse",
        {
          headers: { allow: "GET" },
        },
      ),
  );

  app.post(MESSAGES_PATH, async (c) => {
    const id = c.req.query("sessionId");
    if (!id) {
      return jsonRpcError(
        400,
        ERROR_CODES.badRequest,
        "Bad Request: sessionId query parameter is required",
      );
    }
    const identity = c.var.identity;
    const session = await mcp.sse.find(identity, id);
    if (!session) return notFound();
    const read = await readJsonBody(c.req.raw);
    if ("error" in read) return read.error;
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(read.body);
    } catch {
      return jsonRpcError(
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
    return delivered ? new Response(null, { status: 202 }) : notFound();
  });
  app.all(
    MESSAGES_PATH,
    () =>
      jsonRpcError(405, ERROR_CODES.badRequest, "Method not allowed.", {
        headers: { allow: "POST" },
      }),
  );
  return app;
}

function notFound(): Response {
  return jsonRpcError(404, ERROR_CODES.sessionNotFound, "Session not found");
}

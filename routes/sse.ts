/**
 * The 2024-11-05 HTTP+SSE transport: `GET /sse` opens a session's event stream (first event `endpoint`),
 * `POST /messages?sessionId=…` delivers client messages (202; replies go on the stream). Both need the
 * bearer token (for the `/sse` resource) and pass the Origin check; a POST is accepted only from the user,
 * client and grant that opened the stream. `POST /sse` answers 405 so clients that try Streamable HTTP
 * first (mcp-remote's http-first) fall back to SSE.
 *
 * @see 2024-11-05 basic/transports.mdx §HTTP with SSE; real-clients.md §1 "Transport fallback"
 * @module
 */
import { Hono } from "hono";
import { type BearerVariables, requireBearer } from "../auth/bearer.ts";
import { protectedResourceMetadataUrl } from "../auth/metadata.ts";
import type { AuthServices } from "../auth/services.ts";
import { resources } from "../lib/config.ts";
import { ERROR_CODES, forbiddenCallReply, jsonRpcError, mcpErrorHandler } from "../mcp/jsonrpc.ts";
import { allowedOrigins, checkOrigin } from "../mcp/origin.ts";
import type { McpRuntime } from "../mcp/runtime.ts";
import { authInfoFor, reportRefusal } from "../mcp/server.ts";

/** Where SSE clients POST their messages. */
export const MESSAGES_PATH = "/messages";

type Env = { Variables: BearerVariables };

/** `/sse` and `/messages` routes. */
export function sseRoutes(auth: AuthServices, mcp: McpRuntime): Hono<Env> {
  const app = new Hono<Env>();
  const origin = checkOrigin({ allowed: allowedOrigins(auth.config) });
  const bearer = requireBearer({
    tokens: auth.tokens,
    resources: [resources(auth.config).sse],
    resourceMetadataUrl: protectedResourceMetadataUrl(auth.config, "sse"),
    freshness: auth.freshness,
  });
  app.onError(mcpErrorHandler);
  app.use("/sse", origin, bearer);
  app.use(MESSAGES_PATH, origin, bearer);

  app.get("/sse", async (c) => {
    const session = await mcp.sse.open(c.var.identity, MESSAGES_PATH);
    return session.transport.response();
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
    const session = mcp.sse.find(identity, id);
    if (!session) return jsonRpcError(404, ERROR_CODES.sessionNotFound, "Session not found");
    mcp.sse.sync(session, identity);
    const authorization = (c.req.header("authorization") ?? "").replace(/^Bearer\s+/i, "");
    return await session.transport.handlePostMessage(
      c.req.raw,
      authInfoFor(identity, authorization),
      (message) => forbiddenCallReply(message, identity, reportRefusal(mcp.services, identity)),
    );
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

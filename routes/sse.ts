/**
 * The 2024-11-05 HTTP+SSE transport's routes: `GET /sse` opens a session's event stream, `POST
 * /messages?sessionId=…` delivers client messages. Both need the bearer token (for the `/sse` resource)
 * and pass the Origin check; the MCP runtime serves them (`mcp/sse_transport.ts`). `POST /sse` answers
 * 405 so clients that try Streamable HTTP first (mcp-remote's http-first) fall back to SSE.
 *
 * @see https://modelcontextprotocol.io/specification/2024-11-05/basic/transports §HTTP with SSE
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports §Backwards Compatibility (clients fall back to SSE on 4xx)
 * @module
 */
import { Hono } from "hono";
import type { BearerVariables } from "../auth/bearer.ts";
import type { McpRouteDeps } from "./mcp.ts";
import { methodNotAllowed } from "../mcp/jsonrpc.ts";
import { checkOrigin, mcpCors } from "../mcp/origin.ts";
import type { McpRuntime } from "../mcp/runtime.ts";
import { MESSAGES_PATH } from "../mcp/sse_transport.ts";

type Env = { Variables: BearerVariables };

/**
 * `/sse` and `/messages` routes over `mcp`'s `openSse` and `sseMessage` actions; `deps.bearer` is the
 * check built for the `/sse` resource.
 */
export function sseRoutes(
  deps: McpRouteDeps,
  mcp: Pick<McpRuntime, "openSse" | "sseMessage">,
): Hono<Env> {
  const app = new Hono<Env>();
  const allowed = deps.allowedOrigins;
  const origin = checkOrigin({ allowed });
  const bearer = deps.bearer;
  app.use("/sse", origin, mcpCors({ allowed, methods: ["GET"] }), bearer);
  app.use(MESSAGES_PATH, origin, mcpCors({ allowed, methods: ["POST"] }), bearer);

  app.get("/sse", (c) => mcp.openSse(c.var.identity));
  app.all("/sse", () => {
    throw methodNotAllowed("GET", "Method not allowed: open the stream with GET /sse");
  });

  app.post(MESSAGES_PATH, (c) => mcp.sseMessage(c.req.query("sessionId"), c.var, c.req.raw));
  app.all(MESSAGES_PATH, () => {
    throw methodNotAllowed("POST");
  });
  return app;
}

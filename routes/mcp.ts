/**
 * `/mcp`: one endpoint for every Streamable HTTP era. The route does the HTTP edge (the Origin check,
 * CORS, the bearer check, JSON-RPC error answers) and hands each request with the verified caller to
 * the MCP runtime, which serves it (`mcp/streamable_http.ts`).
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports §Security Warning (Origin), §Session Management
 * @module
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { BearerVariables } from "../auth/bearer.ts";
import { methodNotAllowed } from "../mcp/jsonrpc.ts";
import { checkOrigin, mcpCors } from "../mcp/origin.ts";
import type { McpRuntime } from "../mcp/runtime.ts";

type Env = { Variables: BearerVariables };

/** What the `/mcp` routes use: the bearer check built for `/mcp`, the allowed browser origins. */
export interface McpRouteDeps {
  bearer: MiddlewareHandler<Env>;
  allowedOrigins: readonly string[];
}

/** `/mcp` routes over `mcp`'s `post`, `get` and `delete` actions. */
export function mcpRoutes(
  deps: McpRouteDeps,
  mcp: Pick<McpRuntime, "post" | "get" | "delete">,
): Hono<Env> {
  const app = new Hono<Env>();

  const allowed = deps.allowedOrigins;
  app.use(
    "/mcp",
    checkOrigin({ allowed }),
    mcpCors({ allowed, methods: ["GET", "POST", "DELETE"] }),
    deps.bearer,
  );

  // The caller as the bearer check verified it (read with `get`: `c.var` copies every variable).
  const caller = (c: Context<Env>) => ({
    identity: c.get("identity"),
    accessToken: c.get("accessToken"),
  });
  app.post("/mcp", (c) => mcp.post(c.req.raw, caller(c)));
  app.get("/mcp", (c) => mcp.get(c.req.raw, caller(c)));
  app.delete("/mcp", (c) => mcp.delete(c.req.raw, caller(c)));
  app.all("/mcp", () => {
    throw methodNotAllowed("GET, POST, DELETE");
  });
  return app;
}

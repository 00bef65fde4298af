/**
 * `/.well-known/*` discovery routes.
 *
 * @module
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import { authorizationServerMetadata, protectedResourceMetadata } from "../auth/metadata.ts";
import type { Config } from "../lib/config.ts";

/** Discovery routes: AS metadata and PRM for `/mcp` and `/sse`. */
export function wellKnownRoutes(config: Config): Hono {
  const app = new Hono();
  // Browser-based clients (the MCP Inspector) read discovery cross-origin.
  app.use("*", cors({ origin: "*", allowMethods: ["GET", "OPTIONS"] }));
  const asMetadata = authorizationServerMetadata(config);
  const json = (body: Record<string, unknown>) => () =>
    Response.json(body, { headers: { "cache-control": "public, max-age=300" } });
  app.get("/oauth-authorization-server", json(asMetadata));
  app.get("/oauth-protected-resource", json(protectedResourceMetadata(config, "mcp")));
  app.get("/oauth-protected-resource/mcp", json(protectedResourceMetadata(config, "mcp")));
  app.get("/oauth-protected-resource/sse", json(protectedResourceMetadata(config, "sse")));
  return app;
}

/**
 * `/mcp`: for now a placeholder behind the bearer check that answers with the caller's identity. The MCP
 * server replaces it (issue "MCP on every protocol era").
 *
 * @module
 */
import { Hono } from "hono";
import { type BearerVariables, requireBearer } from "../auth/bearer.ts";
import { protectedResourceMetadataUrl } from "../auth/metadata.ts";
import type { AuthServices } from "../auth/services.ts";
import { resources } from "../lib/config.ts";

/** The placeholder `POST /mcp`. */
export function mcpRoutes(auth: AuthServices): Hono<{ Variables: BearerVariables }> {
  const app = new Hono<{ Variables: BearerVariables }>();
  app.use(
    "/mcp",
    requireBearer({
      tokens: auth.tokens,
      resources: [resources(auth.config).mcp],
      resourceMetadataUrl: protectedResourceMetadataUrl(auth.config, "mcp"),
    }),
  );
  app.post("/mcp", (c) => c.json({ identity: c.var.identity }));
  return app;
}

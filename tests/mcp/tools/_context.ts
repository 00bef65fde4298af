/**
 * Test fixtures for tool handlers: an {@linkcode Identity} and a {@linkcode ToolContext} builder.
 *
 * @module
 */
import type { Identity } from "../../../auth/identity.ts";
import type { ImageGenerator, ToolContext } from "../../../mcp/tool.ts";
import { createLocalImageGenerator } from "../../../mcp/tools/generate_image/local.ts";

/** A signed-in member of an organization with the `image_generation` permission. */
export const IDENTITY: Identity = {
  userId: "user_01TEST",
  email: "ada@example.com",
  name: "Ada Lovelace",
  organizationId: "org_01TEST",
  role: "admin",
  roles: ["admin", "member"],
  permissions: ["image_generation", "widgets:read"],
  clientId: "client_01TEST",
  grantId: "grant_01TEST",
  scopes: ["openid", "profile"],
  resource: "https://mcp.example.com/mcp",
  expiresAt: Date.UTC(2030, 0, 2, 3, 4, 5),
};

/** A tool context with `identity` and `image` (local placeholder by default). */
export function makeContext(
  options: { identity?: Identity; image?: ImageGenerator; signal?: AbortSignal } = {},
): ToolContext {
  return {
    identity: options.identity ?? IDENTITY,
    services: { image: options.image ?? createLocalImageGenerator() },
    signal: options.signal ?? new AbortController().signal,
  };
}

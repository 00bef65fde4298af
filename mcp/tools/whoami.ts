/**
 * The `whoami` tool: the caller's identity as this server sees it (user, organization, role,
 * permissions, client). Requires no permission. Returns ids only, never tokens.
 *
 * @module
 */
import { defineTool } from "../tool.ts";

/** `whoami`: the signed-in user, organization, role(s), permissions and client id, as pretty JSON. */
export const whoami = defineTool({
  name: "whoami",
  title: "Who am I",
  description:
    "Shows the signed-in user, organization, role, permissions and OAuth client as this server sees them.",
  requires: [],
  inputSchema: {},
  run(_args, { identity }) {
    const view = {
      userId: identity.userId,
      email: identity.email,
      name: identity.name,
      organizationId: identity.organizationId,
      role: identity.role,
      roles: identity.roles,
      permissions: identity.permissions,
      clientId: identity.clientId,
      grantId: identity.grantId,
      scopes: identity.scopes,
      resource: identity.resource,
      expiresAt: new Date(identity.expiresAt).toISOString(),
    };
    return Promise.resolve({ content: [{ type: "text", text: JSON.stringify(view, null, 2) }] });
  },
});

/**
 * The MCP server factory: a fresh v2 `McpServer` holding exactly the tools the caller's AuthKit
 * permissions allow. Every handler re-checks the permissions of the identity on *its own* request (which
 * the bearer check read from KV moments before), so a tool listed earlier but no longer allowed is refused
 * and never runs.
 *
 * The caller's {@linkcode Identity} travels to handlers inside the SDK's `AuthInfo.extra`, which every
 * transport passes through from `handleRequest(req, { authInfo })` to `ctx.http.authInfo`.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/server/tools §Security Considerations (servers MUST implement access controls)
 * @see https://modelcontextprotocol.io/docs/tutorials/security/security_best_practices §Scope Minimization
 * @module
 */
import {
  type AuthInfo,
  McpServer,
  type RegisteredTool,
  type ServerContext,
} from "@modelcontextprotocol/server";
import type { Identity } from "../auth/identity.ts";
import {
  inputSchemaOf,
  missingPermissions,
  type ToolDefinition,
  type ToolResult,
  type ToolServices,
} from "./tool.ts";
import { toolsFor } from "./tools/mod.ts";

/** What the server reports as `serverInfo`. */
export const SERVER_INFO = Object.freeze({ name: "workos-authkit-mcp", version: "0.1.0" });

/** The tools registered on one server, by name, so {@linkcode syncTools} can add and remove them. */
export type ToolRegistry = Map<string, RegisteredTool>;

/** An `AuthInfo` carrying `identity` for the SDK's handler context. */
export function authInfoFor(identity: Identity, token: string): AuthInfo {
  return {
    token,
    clientId: identity.clientId,
    scopes: [...identity.scopes],
    expiresAt: Math.floor(identity.expiresAt / 1000),
    ...(identity.resource ? { resource: new URL(identity.resource) } : {}),
    extra: { identity },
  };
}

/** The identity an `AuthInfo` from {@linkcode authInfoFor} carries, or undefined. */
export function identityOf(authInfo: AuthInfo | undefined): Identity | undefined {
  const identity = authInfo?.extra?.identity;
  return identity && typeof identity === "object" ? identity as Identity : undefined;
}

/**
 * Builds a server for `identity` with the tools its permissions allow.
 *
 * @example
 * ```ts
 * const server = buildServer(c.var.identity, services);
 * await server.connect(transport);
 * ```
 */
export function buildServer(
  identity: Identity,
  services: ToolServices,
  /** The configured SERVER_NAME, reported as `serverInfo.name` and `title` (default SERVER_INFO's). */
  name?: string,
): { server: McpServer; tools: ToolRegistry } {
  const info = name ? { ...SERVER_INFO, name, title: name } : SERVER_INFO;
  const server = new McpServer(info, {
    capabilities: { tools: { listChanged: true } },
    debouncedNotificationMethods: ["notifications/tools/list_changed"],
  });
  const tools: ToolRegistry = new Map();
  syncTools(server, tools, identity, services);
  return { server, tools };
}

/**
 * Makes `tools` exactly the tools `identity` may use, in name order (the list order is deterministic).
 * On a change every tool is re-registered; on a connected server the SDK then sends one (debounced)
 * `notifications/tools/list_changed`. Returns whether anything changed.
 */
export function syncTools(
  server: McpServer,
  tools: ToolRegistry,
  identity: Identity,
  services: ToolServices,
): boolean {
  const allowed = toolsFor(identity.permissions);
  const same = allowed.length === tools.size && allowed.every((tool) => tools.has(tool.name));
  if (same) return false;
  for (const registered of tools.values()) registered.remove();
  tools.clear();
  for (const tool of allowed) tools.set(tool.name, register(server, tool, identity, services));
  return true;
}

function register(
  server: McpServer,
  tool: ToolDefinition,
  fallback: Identity,
  services: ToolServices,
): RegisteredTool {
  return server.registerTool(
    tool.name,
    {
      ...(tool.title === undefined ? {} : { title: tool.title }),
      description: tool.description,
      inputSchema: inputSchemaOf(tool),
    },
    (args, ctx: ServerContext) =>
      runTool(tool, args, identityOf(ctx.http?.authInfo) ?? fallback, services, ctx.mcpReq.signal),
  );
}

/**
 * One tool call after its arguments were validated: the permission re-check, the tool's handler, and
 * the report to the audit hook. The SDK servers and the fast path (`fast_path.ts`) both run calls
 * through it, so a call is audited the same way whichever serves it. Rejects with what the tool threw,
 * after reporting the failure.
 */
export async function runTool(
  tool: ToolDefinition,
  args: Record<string, unknown>,
  identity: Identity,
  services: ToolServices,
  signal: AbortSignal,
): Promise<ToolResult> {
  const refused = refusal(tool, identity);
  const started = performance.now();
  const report = (outcome: "success" | "failure" | "refused", detail?: string) =>
    services.onToolCall?.({
      identity,
      tool: tool.name,
      outcome,
      durationMs: Math.round(performance.now() - started),
      ...(detail ? { detail } : {}),
    });
  if (refused) {
    report("refused", refused.content[0]?.type === "text" ? refused.content[0].text : undefined);
    return refused;
  }
  try {
    const result = await tool.run(args as never, { identity, services, signal });
    const first = result.content[0];
    report(
      result.isError ? "failure" : "success",
      result.isError && first?.type === "text" ? first.text : undefined,
    );
    return { ...result, content: [...result.content] };
  } catch (err) {
    report("failure", err instanceof Error ? err.message : String(err));
    throw err;
  }
}

/** An `isError` result naming the permissions `identity` lacks for `tool`, or null when allowed. */
export function refusal(
  tool: ToolDefinition,
  identity: Pick<Identity, "permissions">,
): ToolResult | null {
  const missing = missingPermissions(tool, identity);
  if (missing.length === 0) return null;
  return {
    isError: true,
    content: [{ type: "text", text: permissionMessage(tool.name, missing) }],
  };
}

/** The message for a refused call: `Tool "x" requires the permission "p"`. */
export function permissionMessage(name: string, missing: readonly string[]): string {
  const list = missing.map((p) => `"${p}"`).join(", ");
  return `Tool "${name}" requires the permission${
    missing.length > 1 ? "s" : ""
  } ${list}, which you do not have`;
}

/**
 * Reports a call refused before any server was built (`forbiddenCall`) to the tool-call hook, as a
 * refusal for `identity`.
 */
export function reportRefusal(
  services: ToolServices,
  identity: Identity,
): (tool: string, missing: string[]) => void {
  return (tool, missing) =>
    services.onToolCall?.({
      identity,
      tool,
      outcome: "refused",
      durationMs: 0,
      detail: `missing permission ${missing.join(", ")}`,
    });
}

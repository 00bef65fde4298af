/**
 * The MCP server factory: a fresh v2 `McpServer` per request, holding exactly the tools the caller's
 * AuthKit permissions allow (`permissions.ts`). A call of a tool the caller may not use never reaches a
 * server: `forbiddenCallReply` refuses it first, from the same rule.
 *
 * The caller's {@linkcode Identity} travels to handlers inside the SDK's `AuthInfo.extra`, which every
 * transport passes through from `handleRequest(req, { authInfo })` to `ctx.http.authInfo`.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/server/tools §Security Considerations (servers MUST implement access controls)
 * @see https://modelcontextprotocol.io/docs/tutorials/security/security_best_practices §Scope Minimization
 * @module
 */
import { type AuthInfo, McpServer, type ServerContext } from "@modelcontextprotocol/server";
import type { Identity } from "../auth/identity.ts";
import { inputSchemaOf, type ToolDefinition, type ToolResult, type ToolServices } from "./tool.ts";
import { toolsFor } from "./tools/mod.ts";

/** What the server reports as `serverInfo`. */
export const SERVER_INFO = Object.freeze({ name: "workos-authkit-mcp", version: "0.1.0" });

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
): McpServer {
  const info = name ? { ...SERVER_INFO, name, title: name } : SERVER_INFO;
  const server = new McpServer(info, {
    capabilities: { tools: { listChanged: true } },
    debouncedNotificationMethods: ["notifications/tools/list_changed"],
  });
  for (const tool of toolsFor(identity.permissions)) register(server, tool, identity, services);
  return server;
}

function register(
  server: McpServer,
  tool: ToolDefinition,
  fallback: Identity,
  services: ToolServices,
): void {
  server.registerTool(
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
 * One tool call after its arguments were validated (and its permissions checked, before any server or
 * fast path was involved): the tool's handler and the report to the audit hook. The SDK servers and the fast path (`fast_path.ts`) both run calls
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
  const started = performance.now();
  const report = (outcome: "success" | "failure" | "refused", detail?: string) =>
    services.onToolCall?.({
      identity,
      tool: tool.name,
      outcome,
      durationMs: Math.round(performance.now() - started),
      ...(detail ? { detail } : {}),
    });
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

/**
 * The HTTP side of a 2025 session: the `Mcp-Session-Id` header, and what an `initialize` may carry into
 * the session record.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports §Session Management
 * @module
 */
import { type InitializeRequest, LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/server";
import { ERROR_CODES, jsonRpcError, LEGACY_PROTOCOL_VERSIONS } from "./jsonrpc.ts";
import type { SessionRecord } from "./sessions.ts";

/** The session header (case-insensitive; 2025-11-25 spells it `MCP-Session-Id`). */
export const SESSION_HEADER = "mcp-session-id";

/** The most of `clientInfo`, and of `capabilities`, a session record keeps (KV values: 64 KiB). */
export const MAX_INIT_FIELD_BYTES = 16 * 1024;

/** A JSON-RPC -32602 (HTTP 400) naming the field when `clientInfo` or `capabilities` is too large. */
export function oversizedInit(body: InitializeRequest): Response | null {
  for (
    const [field, value] of [["clientInfo", body.params.clientInfo], [
      "capabilities",
      body.params.capabilities,
    ]] as const
  ) {
    const size = new TextEncoder().encode(JSON.stringify(value ?? null)).length;
    if (size > MAX_INIT_FIELD_BYTES) {
      return jsonRpcError(
        400,
        ERROR_CODES.invalidParams,
        `Invalid params: ${field} is too large (${size} bytes; at most ${MAX_INIT_FIELD_BYTES})`,
        { id: (body as { id?: string | number }).id ?? null },
      );
    }
  }
  return null;
}

/** What an `initialize` tells us about the client, for the session record. */
export function sessionInit(body: InitializeRequest): Pick<
  SessionRecord,
  "protocolVersion" | "clientInfo" | "clientCapabilities"
> {
  const requested = body.params.protocolVersion;
  return {
    protocolVersion: LEGACY_PROTOCOL_VERSIONS.includes(requested)
      ? requested
      : LATEST_PROTOCOL_VERSION,
    clientInfo: { ...body.params.clientInfo },
    clientCapabilities: { ...body.params.capabilities },
  };
}

/** `res` carrying the session header, or `res` itself when there is no session. */
export function withSession(res: Response, sessionId: string | undefined): Response {
  if (sessionId === undefined) return res;
  const copy = new Response(res.body, res);
  copy.headers.set(SESSION_HEADER, sessionId);
  return copy;
}

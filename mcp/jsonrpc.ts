/**
 * JSON-RPC error responses for the HTTP layer in front of the SDK (session, version and permission
 * checks), and the pre-dispatch refusal of calls to tools the caller may not use. Codes follow JSON-RPC
 * 2.0 and the MCP SDK's choices (-32000 bad request, -32001 session not found).
 *
 * @see https://www.jsonrpc.org/specification#error_object
 * @module
 */
import {
  INTERNAL_ERROR,
  INVALID_PARAMS,
  INVALID_REQUEST,
  type JSONRPCErrorResponse,
  PARSE_ERROR,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "@modelcontextprotocol/server";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Identity } from "../auth/identity.ts";
import { apiErrorResponse } from "../lib/errors.ts";
import { errorFields, log } from "../lib/log.ts";
import { findTool } from "./tools/mod.ts";
import { missingPermissions, permissionMessage } from "./permissions.ts";

/** JSON-RPC and MCP error codes used here: the SDK's own constants where it exports one. */
export const ERROR_CODES = Object.freeze({
  parseError: PARSE_ERROR,
  invalidRequest: INVALID_REQUEST,
  invalidParams: INVALID_PARAMS,
  internalError: INTERNAL_ERROR,
  /** What the SDK's HTTP transports answer a refused request with (it exports no constant). */
  badRequest: -32000,
  /** An unknown or ended `Mcp-Session-Id` (the SDK's transports use -32001 too; no constant). */
  sessionNotFound: -32001,
});

/** Largest POST body read (the SDK's default too). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** 2025-era protocol versions (and 2024-11-05) a session may use. */
export const LEGACY_PROTOCOL_VERSIONS: readonly string[] = Object.freeze([
  ...SUPPORTED_PROTOCOL_VERSIONS,
]);

/** A JSON-RPC error response with HTTP `status`. */
export function jsonRpcError(
  status: number,
  code: number,
  message: string,
  options: { id?: string | number | null; data?: unknown; headers?: Record<string, string> } = {},
): Response {
  const error = { code, message, ...(options.data === undefined ? {} : { data: options.data }) };
  return Response.json({ jsonrpc: "2.0", id: options.id ?? null, error }, {
    status,
    headers: options.headers ?? {},
  });
}

/**
 * An MCP request refused at the HTTP edge (bad version, no session, too many streams, shutting down, …):
 * the MCP layer's one error type. Thrown anywhere below a route, answered in one place
 * ({@linkcode mcpErrorHandler}) as a JSON-RPC error with its HTTP status, as `OAuthError` is for OAuth.
 */
export class McpHttpError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** The JSON-RPC error code. */
  readonly code: number;
  /** The error's `data`, if any. */
  readonly data: unknown;
  /** Extra response headers (`Retry-After`, `Allow`). */
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    code: number,
    message: string,
    options: { data?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "McpHttpError";
    this.status = status;
    this.code = code;
    this.data = options.data;
    this.headers = options.headers ?? {};
  }

  /** The JSON-RPC error response. */
  toResponse(): Response {
    return jsonRpcError(this.status, this.code, this.message, {
      ...(this.data === undefined ? {} : { data: this.data }),
      headers: this.headers,
    });
  }
}

/**
 * A 503 for a new stream on an instance that is shutting down; the client retries (the next attempt
 * lands on another instance).
 */
export function shuttingDown(): McpHttpError {
  return new McpHttpError(
    503,
    ERROR_CODES.badRequest,
    "Service Unavailable: this instance is shutting down; retry",
    { headers: { "retry-after": "1" } },
  );
}

/** A 405 naming the methods `path` answers. */
export function methodNotAllowed(allow: string, message = "Method not allowed."): McpHttpError {
  return new McpHttpError(405, ERROR_CODES.badRequest, message, { headers: { allow } });
}

/** The 404 that makes a client start a new session. */
export function sessionNotFound(): McpHttpError {
  return new McpHttpError(404, ERROR_CODES.sessionNotFound, "Session not found");
}

/**
 * Throws a 400 when the `MCP-Protocol-Version` header names a version we do not serve. Absent is fine:
 * the session's negotiated version applies (2025-03-26 clients send none).
 *
 * @see https://modelcontextprotocol.io/specification/2025-06-18/basic/transports §Protocol Version Header
 */
export function assertSupportedVersion(header: string | undefined): void {
  if (header === undefined || LEGACY_PROTOCOL_VERSIONS.includes(header)) return;
  throw new McpHttpError(
    400,
    ERROR_CODES.badRequest,
    `Bad Request: Unsupported protocol version "${header.slice(0, 40)}" (supported versions: ${
      LEGACY_PROTOCOL_VERSIONS.join(", ")
    })`,
    { data: { supported: LEGACY_PROTOCOL_VERSIONS, requested: header.slice(0, 40) } },
  );
}

/**
 * Refuses, before any server is built, a `tools/call` of a known tool the caller lacks permissions for:
 * HTTP 200 with JSON-RPC `-32602` naming the missing permissions (the SDK answers an unregistered tool
 * the same way, without the names). Null when the message is anything else.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/server/tools §Security Considerations (servers MUST implement access controls)
 */
export function forbiddenCall(
  body: unknown,
  identity: Pick<Identity, "permissions">,
  onRefused?: (tool: string, missing: string[]) => void,
): Response | null {
  const reply = forbiddenCallReply(body, identity, onRefused);
  return reply ? Response.json(reply, { status: 200 }) : null;
}

/** The JSON-RPC error message {@linkcode forbiddenCall} answers with, or null. */
export function forbiddenCallReply(
  body: unknown,
  identity: Pick<Identity, "permissions">,
  onRefused?: (tool: string, missing: string[]) => void,
): JSONRPCErrorResponse | null {
  if (!isObject(body) || body.method !== "tools/call" || !isObject(body.params)) return null;
  const id = body.id;
  if (typeof id !== "string" && typeof id !== "number") return null;
  const name = body.params.name;
  const tool = typeof name === "string" ? findTool(name) : undefined;
  if (!tool) return null;
  const missing = missingPermissions(tool, identity);
  if (missing.length === 0) return null;
  onRefused?.(tool.name, missing);
  return {
    jsonrpc: "2.0",
    id,
    error: {
      code: ERROR_CODES.invalidParams,
      message: permissionMessage(tool.name, missing),
      data: { tool: tool.name, missingPermissions: missing },
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * How failures on the MCP routes are answered (the app's one `onError` calls it for `/mcp`, `/sse` and
 * `/messages`): an `HTTPException` (401 from the bearer check, 403 from the origin check)
 * keeps its response, storage trouble and refused requests their status; anything else is an internal fault, logged and answered 500 with `-32603`.
 */
export function mcpErrorHandler(err: Error, c: Context): Response {
  if (err instanceof McpHttpError) return err.toResponse();
  if (err instanceof HTTPException) return err.getResponse();
  // Storage trouble (503 + Retry-After) and refused requests (413, 429) keep their status.
  const known = apiErrorResponse(err, "jsonrpc");
  if (known) return known;
  log("error", "MCP request failed", {
    path: c.req.path,
    method: c.req.method,
    ...errorFields(err),
  });
  return jsonRpcError(500, ERROR_CODES.internalError, "Internal error");
}

/**
 * Reads a POST body as JSON; throws {@linkcode McpHttpError} 415 for another content type, 413 over
 * {@linkcode MAX_BODY_BYTES}, 400 `-32700` for text that is not JSON.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  const type = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    throw new McpHttpError(
      415,
      ERROR_CODES.badRequest,
      "Unsupported Media Type: Content-Type must be application/json",
    );
  }
  const tooLarge = () => new McpHttpError(413, ERROR_CODES.badRequest, "Payload Too Large");
  if (Number(request.headers.get("content-length") ?? "0") > MAX_BODY_BYTES) throw tooLarge();
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) throw tooLarge();
  try {
    return JSON.parse(text);
  } catch {
    throw new McpHttpError(400, ERROR_CODES.parseError, "Parse error: the body is not JSON");
  }
}

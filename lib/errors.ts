/**
 * The service's error types. Each carries a stable `code`; `app/app.ts` maps them to HTTP in one place
 * (`app.onError`): {@linkcode OAuthError} to an RFC 6749 JSON body, {@linkcode PageError} to a local HTML
 * page (never a redirect). Anything else is an internal fault and becomes a 500 without details.
 *
 * @module
 */

/** OAuth error codes we answer with (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 8707 §2, RFC 6750 §3.1). */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "unsupported_response_type"
  | "invalid_scope"
  | "invalid_target"
  | "invalid_redirect_uri"
  | "invalid_client_metadata"
  | "invalid_token"
  | "access_denied"
  | "server_error"
  | "temporarily_unavailable";

const DEFAULT_STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  invalid_token: 401,
  access_denied: 403,
  server_error: 500,
  temporarily_unavailable: 503,
};

/** An OAuth protocol error, answered as `{error, error_description}` with `Cache-Control: no-store`. */
export class OAuthError extends Error {
  /** The RFC error code. */
  readonly code: OAuthErrorCode;
  /** The HTTP status. */
  readonly status: number;
  /** Extra response headers (e.g. `WWW-Authenticate`). */
  readonly headers: Record<string, string>;
  constructor(
    code: OAuthErrorCode,
    description: string,
    options: { status?: number; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(description, { cause: options.cause });
    this.name = "OAuthError";
    this.code = code;
    this.status = options.status ?? DEFAULT_STATUS[code];
    this.headers = options.headers ?? {};
  }

  /** The RFC 6749 §5.2 JSON response. */
  toResponse(): Response {
    return Response.json({ error: this.code, error_description: this.message }, {
      status: this.status,
      headers: { "cache-control": "no-store", ...this.headers },
    });
  }
}

/** Codes of errors shown to a person in the browser. */
export type PageErrorCode =
  | "invalid_client"
  | "invalid_redirect_uri"
  | "invalid_request"
  | "invalid_state"
  | "login_failed"
  | "upstream_unavailable"
  | RequestErrorCode
  | StorageErrorCode;

/** An error rendered as a local HTML page: used wherever redirecting would be unsafe. */
export class PageError extends Error {
  /** A stable code, shown on the page and usable by tests. */
  readonly code: PageErrorCode;
  /** The HTTP status. */
  readonly status: number;
  constructor(
    code: PageErrorCode,
    message: string,
    status = 400,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = "PageError";
    this.code = code;
    this.status = status;
  }
}

/** Codes of problems with the HTTP request itself, whatever the route. */
export type RequestErrorCode =
  | "body_too_large"
  | "unsupported_media_type"
  | "malformed_body"
  | "field_too_large"
  | "rate_limited"
  | "too_many_streams"
  | "not_found"
  | "method_not_allowed"
  | "forbidden";

const REQUEST_STATUS: Record<RequestErrorCode, number> = {
  body_too_large: 413,
  unsupported_media_type: 415,
  malformed_body: 400,
  field_too_large: 400,
  rate_limited: 429,
  too_many_streams: 429,
  not_found: 404,
  method_not_allowed: 405,
  forbidden: 403,
};

/**
 * A request refused before any protocol step: too large, of the wrong type, unreadable, too frequent.
 * `app/app.ts` answers it in the format of the route it reached (OAuth JSON, JSON-RPC or a page).
 */
export class RequestError extends Error {
  /** A stable code. */
  readonly code: RequestErrorCode;
  /** The HTTP status. */
  readonly status: number;
  /** Extra response headers (`Retry-After`, `Allow`). */
  readonly headers: Record<string, string>;
  constructor(
    code: RequestErrorCode,
    message: string,
    options: { headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "RequestError";
    this.code = code;
    this.status = REQUEST_STATUS[code];
    this.headers = options.headers ?? {};
  }
}

/** Codes of storage trouble. */
export type StorageErrorCode = "kv_failed" | "kv_timeout";

/** How long clients are asked to wait after storage trouble (seconds). */
export const STORAGE_RETRY_AFTER_S = 5;

/**
 * Deno KV failed or did not answer in time (a disk error, a read-only file, a lock held elsewhere).
 * Answered 503 with `Retry-After`: nothing was half written (KV commits are atomic), the client retries.
 */
export class StorageError extends Error {
  /** A stable code. */
  readonly code: StorageErrorCode;
  /** The HTTP status (always 503). */
  readonly status = 503;
  constructor(code: StorageErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "StorageError";
    this.code = code;
  }
}

/** A JSON-RPC 2.0 error body (`id` null: the request's id is not known where this is used). */
export function jsonRpcErrorBody(code: number, message: string): Record<string, unknown> {
  return { jsonrpc: "2.0", id: null, error: { code, message } };
}

/**
 * The response for a {@linkcode RequestError} or {@linkcode StorageError} on an API route, as an
 * RFC 6749 §5.2 body (`oauth`) or a JSON-RPC error (`jsonrpc`, code -32000 as the MCP SDK uses for
 * transport-level refusals); null for any other error.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3 (Retry-After)
 */
export function apiErrorResponse(err: unknown, format: "oauth" | "jsonrpc"): Response | null {
  let status: number, code: string, message: string, headers: Record<string, string>;
  if (err instanceof RequestError) {
    ({ status, code, message, headers } = err);
  } else if (err instanceof StorageError) {
    status = 503;
    code = "temporarily_unavailable";
    message = "Storage is unavailable; retry shortly";
    headers = { "retry-after": String(STORAGE_RETRY_AFTER_S) };
  } else {
    return null;
  }
  const body = format === "jsonrpc"
    ? jsonRpcErrorBody(-32000, message)
    : { error: oauthCodeOf(code, status), error_description: message };
  return Response.json(body, { status, headers: { "cache-control": "no-store", ...headers } });
}

/** The RFC 6749 code closest to a request problem (RFC 6749 has no code for 413/415/429 itself). */
function oauthCodeOf(code: string, status: number): string {
  if (code === "temporarily_unavailable") return code;
  if (status === 429) return "temporarily_unavailable";
  if (status === 404) return "not_found";
  if (status === 403) return "access_denied";
  return "invalid_request";
}

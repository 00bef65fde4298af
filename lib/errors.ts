/**
 * The service's error types. Each carries a stable `code`; `routes/app.ts` maps them to HTTP in one place
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
  | "upstream_unavailable";

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

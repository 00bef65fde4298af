/**
 * Validation of an authorization request (`GET /authorize`). The client and its exact redirect URI are
 * checked before anything else; until both are known good, errors are shown locally and never redirected
 * (MCP authorization §Open Redirection; CVE-2025-4143 class). After that, errors go back to the client
 * as RFC 6749 §4.1.2.1 redirects carrying `iss` (RFC 9207), automatically only where that cannot make
 * our origin an open redirector: every client here registered itself anonymously, so anyone can register
 * `https://evil.example/…` and have a bad request bounce a victim there through us (RFC 9700
 * §4.11.2). A redirect URI on a loopback host or with a private-use scheme (RFC 8252 §7.1, §7.3) can
 * only reach software on the user's own device, and those clients wait for `error=` on their callback,
 * so they are redirected at once; for any other redirect URI the error is shown on a page of ours with
 * a link the user may follow.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization §Open Redirection
 * @module
 */
import type { Config } from "../lib/config.ts";
import { PageError } from "../lib/errors.ts";
import { CimdError } from "./cimd.ts";
import type { Client, ClientStore } from "./clients.ts";
import { redirectUriMatches } from "./redirect_uri.ts";
import { isS256Challenge } from "./pkce.ts";
import { isLoopbackHost } from "./redirect_uri.ts";
import { ourResource } from "./resource.ts";

/** Longest `state` kept (it is stored until the callback and echoed back to the client). */
export const MAX_STATE_CHARS = 2000;
/**
 * Longest `scope` kept: the request is stored while the user consents and signs in, so caller data is
 * bounded before it reaches KV (values are limited to 64 KiB; 33,000 characters of scope used to fail
 * the write with a 500).
 */
export const MAX_SCOPE_CHARS = 1000;

/** A validated authorization request, kept server-side from consent to code issuance. */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  state: string | null;
  codeChallenge: string;
  resource: string | null;
  scopes: string[];
}

/**
 * The outcome of validation: a request to continue with, or an error for the client (`redirect`, sent
 * at once when `automatic`, else offered as a link on an error page).
 */
export type AuthorizeOutcome =
  | { ok: true; client: Client; request: AuthorizationRequest }
  | { ok: false; redirect: string; automatic: boolean; error: string; description: string };

/**
 * Whether errors may be redirected to `redirectUri` without the user's action: loopback hosts and
 * private-use schemes only (they cannot leave the user's device).
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.11.2
 */
export function redirectsErrorsAutomatically(redirectUri: string): boolean {
  const url = URL.parse(redirectUri);
  if (!url) return false;
  if (url.protocol === "http:" || url.protocol === "https:") return isLoopbackHost(url.hostname);
  return true; // a private-use scheme (redirect_uri.ts admits no other)
}

/**
 * Validates the query of `GET /authorize`.
 * @throws {PageError} for an unknown client or a redirect URI that is not exactly registered.
 */
export async function validateAuthorizationRequest(
  params: URLSearchParams,
  clients: ClientStore,
  config: Pick<Config, "publicUrl">,
): Promise<AuthorizeOutcome> {
  const single = (name: string): string | null => {
    const all = params.getAll(name);
    if (all.length > 1) {
      throw new PageError("invalid_request", `Parameter ${name} was given more than once`);
    }
    return all[0] ?? null;
  };
  const clientId = single("client_id");
  if (!clientId) throw new PageError("invalid_client", "The request has no client_id");
  const redirectUri = single("redirect_uri");
  const fits = (c: Client) =>
    redirectUri !== null && redirectUriMatches(c.redirectUris, redirectUri);
  let client: Client | null;
  try {
    client = await clients.find(clientId, fits);
  } catch (err) {
    if (!(err instanceof CimdError)) throw err;
    const down = err.code === "unreachable";
    throw new PageError(
      down ? "upstream_unavailable" : "invalid_client",
      `This application's client metadata document cannot be used: ${err.message}`,
      down ? 503 : 400,
      { cause: err },
    );
  }
  if (!client) throw new PageError("invalid_client", "This application is not registered here");
  if (!redirectUri || !fits(client)) {
    throw new PageError(
      "invalid_redirect_uri",
      "The redirect URI does not exactly match one registered for this application",
    );
  }
  const state = single("state");
  const fail = (error: string, description: string): AuthorizeOutcome => ({
    ok: false,
    redirect: errorRedirect(redirectUri, config.publicUrl, state, error, description),
    automatic: redirectsErrorsAutomatically(redirectUri),
    error,
    description,
  });
  if (single("response_type") !== "code") {
    return fail("unsupported_response_type", "response_type must be code");
  }
  const challenge = single("code_challenge");
  const method = single("code_challenge_method");
  if (!challenge) return fail("invalid_request", "code_challenge is required (PKCE S256)");
  if (method !== "S256") return fail("invalid_request", "code_challenge_method must be S256");
  if (!isS256Challenge(challenge)) {
    return fail("invalid_request", "code_challenge is not a valid S256 challenge");
  }
  const resourceParam = single("resource");
  let resource: string | null = null;
  if (resourceParam !== null) {
    resource = ourResource(config, resourceParam);
    if (!resource) {
      return fail("invalid_target", "resource does not name this server's MCP endpoint");
    }
  }
  const scope = single("scope");
  if (state !== null && state.length > MAX_STATE_CHARS) {
    return fail("invalid_request", `state is too long (at most ${MAX_STATE_CHARS} characters)`);
  }
  if (scope !== null && scope.length > MAX_SCOPE_CHARS) {
    return fail("invalid_scope", `scope is too long (at most ${MAX_SCOPE_CHARS} characters)`);
  }
  return {
    ok: true,
    client,
    request: {
      clientId,
      redirectUri,
      state,
      codeChallenge: challenge,
      resource,
      scopes: scope ? scope.split(" ").filter(Boolean).slice(0, 50) : [],
    },
  };
}

/**
 * The URL that returns an authorization response to the client: `code` or an error, with `state` and
 * `iss` (RFC 9207).
 */
export function authorizationResponseUrl(
  redirectUri: string,
  issuer: string,
  state: string | null,
  params: Record<string, string>,
): string {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  if (state !== null) url.searchParams.set("state", state);
  url.searchParams.set("iss", issuer);
  return url.href;
}

function errorRedirect(
  redirectUri: string,
  issuer: string,
  state: string | null,
  error: string,
  description: string,
): string {
  return authorizationResponseUrl(redirectUri, issuer, state, {
    error,
    error_description: description,
  });
}

/**
 * Validation of an authorization request (`GET /authorize`). The client and its exact redirect URI are
 * checked before anything else; until both are known good, errors are shown locally and never redirected
 * (mcp-spec AS9; CVE-2025-4143 class). After that, errors go back to the client as RFC 6749 §4.1.2.1
 * redirects carrying `iss` (RFC 9207).
 *
 * @module
 */
import type { Config } from "../lib/config.ts";
import { PageError } from "../lib/errors.ts";
import { CimdError } from "./cimd.ts";
import type { Client, ClientStore } from "./clients.ts";
import { redirectUriMatches } from "./redirect_uri.ts";
import { isS256Challenge } from "./pkce.ts";
import { ourResource } from "./resource.ts";

/** A validated authorization request, kept server-side from consent to code issuance. */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  state: string | null;
  codeChallenge: string;
  resource: string | null;
  scopes: string[];
}

/** The outcome of validation: a request to continue with, or a redirect carrying an error. */
export type AuthorizeOutcome =
  | { ok: true; client: Client; request: AuthorizationRequest }
  | { ok: false; redirect: string };

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
  if (state !== null && state.length > 2000) return fail("invalid_request", "state is too long");
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

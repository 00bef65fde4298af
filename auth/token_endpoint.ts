/**
 * The token endpoint (`POST /token`): `authorization_code` and `refresh_token` grants, with client
 * authentication per registration and RFC 6749 §5.2 errors.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.2
 * @module
 */
import type { AuditAction } from "../audit/events.ts";
import { OAuthError } from "../lib/errors.ts";
import type { Grant } from "./grants.ts";
import { grantIdOf } from "./tokens.ts";
import { GrantRevokedError, PermissionsStaleError } from "./freshness.ts";
import { ourResource } from "./resource.ts";
import type { AuthServices } from "./services.ts";

/** What the token and revocation endpoints use. */
export type TokenEndpointDeps = Pick<
  AuthServices,
  "audit" | "clients" | "codes" | "config" | "freshness" | "grants" | "tokens"
>;

/** Seconds a client is asked to wait after a WorkOS outage (`Retry-After`). */
export const RETRY_AFTER_S = 5;

/** Reads an `application/x-www-form-urlencoded` body, refusing other types and repeated parameters. */
export async function readForm(request: Request): Promise<URLSearchParams> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    throw new OAuthError(
      "invalid_request",
      "Content-Type must be application/x-www-form-urlencoded",
    );
  }
  const text = await request.text();
  if (text.length > 16_384) throw new OAuthError("invalid_request", "Request body is too large");
  const form = new URLSearchParams(text);
  const seen = new Set<string>();
  for (const key of form.keys()) {
    if (seen.has(key)) {
      throw new OAuthError("invalid_request", `Parameter ${key} was given more than once`);
    }
    seen.add(key);
  }
  return form;
}

/** Handles a token request; resolves to the JSON response with `Cache-Control: no-store`. */
export async function handleTokenRequest(
  request: Request,
  auth: TokenEndpointDeps,
): Promise<Response> {
  const form = await readForm(request);
  const grantType = form.get("grant_type");
  if (!grantType) throw new OAuthError("invalid_request", "grant_type is required");
  if (grantType !== "authorization_code" && grantType !== "refresh_token") {
    throw new OAuthError("unsupported_grant_type", `grant_type ${grantType} is not supported`);
  }
  const client = await auth.clients.authenticate(request.headers, form);
  const audit = async (
    action: AuditAction,
    grantOrId: Grant | string | null,
    outcome: "success" | "refused",
    detail?: string,
  ) => {
    const grant = typeof grantOrId === "string" ? await auth.grants.get(grantOrId) : grantOrId;
    void auth.audit.record({
      action,
      userId: grant?.userId ?? null,
      organizationId: grant?.organizationId ?? null,
      clientId: client.clientId,
      grantId: grant?.id ?? null,
      outcome,
      ...(detail ? { detail } : {}),
    });
  };
  if (!client.grantTypes.includes(grantType)) {
    throw new OAuthError(
      "unauthorized_client",
      `This client did not register the ${grantType} grant`,
    );
  }
  const resourceParam = form.get("resource");
  let resource: string | null = null;
  if (resourceParam !== null) {
    resource = ourResource(auth.config, resourceParam);
    if (!resource) {
      throw new OAuthError("invalid_target", "resource does not name this server's MCP endpoint");
    }
  }

  let body;
  if (grantType === "authorization_code") {
    const code = form.get("code");
    if (!code) throw new OAuthError("invalid_request", "code is required");
    try {
      body = await auth.codes.redeem({
        code,
        clientId: client.clientId,
        redirectUri: form.get("redirect_uri"),
        codeVerifier: form.get("code_verifier"),
        resource,
      });
    } catch (err) {
      if (err instanceof OAuthError && err.message.includes("already used")) {
        void auth.audit.record({
          action: "oauth.code_reuse_detected",
          userId: null,
          organizationId: null,
          clientId: client.clientId,
          grantId: null,
          outcome: "refused",
          detail: err.message,
        });
      }
      throw err;
    }
    await audit("oauth.token_issued", grantIdOf(body.access_token), "success");
  } else {
    const token = form.get("refresh_token");
    if (!token) throw new OAuthError("invalid_request", "refresh_token is required");
    // Looked up first so a refusal that revokes the grant can still be attributed to its user.
    const before = await auth.grants.get(grantIdOf(token) ?? "");
    try {
      body = await auth.tokens.refresh(token, client.clientId, resource, async (grant) => {
        try {
          await auth.freshness.refreshForTokenGrant(grant);
        } catch (err) {
          if (err instanceof GrantRevokedError) {
            throw new OAuthError("invalid_grant", `${err.message} (sign in again)`, { cause: err });
          }
          if (err instanceof PermissionsStaleError) {
            throw new OAuthError("temporarily_unavailable", err.message, {
              cause: err,
              headers: { "retry-after": String(RETRY_AFTER_S) },
            });
          }
          throw err;
        }
      });
    } catch (err) {
      if (err instanceof OAuthError) {
        const reuse = err.message.includes("already used");
        await audit(
          reuse ? "oauth.refresh_reuse_detected" : "oauth.refresh_refused",
          before,
          "refused",
          err.message,
        );
      }
      throw err;
    }
    await audit("oauth.token_refreshed", grantIdOf(body.access_token), "success");
  }
  return Response.json(body, { headers: { "cache-control": "no-store", pragma: "no-cache" } });
}

/**
 * Handles a revocation request (RFC 7009): the owning client may revoke its tokens; anything else,
 * including another client's token, is answered 200 and changes nothing (§2.2).
 */
export async function handleRevocationRequest(
  request: Request,
  auth: TokenEndpointDeps,
): Promise<Response> {
  const form = await readForm(request);
  const client = await auth.clients.authenticate(request.headers, form);
  const token = form.get("token");
  if (!token) throw new OAuthError("invalid_request", "token is required");
  const grant = await auth.grants.get(grantIdOf(token) ?? "");
  const revoked = await auth.tokens.revoke(token, client.clientId);
  if (revoked) {
    void auth.audit.record({
      action: revoked === "refresh" ? "oauth.grant_revoked" : "oauth.token_revoked",
      userId: grant?.userId ?? null,
      organizationId: grant?.organizationId ?? null,
      clientId: client.clientId,
      grantId: grantIdOf(token),
      outcome: "success",
      detail: `${revoked} token revoked by the client`,
    });
  }
  return new Response(null, { status: 200, headers: { "cache-control": "no-store" } });
}

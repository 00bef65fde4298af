/**
 * The OAuth 2.1 authorization server's routes: registration, authorization (with our consent page),
 * token and revocation. Route handlers stay thin; the protocol lives in `auth/`.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { cors } from "hono/cors";
import { csrf } from "hono/csrf";
import { authorizationResponseUrl, validateAuthorizationRequest } from "../auth/authorize.ts";
import type { AuthorizationRequest } from "../auth/authorize.ts";
import { rememberState } from "../auth/pending.ts";
import { resources } from "../lib/config.ts";
import type { AuthServices } from "../auth/services.ts";
import {
  handleRevocationRequest,
  handleTokenRequest,
  type TokenEndpointDeps,
} from "../auth/token_endpoint.ts";
import { OAuthError, PageError, RequestError } from "../lib/errors.ts";
import { readBrowserForm } from "./forms.ts";
import { consentPage } from "./pages/consent.ts";
import { errorLinkPage } from "./pages/error_link.ts";

/** What the OAuth routes use: the token endpoint's stores, and those of authorize and consent. */
export type OAuthRouteDeps =
  & TokenEndpointDeps
  & Pick<AuthServices, "consent" | "pending" | "upstream">;

/** `/register`, `/authorize`, `/token`, `/revoke`, over exactly the services they use. */
export function oauthRoutes(auth: OAuthRouteDeps): Hono {
  const app = new Hono();
  const issuer = auth.config.publicUrl;
  // Token, registration and revocation are called by browser-based clients too (e.g. the Inspector).
  app.use("/register", cors({ origin: "*", allowMethods: ["POST", "OPTIONS"] }));
  app.use("/token", cors({ origin: "*", allowMethods: ["POST", "OPTIONS"] }));
  app.use("/revoke", cors({ origin: "*", allowMethods: ["POST", "OPTIONS"] }));

  app.post("/register", async (c) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json") {
      throw new RequestError(
        "unsupported_media_type",
        "Cannot register client: Content-Type must be application/json (RFC 7591 §3.1)",
      );
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new OAuthError(
        "invalid_client_metadata",
        "Cannot register client: body is not valid JSON",
      );
    }
    return c.json(await auth.clients.register(body), 201, { "cache-control": "no-store" });
  });

  app.get("/authorize", async (c) => {
    const outcome = await validateAuthorizationRequest(
      new URL(c.req.url).searchParams,
      auth.clients,
      auth.config,
    );
    if (!outcome.ok) {
      // RFC 9700 §4.11.2: no automatic redirect where it could make us an open redirector.
      return outcome.automatic ? c.redirect(outcome.redirect, 302) : errorLinkPage(c, outcome);
    }
    const { client, request } = outcome;
    if (await auth.consent.isApproved(c, client.clientId, request.redirectUri)) {
      return await toAuthKit(c, request);
    }
    const { requestId, csrf } = await auth.consent.begin(c, request);
    return consentPage(c, {
      client,
      request,
      requestId,
      csrf,
      resource: request.resource ?? resources(auth.config).mcp,
    });
  });

  // The Origin check (Hono's csrf) is a second line behind the CSRF token bound to cookie and request.
  app.post("/authorize", csrf({ origin: new URL(issuer).origin }), async (c) => {
    const form = await readBrowserForm(c);
    const field = (name: string) => form.get(name) ?? "";
    const request = await auth.consent.consume(c, field("request_id"), field("csrf_token"));
    if (!request) {
      throw new PageError(
        "invalid_request",
        "This consent form has expired, was already used, or did not come from this browser",
        403,
      );
    }
    void auth.audit.record({
      action: field("decision") === "approve" ? "oauth.consent_granted" : "oauth.consent_denied",
      userId: null,
      organizationId: null,
      clientId: request.clientId,
      grantId: null,
      outcome: "success",
      detail: `redirect ${new URL(request.redirectUri).host || request.redirectUri}`,
    });
    if (field("decision") !== "approve") {
      return c.redirect(
        authorizationResponseUrl(request.redirectUri, issuer, request.state, {
          error: "access_denied",
          error_description: "The user denied the request",
        }),
        302,
      );
    }
    await auth.consent.remember(c, request.clientId, request.redirectUri);
    return await toAuthKit(c, request);
  });

  app.post("/token", (c) => handleTokenRequest(c.req.raw, auth));
  app.post("/revoke", (c) => handleRevocationRequest(c.req.raw, auth));
  for (const path of ["/register", "/token", "/revoke"]) {
    app.on(["GET", "PUT", "DELETE", "PATCH"], path, () => {
      throw new OAuthError("invalid_request", `Use POST for ${path}`, {
        status: 405,
        headers: { allow: "POST" },
      });
    });
  }
  return app;

  /** Records the pending authorization, sets the state cookie and sends the browser to AuthKit. */
  async function toAuthKit(c: Context, request: AuthorizationRequest): Promise<Response> {
    const { state, codeChallenge } = await auth.pending.create(request);
    rememberState(c, state);
    c.header("cache-control", "no-store");
    return c.redirect(
      auth.upstream.authorizationUrl({ redirectUri: `${issuer}/callback`, state, codeChallenge }),
      302,
    );
  }
}

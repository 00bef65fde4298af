/**
 * `GET /callback`: AuthKit returns the user here. We consume the pending authorization (single use, and
 * only in the browser that started it), exchange AuthKit's code with our PKCE verifier, verify WorkOS's
 * access token, create the grant and send the client its code with `state` and `iss`. A user in several
 * organizations first picks one (`POST /callback/organization`).
 *
 * Once the client and its redirect URI were validated (at `/authorize`), a failure upstream goes back to
 * the client as an RFC 6749 §4.1.2.1 error, so the MCP client stops waiting and tells the person:
 * `temporarily_unavailable` when WorkOS could not be reached or refused our credentials (an outage, worth
 * retrying), `access_denied` when WorkOS refused the sign-in. Both are logged.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { csrf } from "hono/csrf";
import { type AuthorizationRequest, authorizationResponseUrl } from "../auth/authorize.ts";
import { CODE_TTL_MS } from "../auth/codes.ts";
import { browserStarted } from "../auth/pending.ts";
import type { AuthServices } from "../auth/services.ts";
import { suspectVariables, UpstreamError, type UpstreamSession } from "../auth/workos.ts";
import { PageError } from "../lib/errors.ts";
import { errorFields, log } from "../lib/log.ts";
import { readBrowserForm } from "./forms.ts";
import { organizationPage } from "./pages/organization.ts";

/** What the callback routes use. */
export type CallbackRouteDeps = Pick<
  AuthServices,
  "audit" | "codes" | "config" | "consent" | "grants" | "pending" | "upstream" | "webSessions"
>;

/** The AuthKit callback routes. */
export function callbackRoutes(auth: CallbackRouteDeps): Hono {
  const app = new Hono();
  const issuer = auth.config.publicUrl;

  app.get("/callback", async (c) => {
    const state = c.req.query("state") ?? "";
    if (!state || !browserStarted(c, state)) {
      throw new PageError(
        "invalid_state",
        "This sign-in did not start in this browser, or it has expired",
      );
    }
    const pending = await auth.pending.consume(state);
    if (!pending) {
      throw new PageError("invalid_state", "This sign-in link was already used or has expired");
    }
    const { request } = pending;
    const upstreamError = c.req.query("error");
    if (upstreamError && !request) {
      throw new PageError(
        "login_failed",
        `Sign-in did not complete (${upstreamError.slice(0, 100)})`,
      );
    }
    if (upstreamError && request) {
      return c.redirect(
        authorizationResponseUrl(request.redirectUri, issuer, request.state, {
          error: "access_denied",
          error_description: `Sign-in did not complete (${upstreamError.slice(0, 100)})`,
        }),
        302,
      );
    }
    const code = c.req.query("code");
    if (!code) throw new PageError("invalid_request", "AuthKit returned without a code");
    try {
      return await complete(
        c,
        request,
        await auth.upstream.exchangeCode(code, pending.upstreamVerifier),
      );
    } catch (err) {
      if (err instanceof UpstreamError && err.kind === "organization_selection_required") {
        const { id, csrf } = await auth.consent.beginForm(c, {
          kind: "organization",
          request,
          pendingAuthenticationToken: err.pendingAuthenticationToken,
          organizations: err.organizations,
        });
        return organizationPage(c, { organizations: err.organizations, selectionId: id, csrf });
      }
      return failed(c, request, err);
    }
  });

  app.post("/callback/organization", csrf({ origin: new URL(issuer).origin }), async (c) => {
    const form = await readBrowserForm(c);
    const field = (name: string) => form.get(name) ?? "";
    const payload = await auth.consent.consumeForm(c, field("selection_id"), field("csrf_token"));
    if (payload?.kind !== "organization") {
      throw new PageError(
        "invalid_request",
        "This choice has expired, was already made, or did not come from this browser",
        403,
      );
    }
    const organizationId = field("organization_id");
    if (!payload.organizations.some((o) => o.id === organizationId)) {
      throw new PageError("invalid_request", "That organization was not one of the choices");
    }
    try {
      const session = await auth.upstream.selectOrganization(
        payload.pendingAuthenticationToken,
        organizationId,
      );
      return await complete(c, payload.request, session);
    } catch (err) {
      return failed(c, payload.request, err);
    }
  });
  return app;

  /**
   * An upstream failure: back to the client with an OAuth error when its redirect URI is trusted, else a
   * local page. Never a 500 for an upstream problem.
   */
  function failed(c: Context, request: AuthorizationRequest | null, err: unknown): Response {
    if (!(err instanceof UpstreamError)) throw err;
    const outage = err.kind === "unavailable";
    const check = suspectVariables(err);
    log(
      outage ? "error" : "info",
      outage ? "sign-in failed: WorkOS unavailable" : "sign-in refused by WorkOS",
      {
        ...(request ? { clientId: request.clientId } : {}),
        ...(check ? { check } : {}),
        ...errorFields(err),
      },
    );
    if (!request) throw pageErrorOf(err);
    c.header("cache-control", "no-store");
    return c.redirect(
      authorizationResponseUrl(
        request.redirectUri,
        issuer,
        request.state,
        outage
          ? {
            error: "temporarily_unavailable",
            error_description: "The sign-in service is unavailable; try again shortly",
          }
          : {
            error: "access_denied",
            error_description: "The sign-in was not accepted; try signing in again",
          },
      ),
      302,
    );
  }

  /**
   * Finishes a sign-in: for a client, creates the grant and its code and returns the browser to the
   * client; for our own account page, starts a browser session.
   */
  async function complete(
    c: Context,
    request: AuthorizationRequest | null,
    session: UpstreamSession,
  ): Promise<Response> {
    if (!request) {
      await auth.webSessions.start(c, session.identity);
      c.header("cache-control", "no-store");
      return c.redirect("/account", 302);
    }
    const grant = await auth.grants.create({
      upstream: session.identity,
      upstreamRefreshToken: session.refreshToken,
      clientId: request.clientId,
      scopes: request.scopes,
      resource: request.resource,
    }, CODE_TTL_MS * 2);
    const ourCode = await auth.codes.issue(grant, request);
    void auth.audit.record({
      action: "user.signed_in",
      userId: grant.userId,
      organizationId: grant.organizationId,
      clientId: grant.clientId,
      grantId: grant.id,
      outcome: "success",
      detail: `permissions: ${grant.permissions.join(", ") || "none"}`,
    });
    c.header("cache-control", "no-store");
    return c.redirect(
      authorizationResponseUrl(request.redirectUri, issuer, request.state, { code: ourCode }),
      302,
    );
  }
}

function pageErrorOf(err: unknown): unknown {
  if (!(err instanceof UpstreamError)) return err;
  return err.kind === "unavailable"
    ? new PageError("upstream_unavailable", "AuthKit is unavailable; try again shortly", 502, {
      cause: err,
    })
    : new PageError("login_failed", `AuthKit did not accept the sign-in: ${err.message}`, 400, {
      cause: err,
    });
}

/**
 * `GET /callback`: AuthKit returns the user here. We consume the pending authorization (single use, and
 * only in the browser that started it), exchange AuthKit's code with our PKCE verifier, verify WorkOS's
 * access token, create the grant and send the client its code with `state` and `iss`.
 *
 * @module
 */
import { Hono } from "hono";
import { authorizationResponseUrl } from "../auth/authorize.ts";
import { CODE_TTL_MS } from "../auth/codes.ts";
import { browserStarted } from "../auth/pending.ts";
import type { AuthServices } from "../auth/services.ts";
import { OrganizationSelectionRequired } from "../auth/workos.ts";
import { PageError } from "../lib/errors.ts";

/** The AuthKit callback route. */
export function callbackRoutes(auth: AuthServices): Hono {
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
    if (upstreamError) {
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
    let session;
    try {
      session = await auth.upstream.exchangeCode(code, pending.upstreamVerifier);
    } catch (err) {
      if (err instanceof OrganizationSelectionRequired) {
        throw new PageError(
          "login_failed",
          "Your account belongs to several organizations; choosing one at sign-in is not supported yet",
        );
      }
      throw err;
    }
    const grant = await auth.grants.create({
      upstream: session.identity,
      upstreamRefreshToken: session.refreshToken,
      clientId: request.clientId,
      scopes: request.scopes,
      resource: request.resource,
    }, CODE_TTL_MS * 2);
    const ourCode = await auth.codes.issue(grant, request);
    c.header("cache-control", "no-store");
    return c.redirect(
      authorizationResponseUrl(request.redirectUri, issuer, request.state, { code: ourCode }),
      302,
    );
  });
  return app;
}

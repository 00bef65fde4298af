/**
 * `/account`: the signed-in user's connected clients, each revocable; sign-out ends our browser session
 * and the WorkOS session. Signing in to it goes through AuthKit like any client would.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { csrf } from "hono/csrf";
import { timingSafeEqual } from "../auth/crypto.ts";
import { rememberState } from "../auth/pending.ts";
import type { AuthServices } from "../auth/services.ts";
import type { Grant } from "../auth/grants.ts";
import type { WebSession } from "../auth/web_sessions.ts";
import { PageError } from "../lib/errors.ts";
import { errorFields, log } from "../lib/log.ts";
import { readBrowserForm } from "./forms.ts";
import { accountPage, type ActivityLine, signedOutPage } from "./pages/account.ts";

/** Hooks the account page uses beyond the auth services (activity, revocation side effects). */
export interface AccountHooks {
  /** Recent activity of the user's grants, newest first. */
  activity?: (userId: string) => Promise<ActivityLine[]>;
  /** An organization's name (cached by the caller); ids are shown where it fails. */
  organizationName?: (id: string) => Promise<string | undefined>;
  /** Called after a grant was revoked from the page. */
  onRevoke?: (grant: Grant, session: WebSession) => void | Promise<void>;
}

/** What the account page uses. */
export type AccountRouteDeps = Pick<
  AuthServices,
  "clients" | "config" | "grants" | "pending" | "upstream" | "webSessions"
>;

/** The account routes. */
export function accountRoutes(auth: AccountRouteDeps, hooks: AccountHooks = {}): Hono {
  const app = new Hono();
  const issuer = auth.config.publicUrl;
  const sameOrigin = csrf({ origin: new URL(issuer).origin });

  app.get("/account", async (c) => {
    const session = await auth.webSessions.current(c);
    if (!session) return await signIn(c);
    const grants = await auth.grants.listForUser(session.identity.userId);
    grants.sort((a, b) => (b.lastUsedAt ?? b.createdAt) - (a.lastUsedAt ?? a.createdAt));
    const connections = await Promise.all(
      grants.map(async (grant) => ({ grant, client: await auth.clients.get(grant.clientId) })),
    );
    const activity = hooks.activity ? await hooks.activity(session.identity.userId) : [];
    const names = new Map(connections.map((x) => [x.grant.clientId, x.client?.clientName]));
    for (const line of activity) {
      const id = line.client;
      if (id && !names.has(id)) names.set(id, (await auth.clients.get(id))?.clientName);
      if (id) line.client = names.get(id) ?? undefined;
    }
    const organizations = await organizationNames([
      session.identity.organizationId,
      ...grants.map((g) => g.organizationId),
    ]);
    return accountPage(c, { session, connections, activity, organizations });
  });

  app.post("/account/revoke", sameOrigin, async (c) => {
    const { session, form } = await authorized(c);
    const grantId = form.get("grant_id") ?? "";
    const grant = await auth.grants.get(grantId);
    // Only the user's own grants; anything else is answered as if it were already gone.
    if (grant && grant.userId === session.identity.userId) {
      await auth.grants.revoke(grant.id);
      await hooks.onRevoke?.(grant, session);
    }
    return c.redirect("/account", 303);
  });

  app.post("/account/signout", sameOrigin, async (c) => {
    const { session } = await authorized(c);
    await auth.webSessions.end(c);
    try {
      await auth.upstream.workos.userManagement.revokeSession({
        sessionId: session.identity.sessionId,
      });
    } catch (err) {
      log("warn", "could not revoke the WorkOS session at sign-out", errorFields(err));
    }
    return c.redirect(
      auth.upstream.workos.userManagement.getLogoutUrl({
        sessionId: session.identity.sessionId,
        returnTo: `${issuer}/account/signed-out`,
      }),
      303,
    );
  });
  app.get("/account/signed-out", (c) => signedOutPage(c));
  return app;

  /** The names of the organizations `ids`, where the hook knows them. */
  async function organizationNames(ids: Array<string | null | undefined>) {
    const names = new Map<string, string>();
    if (!hooks.organizationName) return names;
    for (const id of new Set(ids)) {
      if (!id) continue;
      const name = await hooks.organizationName(id).catch(() => undefined);
      if (name) names.set(id, name);
    }
    return names;
  }

  /** Sends the browser to AuthKit to sign in to the account page. */
  async function signIn(c: Context): Promise<Response> {
    const { state, codeChallenge } = await auth.pending.create(null);
    rememberState(c, state);
    c.header("cache-control", "no-store");
    return c.redirect(
      auth.upstream.authorizationUrl({ redirectUri: `${issuer}/callback`, state, codeChallenge }),
      302,
    );
  }

  /** The session and form of a POST, after the session's CSRF token is checked. */
  async function authorized(c: Context): Promise<{ session: WebSession; form: URLSearchParams }> {
    const session = await auth.webSessions.current(c);
    if (!session) {
      throw new PageError("invalid_request", "You are not signed in; open /account again", 401);
    }
    const form = await readBrowserForm(c);
    if (!timingSafeEqual(form.get("csrf_token") ?? "", session.csrf)) {
      throw new PageError("invalid_request", "This form did not come from your account page", 403);
    }
    return { session, form };
  }
}

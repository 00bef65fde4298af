/**
 * The page shown instead of an automatic error redirect to a redirect URI that could leave the user's
 * device (see `auth/authorize.ts`): the error, where the application wanted the user sent, and a link
 * the user may choose to follow.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.11.2
 * @module
 */
import type { Context } from "hono";
import { html } from "hono/html";
import { renderPage } from "./layout.ts";

/** Renders the error with a link back to the application (status 400). */
export function errorLinkPage(
  c: Context,
  input: { error: string; description: string; redirect: string },
): Response | Promise<Response> {
  const host = new URL(input.redirect).host;
  return renderPage(
    c,
    "Sign-in stopped",
    html`
      <h1>Sign-in stopped</h1>
      <p class="error">${input.description}</p>
      <p class="muted">Error code: <code>${input.error}</code>. We did not send you back to the
        application automatically. If you trust it, you can return to <strong>${host}</strong>:</p>
      <p><a href="${input.redirect}" rel="noreferrer">Return to the application</a></p>
    `,
    400,
  );
}

/**
 * The local error page: shown instead of redirecting whenever redirecting could be unsafe.
 *
 * @module
 */
import type { Context } from "hono";
import { html } from "hono/html";
import type { PageError } from "../../lib/errors.ts";
import { renderPage } from "./layout.ts";

/** Renders `err` as a page with its status. */
export function errorPage(c: Context, err: PageError): Response | Promise<Response> {
  return renderPage(
    c,
    "Sign-in stopped",
    html`
      <h1>Sign-in stopped</h1>
      <p class="error">${err.message}</p>
      <p
        class="muted">Error code: <code>${err
          .code}</code>. Close this window and start again from your application.</p>
    `,
    err.status,
  );
}

/**
 * The organization picker: shown when WorkOS answers `organization_selection_required` for a user in
 * several organizations. One form per organization; the first is the first organization.
 *
 * @module
 */
import type { Context } from "hono";
import { html } from "hono/html";
import { renderPage } from "./layout.ts";

/** Renders the picker. */
export function organizationPage(
  c: Context,
  input: { organizations: Array<{ id: string; name: string }>; selectionId: string; csrf: string },
): Response | Promise<Response> {
  const choices = input.organizations.map((org) =>
    html`
      <form method="post" action="/callback/organization" class="choice">
        <input type="hidden" name="selection_id" value="${input.selectionId}">
        <input type="hidden" name="csrf_token" value="${input.csrf}">
        <input type="hidden" name="organization_id" value="${org.id}">
        <button type="submit">${org.name}</button>
      </form>
    `
  );
  return renderPage(
    c,
    "Choose an organization",
    html`<h1>Choose an organization</h1>
<p>Your account belongs to several organizations. The application will act with the role and permissions
you hold in the one you choose; you can connect again to switch.</p>
${choices}`,
  );
}

/**
 * The account page: who is signed in, every client connected to the account (name, redirect host, first
 * and last use, organization) with a Revoke button each, recent activity, and sign-out.
 *
 * @module
 */
import type { Context } from "hono";
import { html } from "hono/html";
import type { Client } from "../../auth/clients.ts";
import type { Grant } from "../../auth/grants.ts";
import type { WebSession } from "../../auth/web_sessions.ts";
import { renderPage } from "./layout.ts";

/** One connected client, as shown. */
export interface Connection {
  grant: Grant;
  client: Client | null;
}

/** One line of recent activity. */
export interface ActivityLine {
  at: number;
  action: string;
  detail: string;
}

const when = (
  ms: number | undefined,
) => (ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "—");

/** Renders the account page. */
export function accountPage(
  c: Context,
  input: { session: WebSession; connections: Connection[]; activity: ActivityLine[] },
): Response | Promise<Response> {
  const { session, connections, activity } = input;
  const me = session.identity;
  const csrf = session.csrf;
  const rows = connections.map(({ grant, client }) => {
    const hosts = [
      ...new Set((client?.redirectUris ?? []).map((u) => {
        try {
          return new URL(u).host || u;
        } catch {
          return u;
        }
      })),
    ].join(", ");
    return html`
      <li class="connection">
        <p><strong>${client?.clientName ??
          "Unnamed application"}</strong> <span class="muted">returns to ${hosts || "—"}</span></p>
        <dl>
          <dt>Organization</dt>
          <dd>${grant.organizationId ?? "none"}${grant.role
            ? html`
              (${grant.role})
            `
            : ""}</dd>
          <dt>Permissions</dt>
          <dd>${grant.permissions.length ? grant.permissions.join(", ") : "none"}</dd>
          <dt>First use</dt>
          <dd>${when(grant.createdAt)}</dd>
          <dt>Last use</dt>
          <dd>${when(grant.lastUsedAt ?? grant.createdAt)}</dd>
        </dl>
        <form method="post" action="/account/revoke">
          <input type="hidden" name="csrf_token" value="${csrf}">
          <input type="hidden" name="grant_id" value="${grant.id}">
          <div class="actions"><button type="submit">Revoke access</button></div>
        </form>
      </li>
    `;
  });
  const lines = activity.map((a) =>
    html`<li><span class="muted">${when(a.at)}</span> ${a.action}${
      a.detail
        ? html`
          · ${a.detail}
        `
        : ""
    }</li>`
  );
  return renderPage(
    c,
    "Your connected applications",
    html`
      <h1>Connected applications</h1>
      <p>Signed in as <strong>${me.email}</strong>${me.organizationId
        ? html`
          · ${me.organizationId}
        `
        : ""}.</p>
      ${connections.length
        ? html`<ul class="connections">${rows}</ul>`
        : html`<p class="muted">No application is connected to your account.</p>`}
      <h2>Recent activity</h2>
      ${lines.length
        ? html`<ul class="activity">${lines}</ul>`
        : html`<p class="muted">Nothing yet.</p>`}
      <form method="post" action="/account/signout">
        <input type="hidden" name="csrf_token" value="${csrf}">
        <div class="actions"><button type="submit">Sign out</button></div>
      </form>
    `,
  );
}

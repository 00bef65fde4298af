/**
 * The account page: who is signed in, one card per connected client (sign-ins from the same client name
 * and redirect host folded together, each still revocable, with a confirmation step), recent activity
 * in plain words, and sign-out. Also the page shown after signing out.
 *
 * @module
 */
import type { Context } from "hono";
import { html } from "hono/html";
import type { Client } from "../../auth/clients.ts";
import type { Grant } from "../../auth/grants.ts";
import type { WebSession } from "../../auth/web_sessions.ts";
import { type ActivityLine, describeActivity } from "./activity.ts";
import { renderPage } from "./layout.ts";

export type { ActivityLine } from "./activity.ts";

/** One connected client, as shown. */
export interface Connection {
  grant: Grant;
  client: Client | null;
}

/** Connections of one client name and redirect host, shown as one card. */
interface ClientCard {
  name: string;
  hosts: string;
  connections: Connection[];
}

const when = (
  ms: number | undefined,
) => (ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "—");

function hostsOf(client: Client | null): string {
  const hosts = new Set((client?.redirectUris ?? []).map((u) => {
    try {
      return new URL(u).host || u;
    } catch {
      return u;
    }
  }));
  return [...hosts].sort().join(", ");
}

/** Groups connections by client name and redirect hosts, keeping their order (most recent first). */
export function groupConnections(connections: Connection[]): ClientCard[] {
  const cards = new Map<string, ClientCard>();
  for (const connection of connections) {
    const hosts = hostsOf(connection.client);
    const name = connection.client?.clientName ??
      (hosts ? `An application at ${hosts}` : "An application");
    const key = `${name}\n${hosts}`;
    const card = cards.get(key) ?? { name, hosts, connections: [] };
    card.connections.push(connection);
    cards.set(key, card);
  }
  return [...cards.values()];
}

/** Renders the account page. */
export function accountPage(
  c: Context,
  input: {
    session: WebSession;
    connections: Connection[];
    activity: ActivityLine[];
    /** Organization names by id (ids are shown for those missing). */
    organizations?: ReadonlyMap<string, string>;
  },
): Response | Promise<Response> {
  const { session, connections, activity } = input;
  const orgName = (id: string) => input.organizations?.get(id) ?? id;
  const me = session.identity;
  const csrf = session.csrf;
  const connection = ({ grant }: Connection, index: number, all: Connection[]) =>
    html`
      <li>
        ${all.length > 1
          ? html`
            <p><strong>Sign-in ${index + 1}</strong></p>
          `
          : ""}
        <dl>
          <dt>Organization</dt>
          <dd>${grant.organizationId ? orgName(grant.organizationId) : "none"}${grant.role
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
        <details class="confirm">
          <summary>Revoke access…</summary>
          <p>The application loses access at once and must ask you again.</p>
          <form method="post" action="/account/revoke">
            <input type="hidden" name="csrf_token" value="${csrf}">
            <input type="hidden" name="grant_id" value="${grant.id}">
            <button class="danger" type="submit">Revoke access</button>
          </form>
        </details>
      </li>
    `;
  const cards = groupConnections(connections).map((card) =>
    html`
      <li class="connection">
        <p><strong>${card.name}</strong><br><span class="muted">returns to ${card.hosts ||
          "—"}${card.connections.length > 1
          ? html`
            · ${card.connections.length} sign-ins
          `
          : ""}</span></p>
        <ul class="sessions">${card.connections.map(connection)}</ul>
      </li>
    `
  );
  const lines = activity.map((a) =>
    html`<li><span class="muted">${when(a.at)}</span> ${describeActivity(a)}${
      a.client
        ? html`
          <span class="muted">· ${a.client}</span>
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
        ? html`<span class="muted"> · ${orgName(me.organizationId)}</span>`
        : ""}</p>
      ${connections.length
        ? html`<ul class="connections">${cards}</ul>`
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
    200,
    { accountLink: false },
  );
}

/** The page after signing out of the account page. */
export function signedOutPage(c: Context): Response | Promise<Response> {
  return renderPage(
    c,
    "Signed out",
    html`
      <h1>You are signed out</h1>
      <p>Your applications stay connected until you revoke them.</p>
      <div
        class="actions"><a class="button" href="/account">Sign in again</a> <a class="button" href="/">Home</a></div>
    `,
    200,
    { accountLink: false },
  );
}

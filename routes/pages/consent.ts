/**
 * The consent page: names the server and the client, shows where it will send the user back (the
 * redirect URI's host), what access it asks for in plain words, and offers Approve (the first form) and
 * Deny.
 *
 * @module
 */
import type { Context } from "hono";
import { html } from "hono/html";
import type { AuthorizationRequest } from "../../auth/authorize.ts";
import { verifiedHost } from "../../auth/cimd.ts";
import type { Client } from "../../auth/clients.ts";
import { isLoopbackHost } from "../../auth/redirect_uri.ts";
import { brandOf } from "./brand.ts";
import { renderPage } from "./layout.ts";

/** What the usual OAuth and OpenID scopes let a client do, in plain words. */
const SCOPE_TEXT: Record<string, string> = {
  openid: "confirm who you are",
  profile: "see your name",
  email: "see your email address",
  offline_access: "stay connected until you revoke it",
};

/** The scopes of a request as a sentence fragment; unknown scopes are shown as they are. */
export function describeScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes)].map((s) => SCOPE_TEXT[s] ?? `use the “${s}” scope`);
}

/** Renders the consent page for `request`. */
export function consentPage(
  c: Context,
  input: {
    client: Client;
    request: AuthorizationRequest;
    requestId: string;
    csrf: string;
    resource: string;
  },
): Response | Promise<Response> {
  const { client, request, requestId, csrf } = input;
  const server = brandOf(c).name;
  const redirect = new URL(request.redirectUri);
  const host = redirect.host || `${redirect.protocol}//`;
  const local = redirect.protocol === "http:" && isLoopbackHost(redirect.hostname);
  // A client need not give a name; then it is known by where it sends you back.
  const name = client.clientName ?? `An application at ${host}`;
  const scopes = describeScopes(request.scopes);
  const otherHosts = [
    ...new Set(
      client.redirectUris.map((u) => URL.parse(u)).filter((u) => u !== null).map((u) =>
        u.host || `${u.protocol}//`
      ),
    ),
  ].filter((h) => h !== host);
  // A client ID URL proves its host (we fetched the document there); every name is only a claim.
  const verified = verifiedHost(client.clientId);
  const who = verified ?? client.clientName ?? `the application at ${host}`;
  const fields = html`<input type="hidden" name="request_id" value="${requestId}">
<input type="hidden" name="csrf_token" value="${csrf}">`;
  return renderPage(
    c,
    `Allow ${who}?`,
    html`<h1>Allow <strong>${who}</strong>${
      verified || !client.clientName ? "" : " (an unverified name)"
    } to use ${server} as you?</h1>
<form method="post" action="/authorize">
${fields}
<input type="hidden" name="decision" value="approve">
<dl>
${
      verified
        ? html`
          <dt>Verified identity</dt>
          <dd
            class="verified"><strong>${verified}</strong> (its metadata document is published at <code>${client
              .clientId}</code>)</dd>
        `
        : ""
    }
<dt>Application</dt><dd>${name} ${
      client.clientName
        ? html`<span class="${verified ? "claimed" : "unverified"}">${
          verified
            ? "(name claimed by the application)"
            : "(unverified: a name the application chose itself)"
        }</span>`
        : html`
          <br><span class="muted">It did not give its name.</span>
        `
    }${
      client.clientUri
        ? html`
          <br><code>${client.clientUri}</code>
        `
        : ""
    }</dd>
<dt>Returns you to</dt><dd><strong>${host}</strong><br><code>${request.redirectUri}</code></dd>
<dt>It may</dt><dd>Use the tools of ${server} that your account allows, as you${
      scopes.map((s) => html`, and ${s}`)
    }.<br><span class="muted">Server address: <code>${input.resource}</code></span></dd>
</dl>
${
      local
        ? html`
          <p
            class="warning">This application runs on your own computer (${host}). Approve only if you just started it yourself.</p>
        `
        : ""
    }
${
      otherHosts.length
        ? html`
          <p class="warning"
            data-notice="several-hosts">This application also registered redirect URIs on ${otherHosts
              .join(", ")}. Your approval covers only ${host}.</p>
        `
        : ""
    }
<p class="muted">Next you sign in with WorkOS AuthKit. You can revoke this access at any time on
<a href="/account">your connected applications</a> page.</p>
<div class="actions"><button class="primary" type="submit">Approve</button></div>
</form>
<form method="post" action="/authorize">
${fields}
<input type="hidden" name="decision" value="deny">
<div class="actions"><button type="submit">Deny</button></div>
</form>`,
  );
}

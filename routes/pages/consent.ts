/**
 * The consent page: names the client, shows where it will send the user back (the redirect URI's host),
 * what access it asks for, and offers Approve (the first form) and Deny.
 *
 * @module
 */
import type { Context } from "hono";
import { html } from "hono/html";
import type { AuthorizationRequest } from "../../auth/authorize.ts";
import { verifiedHost } from "../../auth/cimd.ts";
import type { Client } from "../../auth/clients.ts";
import { isLoopbackHost } from "../../auth/redirect_uri.ts";
import { renderPage } from "./layout.ts";

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
  const redirect = new URL(request.redirectUri);
  const host = redirect.host || `${redirect.protocol}//`;
  const local = redirect.protocol === "http:" && isLoopbackHost(redirect.hostname);
  const name = client.clientName ?? "An unnamed application";
  const otherHosts = [
    ...new Set(
      client.redirectUris.map((u) => URL.parse(u)).filter((u) => u !== null).map((u) =>
        u.host || `${u.protocol}//`
      ),
    ),
  ].filter((h) => h !== host);
  // A client ID URL proves its host (we fetched the document there); every name is only a claim.
  const verified = verifiedHost(client.clientId);
  const fields = html`<input type="hidden" name="request_id" value="${requestId}">
<input type="hidden" name="csrf_token" value="${csrf}">`;
  return renderPage(
    c,
    `Allow ${name}?`,
    html`<h1>Allow <strong>${verified ?? name}</strong>${
      verified ? "" : " (an unverified name)"
    } to use this MCP server as you?</h1>
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
<dt>Application</dt><dd>${name} <span class="${verified ? "claimed" : "unverified"}">${
      verified
        ? "(name claimed by the application)"
        : "(unverified: a name the application chose itself)"
    }</span>${
      client.clientUri
        ? html`
          · <code>${client.clientUri}</code>
        `
        : ""
    }</dd>
<dt>Returns you to</dt><dd><strong>${host}</strong><br><code>${request.redirectUri}</code></dd>
<dt>Access</dt><dd>Call the MCP tools at <code>${input.resource}</code> with the permissions your WorkOS account grants${
      request.scopes.length
        ? html`
          (scopes: <code>${request.scopes.join(" ")}</code>)
        `
        : ""
    }</dd>
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
<p class="muted">Next you sign in with WorkOS AuthKit. You can revoke this access at any time.</p>
<div class="actions"><button class="primary" type="submit">Approve</button></div>
</form>
<form method="post" action="/authorize">
${fields}
<input type="hidden" name="decision" value="deny">
<div class="actions"><button type="submit">Deny</button></div>
</form>`,
  );
}

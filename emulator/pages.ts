/**
 * The emulator's browser pages: the sign-in page of `/user_management/authorize` and small
 * message pages. Plain HTML with every value escaped and no scripts.
 *
 * @module
 */
import type { DemoUser, Organization } from "./users.ts";

/** The authorize query parameters the sign-in forms carry through as hidden fields. */
export const CARRIED_FIELDS = [
  "client_id",
  "redirect_uri",
  "response_type",
  "provider",
  "state",
  "code_challenge",
  "code_challenge_method",
  "organization_id",
] as const;

/** What the sign-in page shows. */
export interface SignInPageOptions {
  /** The authorize parameters to carry through (see {@linkcode CARRIED_FIELDS}). */
  params: Record<string, string>;
  users: DemoUser[];
  organizations: Organization[];
  /** Prefills the email input (`login_hint`). */
  email?: string;
  /** An error to show above the form. */
  error?: string;
}

const STYLE =
  "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}" +
  ".banner{background:#fff3cd;border:2px solid #d39e00;padding:.75rem 1rem;font-weight:bold}" +
  ".error{color:#a40000;font-weight:bold}table{border-collapse:collapse;width:100%}" +
  "td,th{border:1px solid #ccc;padding:.4rem;text-align:left;vertical-align:top}";

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<p class="banner">LOCAL AUTHKIT EMULATOR: this is not WorkOS. For development and tests only.</p>
${body}
</body>
</html>
`;
}

function hiddenFields(params: Record<string, string>): string {
  return CARRIED_FIELDS
    .filter((name) => params[name] !== undefined)
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(params[name] ?? "")}">`)
    .join("\n");
}

function describeAccess(user: DemoUser, organizations: Organization[]): string {
  const lines = user.memberships.map((m) => {
    const org = organizations.find((o) => o.id === m.organization_id);
    const roles = m.roles ?? [m.role];
    return `${org?.name ?? m.organization_id} (${m.organization_id}): role ${roles.join(", ")}; ` +
      `permissions: ${m.permissions.join(", ") || "none"}`;
  });
  if (user.memberships.length === 0 || user.permissions.length > 0) {
    lines.unshift(`No organization; permissions: ${user.permissions.join(", ") || "none"}`);
  }
  return lines.map((line) => escapeHtml(line)).join("<br>");
}

/** The sign-in page: the first form posts the typed email; later forms sign in one demo user. */
export function renderSignInPage(options: SignInPageOptions): string {
  const hidden = hiddenFields(options.params);
  const rows = options.users.map((user) => {
    const name = `${user.first_name} ${user.last_name}`;
    return `<tr><td>${escapeHtml(user.email)}</td><td>${escapeHtml(name)}</td>
<td>${describeAccess(user, options.organizations)}</td>
<td><form method="post" action="/user_management/authorize">
${hidden}
<input type="hidden" name="email" value="${escapeHtml(user.email)}">
<button type="submit">Sign in as ${escapeHtml(user.first_name)}</button>
</form></td></tr>`;
  });
  const error = options.error
    ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>`
    : "";
  return page(
    "Sign in (local AuthKit emulator)",
    `<h1>Sign in</h1>
${error}
<form method="post" action="/user_management/authorize">
${hidden}
<label>Email <input type="email" name="email" required value="${
      escapeHtml(options.email ?? "")
    }"></label>
<button type="submit">Sign in</button>
</form>
<h2>Demo users</h2>
<p>No password is needed. Edit the users file (or use the <code>/_emulator</code> admin endpoints) to change them.</p>
<table>
<thead><tr><th>Email</th><th>Name</th><th>Organizations and permissions</th><th></th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>`,
  );
}

/** A small page with a heading and one paragraph (errors, "signed out"). */
export function renderMessagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}

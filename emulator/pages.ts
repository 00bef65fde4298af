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

/**
 * Inline styles (the emulator's pages stand alone: it also runs without our app). Light and dark, every
 * text color at least 4.5:1 on its background, buttons at least 44 px tall, no fixed widths.
 */
const STYLE = `
:root{color-scheme:light dark;--bg:#f3f4f6;--card:#fff;--text:#111827;--muted:#4b5563;--border:#d1d5db;
--accent:#4f46e5;--on-accent:#fff;--banner-bg:#fef3c7;--banner-edge:#b45309;--err:#b91c1c}
@media (prefers-color-scheme:dark){:root{--bg:#0b1220;--card:#1f2937;--text:#f9fafb;--muted:#c1c7d0;
--border:#4b5563;--banner-bg:#3b2a06;--banner-edge:#f59e0b;--err:#fca5a5}}
*{box-sizing:border-box}
body{margin:0;padding:1rem;background:var(--bg);color:var(--text);font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
main{max-width:40rem;margin:0 auto;background:var(--card);border-radius:12px;padding:1.25rem}
h1{font-size:1.35rem;margin:0 0 .75rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.banner{max-width:40rem;margin:0 auto 1rem;background:var(--banner-bg);color:var(--text);
border-left:4px solid var(--banner-edge);padding:.75rem 1rem;font-weight:600;border-radius:4px}
.error{color:var(--err);font-weight:600}.muted{color:var(--muted)}
code,pre{overflow-wrap:anywhere;white-space:pre-wrap}
label{display:block;font-weight:600;margin:.5rem 0}
input[type=email]{display:block;width:100%;min-height:44px;margin-top:.25rem;padding:.5rem .75rem;font:inherit;
color:var(--text);background:var(--card);border:1px solid var(--border);border-radius:8px}
button{display:block;width:100%;min-height:44px;margin-top:.75rem;padding:.6rem 1rem;font:inherit;font-weight:600;
border-radius:8px;cursor:pointer;border:1px solid var(--accent);background:var(--accent);color:var(--on-accent)}
ul.users{list-style:none;padding:0;margin:0}
ul.users li{border:1px solid var(--border);border-radius:10px;padding:.75rem 1rem;margin:.75rem 0}
ul.users button{background:transparent;color:var(--text);border-color:var(--border)}
`;

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
<main>
${body}
</main>
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
    return `<li><strong>${escapeHtml(name)}</strong> <span class="muted">${
      escapeHtml(user.email)
    }</span>
<br><span class="muted">${describeAccess(user, options.organizations)}</span>
<form method="post" action="/user_management/authorize">
${hidden}
<input type="hidden" name="email" value="${escapeHtml(user.email)}">
<button type="submit">Sign in as ${escapeHtml(user.first_name)}</button>
</form></li>`;
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
<label>Email <input type="email" name="email" required autocomplete="email" value="${
      escapeHtml(options.email ?? "")
    }"></label>
<button type="submit">Sign in</button>
</form>
<h2>Demo users</h2>
<p class="muted">No password is needed. Edit the users file (AUTHKIT_EMULATOR_USERS) or use the
<code>/_emulator</code> admin endpoints to change them.</p>
<ul class="users">
${rows.join("\n")}
</ul>`,
  );
}

/** A small page with a heading and paragraphs (errors, "signed out"). */
export function renderMessagePage(title: string, message: string, ...more: string[]): string {
  const paragraphs = [message, ...more].map((p) => `<p>${escapeHtml(p)}</p>`).join("\n");
  return page(title, `<h1>${escapeHtml(title)}</h1>\n${paragraphs}`);
}

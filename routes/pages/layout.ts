/**
 * The one small layout every page shares (consent, errors; later the organization picker and account
 * page): readable on a phone, no inline scripts or styles, and security headers that forbid framing.
 *
 * @module
 */
import type { Context } from "hono";
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

/** Page content, escaped by `html```. */
export type PageBody = HtmlEscapedString | Promise<HtmlEscapedString>;

/**
 * CSP for our pages: nothing but our own stylesheet and images; no scripts at all; no framing. No
 * `form-action`: browsers apply it to the redirects after a form post, which go to AuthKit and to the
 * client's redirect URI.
 */
export const PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

/** Renders `body` in the layout with security headers. */
export function renderPage(
  c: Context,
  title: string,
  body: PageBody,
  status = 200,
): Response | Promise<Response> {
  c.header("content-security-policy", PAGE_CSP);
  c.header("x-frame-options", "DENY");
  c.header("x-content-type-options", "nosniff");
  c.header("referrer-policy", "no-referrer");
  c.header("cache-control", "no-store");
  return c.html(
    html`
      <!doctype html>
      <html lang="en">
        <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <title>${title}</title>
          <link rel="stylesheet" href="/assets/style.css">
        </head>
        <body>
          <main class="card">
      ${body}
          </main>
          <footer>Secured by WorkOS AuthKit · MCP server</footer>
        </body>
      </html>
    `,
    status as 200,
  );
}

/** The shared stylesheet, served at `/assets/style.css`. */
export const STYLESHEET = `
:root { color-scheme: light dark; --accent: #4f46e5; --muted: #6b7280; --border: #d1d5db; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; flex-direction: column; align-items: center;
  justify-content: center; padding: 1rem; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
  background: #f3f4f6; color: #111827; }
@media (prefers-color-scheme: dark) { body { background: #111827; color: #f9fafb; } .card { background: #1f2937; } }
.card { width: 100%; max-width: 28rem; background: #fff; border-radius: 12px; padding: 1.5rem;
  box-shadow: 0 1px 3px rgba(0,0,0,.12), 0 8px 24px rgba(0,0,0,.06); }
h1 { font-size: 1.35rem; margin: 0 0 .75rem; }
p { margin: .5rem 0; }
.muted, footer { color: var(--muted); font-size: .875rem; }
footer { margin-top: 1rem; }
dl { margin: 1rem 0; display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; }
dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
ul { padding-left: 1.25rem; }
code { font-size: .9em; overflow-wrap: anywhere; }
.warning { border-left: 4px solid #f59e0b; padding: .5rem .75rem; background: rgba(245,158,11,.1); }
.error { border-left: 4px solid #dc2626; padding: .5rem .75rem; background: rgba(220,38,38,.08); }
.actions { display: flex; gap: .75rem; margin-top: 1.25rem; }
.actions form { flex: 1; }
button { width: 100%; padding: .7rem 1rem; font: inherit; font-weight: 600; border-radius: 8px; cursor: pointer;
  border: 1px solid var(--border); background: transparent; color: inherit; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
ul.connections, ul.activity { list-style: none; padding: 0; margin: 0; }
li.connection { border: 1px solid var(--border); border-radius: 10px; padding: .75rem 1rem; margin: .75rem 0; }
li.connection dl { margin: .5rem 0; }
ul.activity li { padding: .25rem 0; border-bottom: 1px solid var(--border); font-size: .9rem; overflow-wrap: anywhere; }
form.choice { margin: .5rem 0; }
`;

/**
 * The one small layout every page shares (home, consent, errors, the organization picker, the account
 * page): readable on a phone, no inline scripts or styles, and security headers that forbid framing.
 *
 * @module
 */
import type { Context } from "hono";
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { type Brand, brandOf } from "./brand.ts";

/** Page content, escaped by `html```. */
export type PageBody = HtmlEscapedString | Promise<HtmlEscapedString>;

/**
 * CSP for our pages: nothing but our own stylesheet and images (plus the configured logo's origin); no
 * scripts at all; no framing. No `form-action`: browsers apply it to the redirects after a form post,
 * which go to AuthKit and to the client's redirect URI.
 */
export const PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

function cspFor(brand: Brand): string {
  if (!brand.logoUrl) return PAGE_CSP;
  return PAGE_CSP.replace(
    "img-src 'self' data:",
    `img-src 'self' data: ${new URL(brand.logoUrl).origin}`,
  );
}

/** Options of {@linkcode renderPage}. */
export interface PageOptions {
  /** Whether the footer links to `/account` (default true; the account page itself does not). */
  accountLink?: boolean;
}

/** Renders `body` in the layout, under the server's brand, with security headers. */
export function renderPage(
  c: Context,
  title: string,
  body: PageBody,
  status = 200,
  options: PageOptions = {},
): Response | Promise<Response> {
  const brand = brandOf(c);
  c.header("content-security-policy", cspFor(brand));
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
          <title>${title} · ${brand.name}</title>
          <link rel="icon" href="/favicon.svg" type="image/svg+xml">
          <link rel="stylesheet" href="/assets/style.css">
        </head>
        <body>
          <main class="card">
            <p class="brand">${brand.logoUrl
              ? html`
                <img src="${brand.logoUrl}" alt="">
              `
              : ""}<span>${brand.name}</span></p>
      ${body}
          </main>
          <footer>${brand.name} · secured by WorkOS AuthKit${options.accountLink === false
            ? ""
            : html`
              · <a href="/account">Your connected applications</a>
            `}</footer>
        </body>
      </html>
    `,
    status as 200,
  );
}

/**
 * Branding of our pages (SERVER_NAME, SERVER_LOGO_URL, SERVER_ACCENT_COLOR): carried on the Hono context
 * by {@linkcode brandPages}, so page functions read it without every route passing it along. Also the
 * stylesheet and the favicon, which depend on the accent color.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { DEFAULT_ACCENT_COLOR, DEFAULT_SERVER_NAME } from "../../lib/config.ts";

/** What pages show of the server. */
export interface Brand {
  readonly name: string;
  readonly logoUrl: string | undefined;
  /** `#rrggbb`. */
  readonly accentColor: string;
}

declare module "hono" {
  interface ContextVariableMap {
    brand: Brand;
  }
}

/** The brand used when none is set on the context (tests that mount one route). */
export const DEFAULT_BRAND: Brand = Object.freeze({
  name: DEFAULT_SERVER_NAME,
  logoUrl: undefined,
  accentColor: DEFAULT_ACCENT_COLOR,
});

/** Middleware that makes `brand` available to every page rendered under it. */
export function brandPages(brand: Brand): MiddlewareHandler {
  // Not async: a passing middleware returns `next()` itself (one async frame less per request).
  return function setBrand(c, next) {
    c.set("brand", brand);
    return next();
  };
}

/** The brand of the request `c`. */
export function brandOf(c: Context): Brand {
  return c.get("brand") ?? DEFAULT_BRAND;
}

/** WCAG 2.x relative luminance of `#rrggbb`. */
export function luminance(hex: string): number {
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const [r, g, b] = channels.map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** WCAG contrast ratio of two `#rrggbb` colors (1 to 21). */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/**
 * The text color that reads best on `background`: white or near-black (pure black where near-black
 * falls short). One of white and black always reaches 4.58:1, so any accent color gets AA text.
 */
export function textOn(background: string): "#ffffff" | "#111827" | "#000000" {
  if (contrast(background, "#ffffff") >= contrast(background, "#000000")) return "#ffffff";
  return contrast(background, "#111827") >= 4.5 ? "#111827" : "#000000";
}

/**
 * The shared stylesheet, served at `/assets/style.css`. Every color is a custom property with a light
 * and a dark value, so `prefers-color-scheme: dark` switches card, text, boxes and buttons together;
 * every pair used for text is at least 4.5:1 (WCAG 2.2 AA, 1.4.3), checked in tests/e2e.
 */
export function stylesheet(brand: Brand): string {
  const accent = brand.accentColor;
  return `
:root { color-scheme: light dark; --accent: ${accent}; --on-accent: ${textOn(accent)};
  --bg: #f3f4f6; --card: #ffffff; --text: #111827; --muted: #4b5563; --border: #d1d5db; --link: #3730a3;
  --warn-bg: #fef3c7; --warn-edge: #b45309; --err-bg: #fee2e2; --err-edge: #b91c1c;
  --danger: #b91c1c; --on-danger: #ffffff; --shadow: 0 1px 3px rgba(0,0,0,.12), 0 8px 24px rgba(0,0,0,.06); }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0b1220; --card: #1f2937; --text: #f9fafb; --muted: #c1c7d0; --border: #4b5563; --link: #c7d2fe;
    --warn-bg: #3b2a06; --warn-edge: #f59e0b; --err-bg: #3f1111; --err-edge: #f87171;
    --danger: #b91c1c; --shadow: 0 1px 3px rgba(0,0,0,.5); }
}
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; flex-direction: column; align-items: center;
  justify-content: center; padding: 1rem; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
  background: var(--bg); color: var(--text); }
.card { width: 100%; max-width: 30rem; background: var(--card); color: var(--text); border-radius: 12px;
  padding: 1.5rem; box-shadow: var(--shadow); }
.brand { display: flex; align-items: center; gap: .5rem; margin: 0 0 1rem; font-weight: 600; color: var(--text); }
.brand img { width: 32px; height: 32px; object-fit: contain; }
h1 { font-size: 1.35rem; margin: 0 0 .75rem; line-height: 1.3; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
p { margin: .5rem 0; }
a { color: var(--link); }
.muted, footer, dt { color: var(--muted); }
.muted, footer { font-size: .875rem; }
footer { margin-top: 1rem; text-align: center; }
dl { margin: 1rem 0; display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; }
dd { margin: 0; overflow-wrap: anywhere; }
ul { padding-left: 1.25rem; }
code { font-size: .9em; overflow-wrap: anywhere; }
.warning { border-left: 4px solid var(--warn-edge); padding: .5rem .75rem; background: var(--warn-bg);
  color: var(--text); border-radius: 4px; }
.error, .notice { border-left: 4px solid var(--err-edge); padding: .5rem .75rem; background: var(--err-bg);
  color: var(--text); border-radius: 4px; }
.notice { border-left-color: var(--accent); background: transparent; }
.actions { display: flex; gap: .75rem; margin-top: 1.25rem; }
.actions form { flex: 1; }
button, .button { display: block; width: 100%; min-height: 44px; padding: .7rem 1rem; font: inherit; font-weight: 600;
  border-radius: 8px; cursor: pointer; border: 1px solid var(--border); background: var(--card); color: var(--text);
  text-align: center; text-decoration: none; }
button.primary, .button.primary { background: var(--accent); border-color: var(--accent); color: var(--on-accent); }
button.danger { background: var(--danger); border-color: var(--danger); color: var(--on-danger); }
details.confirm summary { cursor: pointer; color: var(--text); }
ul.connections, ul.activity { list-style: none; padding: 0; margin: 0; }
li.connection { border: 1px solid var(--border); border-radius: 10px; padding: .75rem 1rem; margin: .75rem 0; }
li.connection dl { margin: .5rem 0; }
ul.sessions { list-style: none; padding: 0; margin: .25rem 0; }
ul.sessions > li + li { border-top: 1px solid var(--border); margin-top: .75rem; padding-top: .5rem; }
ul.activity li { padding: .25rem 0; border-bottom: 1px solid var(--border); font-size: .9rem; overflow-wrap: anywhere; }
form.choice { margin: .5rem 0; }
`;
}

/** The favicon: a rounded square in the accent color with a key-hole, as SVG. */
export function favicon(brand: Brand): string {
  const fg = textOn(brand.accentColor);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" ` +
    `fill="${brand.accentColor}"/><circle cx="16" cy="13" r="5" fill="${fg}"/>` +
    `<path d="M14 16h4l1.5 9h-7z" fill="${fg}"/></svg>`;
}

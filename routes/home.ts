/**
 * `/` (what this server is and how to connect), the shared stylesheet and the favicon.
 *
 * @module
 */
import { Hono } from "hono";
import { html } from "hono/html";
import { type Config, resources } from "../lib/config.ts";
import { favicon, stylesheet } from "./pages/brand.ts";
import { renderPage } from "./pages/layout.ts";

/** The home page, `/assets/style.css` and `/favicon.svg` (also at `/favicon.ico`). */
export function homeRoutes(config: Config): Hono {
  const app = new Hono();
  const r = resources(config);
  const css = stylesheet(config.brand);
  const icon = favicon(config.brand);
  const cached = { "cache-control": "public, max-age=3600" };
  app.get(
    "/assets/style.css",
    (c) => c.body(css, 200, { "content-type": "text/css; charset=utf-8", ...cached }),
  );
  for (const path of ["/favicon.svg", "/favicon.ico"]) {
    app.get(path, (c) => c.body(icon, 200, { "content-type": "image/svg+xml", ...cached }));
  }
  app.get("/", (c) =>
    renderPage(
      c,
      "Connect",
      html`<h1>Connect an MCP client</h1>
<p>${config.brand.name} is an MCP server: you sign in with WorkOS AuthKit and use the tools your
permissions allow.</p>
<p>Add this URL to your MCP client (Claude, Claude Code, Cursor, VS Code, MCP Inspector):</p>
<p><code>${r.mcp}</code></p>
<p class="muted">Older clients that speak the 2024 SSE transport use <code>${r.sse}</code>.</p>
${
        config.mode === "emulator"
          ? html`
            <p
              class="warning">Running with the local AuthKit emulator: sign in as a demo user such as alice@example.com.</p>
          `
          : ""
      }
<div class="actions"><a class="button" href="/account">Your connected applications</a></div>`,
      200,
      { accountLink: false },
    ));
  return app;
}

/**
 * `/` (what this server is and how to connect) and the shared stylesheet.
 *
 * @module
 */
import { Hono } from "hono";
import { html } from "hono/html";
import { type Config, resources } from "../lib/config.ts";
import { renderPage, STYLESHEET } from "./pages/layout.ts";

/** The home page and `/assets/style.css`. */
export function homeRoutes(config: Config): Hono {
  const app = new Hono();
  const r = resources(config);
  app.get(
    "/assets/style.css",
    (c) =>
      c.body(STYLESHEET, 200, {
        "content-type": "text/css; charset=utf-8",
        "cache-control": "public, max-age=3600",
      }),
  );
  app.get("/", (c) =>
    renderPage(
      c,
      "MCP server",
      html`<h1>MCP server with WorkOS AuthKit</h1>
<p>Connect an MCP client to <code>${r.mcp}</code> (Streamable HTTP) or <code>${r.sse}</code> (legacy SSE).
You sign in with WorkOS AuthKit and see only the tools your permissions allow.</p>
${
        config.mode === "emulator"
          ? html`
            <p
              class="warning">Running with the local AuthKit emulator: sign in as a demo user such as alice@example.com.</p>
          `
          : ""
      }`,
    ));
  return app;
}

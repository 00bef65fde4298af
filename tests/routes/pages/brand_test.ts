import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { contrast, stylesheet, textOn } from "../../../routes/pages/brand.ts";
import { authorizeUrl, register } from "../../helpers/oauth.ts";
import { startTestServer } from "../../helpers/server.ts";

Deno.test("textOn() picks the text color that reads best, at least 4.5:1 on any accent", () => {
  assertEquals(textOn("#4f46e5"), "#ffffff");
  assertEquals(textOn("#facc15"), "#111827");
  for (
    const accent of ["#000000", "#ffffff", "#4f46e5", "#facc15", "#0f766e", "#ef4444", "#808080"]
  ) {
    assert(contrast(accent, textOn(accent)) >= 4.5, accent);
  }
  assertEquals(Math.round(contrast("#ffffff", "#000000")), 21);
});

Deno.test("stylesheet() switches every color with prefers-color-scheme: dark", () => {
  const css = stylesheet({ name: "x", logoUrl: undefined, accentColor: "#facc15" });
  assertStringIncludes(css, "--accent: #facc15; --on-accent: #111827;");
  const dark = css.slice(css.indexOf("@media (prefers-color-scheme: dark)"));
  for (const name of ["--bg", "--card", "--text", "--muted", "--warn-bg", "--err-bg", "--link"]) {
    assertStringIncludes(dark, `${name}:`);
  }
});

Deno.test("pages carry SERVER_NAME, SERVER_LOGO_URL (allowed by the CSP) and SERVER_ACCENT_COLOR; a favicon is served", async () => {
  await using server = await startTestServer({
    SERVER_NAME: "Acme Tools",
    SERVER_LOGO_URL: "https://cdn.example.com/logo.svg",
    SERVER_ACCENT_COLOR: "#0f766e",
  });
  const home = await fetch(`${server.url}/`);
  const body = await home.text();
  assertStringIncludes(body, "Acme Tools is an MCP server");
  assertStringIncludes(body, "<span>Acme Tools</span>");
  assertStringIncludes(body, '<img src="https://cdn.example.com/logo.svg" alt="">');
  assertStringIncludes(body, 'href="/account"');
  assertStringIncludes(
    home.headers.get("content-security-policy") ?? "",
    "img-src 'self' data: https://cdn.example.com;",
  );
  const css = await (await fetch(`${server.url}/assets/style.css`)).text();
  assertStringIncludes(css, "--accent: #0f766e;");
  for (const path of ["/favicon.ico", "/favicon.svg"]) {
    const icon = await fetch(`${server.url}${path}`);
    assertEquals(icon.status, 200, path);
    assertEquals(icon.headers.get("content-type"), "image/svg+xml");
    assertStringIncludes(await icon.text(), 'fill="#0f766e"');
  }
  const client = await register(server.url, { client_name: "Brand Client" });
  const consent = await (await fetch((await authorizeUrl(server.url, client.client_id)).url))
    .text();
  assertStringIncludes(
    consent,
    "Allow <strong>Brand Client</strong> (an unverified name) to use Acme Tools as you?",
  );
  assertStringIncludes(consent, "<title>Allow Brand Client? · Acme Tools</title>");
  const signedOut = await fetch(`${server.url}/account/signed-out`);
  assertEquals(signedOut.status, 200);
  assertStringIncludes(await signedOut.text(), "You are signed out");
});

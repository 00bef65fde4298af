/**
 * A browser-based MCP client in real Chromium: a page served from an allowed origin (ALLOWED_ORIGINS)
 * signs in (discovery from the 401's exposed `WWW-Authenticate`, registration, consent, AuthKit, token)
 * and calls a tool on `/mcp` with fetch(); the same page served from another origin is refused by the
 * browser's CORS check.
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { browserForTests, withChromium } from "../helpers/chromium.ts";
import { signIn } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

const BROWSER = await browserForTests();

const PAGE = await Deno.readTextFile(new URL("./fixtures/browser_client.html", import.meta.url));

/** Serves the client page at every path of a loopback origin. */
function servePage(): { origin: string } & AsyncDisposable {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } }),
  );
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

async function output(page: import("playwright-core").Page): Promise<Record<string, unknown>> {
  await page.waitForFunction(
    () =>
      (globalThis as unknown as {
        document: { getElementById(id: string): { textContent: string } };
      })
        .document.getElementById("out")?.textContent !== "",
    undefined,
    { timeout: 15_000 },
  );
  return JSON.parse(await page.locator("#out").innerText());
}

Deno.test({
  name:
    "Chromium: a page on an allowed origin signs in and calls a tool; another origin is refused",
  ignore: !BROWSER,
}, async () => {
  await using allowed = servePage();
  await using other = servePage();
  await using server = await startTestServer({ ALLOWED_ORIGINS: allowed.origin });
  await withChromium(async ({ page }) => {
    await page.goto(`${allowed.origin}/app?server=${encodeURIComponent(server.url)}`);
    await page.waitForURL((url) => url.pathname === "/authorize", { timeout: 15_000 });
    await page.getByRole("button", { name: "Approve" }).click();
    await page.getByRole("button", { name: "Sign in as Alice" }).click(); // the emulator's AuthKit
    await page.waitForURL((url) => url.origin === allowed.origin && url.pathname === "/callback");
    const result = await output(page) as { signedIn: boolean; whoami: { email: string } };
    assertEquals(result.signedIn, true, JSON.stringify(result));
    assertEquals(result.whoami.email, "alice@example.com");

    // The same call with a valid token from an origin that is not allowed: the browser refuses it.
    const { accessToken } = await signIn(server.url, "alice@example.com");
    await page.goto(
      `${other.origin}/probe?server=${encodeURIComponent(server.url)}&token=${accessToken}`,
    );
    const refused = await output(page) as { failed?: string };
    assertStringIncludes(String(refused.failed), "Failed to fetch");
    // And from the allowed origin the very same probe succeeds.
    await page.goto(
      `${allowed.origin}/probe?server=${encodeURIComponent(server.url)}&token=${accessToken}`,
    );
    const ok = await output(page) as { whoami?: { email: string } };
    assertEquals(ok.whoami?.email, "alice@example.com");
  });
});

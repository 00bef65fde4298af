/**
 * The consent page in real Chromium: a client ID metadata document client is shown by its verified host
 * with its name as a claim, a dynamically registered one with its name marked unverified. Screenshots
 * (light and dark, phone and desktop) go to `tests/artifacts/`.
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { startMetadataServer, TEST_CA } from "../helpers/metadata_server.ts";
import { authorizeUrl, register } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";
import { ARTIFACTS, browserForTests, withChromium } from "../helpers/chromium.ts";

const BROWSER = await browserForTests();

const WIDTHS = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 900 } };

Deno.test({
  name:
    "consent in Chromium: verified host for a metadata client, unverified name for a registered one",
  ignore: !BROWSER,
}, async () => {
  await using docs = startMetadataServer();
  const cimdId = docs.serveClient("/oauth/client.json", { client_name: "Claude (claimed)" });
  await using server = await startTestServer({ CIMD_ALLOW_LOOPBACK: "true" }, {
    cimd: { caCerts: [TEST_CA] },
  });
  const dcr = await register(server.url, { client_name: "Claude" });
  const pages = {
    cimd: (await authorizeUrl(server.url, cimdId)).url,
    dcr: (await authorizeUrl(server.url, dcr.client_id)).url,
  };
  for (const [width, viewport] of Object.entries(WIDTHS)) {
    await withChromium(async ({ page }) => {
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        const cimd = await page.goto(pages.cimd);
        assertEquals(cimd?.status(), 200);
        assertEquals(
          (await page.locator("h1 strong").innerText()).trim(),
          `localhost:${docs.port}`,
        );
        assertStringIncludes(await page.locator("dd.verified").innerText(), cimdId);
        assertStringIncludes(
          await page.locator(".claimed").innerText(),
          "name claimed by the application",
        );
        await page.screenshot({
          path: new URL(`consent-cimd-${width}-${scheme}.png`, ARTIFACTS).pathname,
          fullPage: true,
        });
        const registered = await page.goto(pages.dcr);
        assertEquals(registered?.status(), 200);
        assertEquals((await page.locator("h1 strong").innerText()).trim(), "Claude");
        assertStringIncludes(await page.locator(".unverified").innerText(), "unverified");
        assertEquals(await page.locator("dd.verified").count(), 0);
        await page.screenshot({
          path: new URL(`consent-dcr-${width}-${scheme}.png`, ARTIFACTS).pathname,
          fullPage: true,
        });
      }
    }, { viewport });
  }
});

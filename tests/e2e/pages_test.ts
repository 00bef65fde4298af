/**
 * Real-browser tests of our pages: headless Chromium (found by tests/helpers/chromium.ts, driven by
 * playwright-core) against the real server with the AuthKit emulator on the same origin. They check what
 * the scripted-browser tests cannot: the CSP lets the stylesheet load and nothing else is refused, the
 * pages read in light and dark at phone and desktop widths (a WCAG AA contrast check on every text
 * element, from the computed colors), the forms work when a browser submits them, cookies (`__Host-`,
 * `Secure`) survive a real browser on `http://localhost`, and framing is refused.
 *
 * Screenshots go to `tests/e2e/artifacts/` (git-ignored). Without a browser these tests are skipped with
 * one loud line saying how to install one; `REQUIRE_BROWSER=1` (set by `.ci/run`) makes that a failure.
 *
 * @module
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import type { Browser, BrowserContext, Page, Response as PageResponse } from "playwright-core";
import { browserForTests, launchChromium } from "../helpers/chromium.ts";
import { INITIALIZE, postMcp } from "../helpers/mcp_clients.ts";
import { authorizeUrl, REDIRECT_URI, register } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

const BROWSER = await browserForTests();
/** A test that needs the browser: skipped (after the loud line above) when none was found. */
function e2eTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: !BROWSER, fn });
}
const ARTIFACTS = new URL("./artifacts/", import.meta.url);
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
/** `rgb()` of `--accent` (#4f46e5), the primary button's background once the stylesheet applies. */
const ACCENT = "rgb(79, 70, 229)";
/** WCAG 2.2 AA minimum contrast for text (1.4.3), applied to every text element, large or not. */
const AA = 4.5;

// The browser globals the page functions below use: they run in Chromium, while this file is
// type-checked without the DOM library.
declare const document: { documentElement: { scrollWidth: number } };
declare function getComputedStyle(element: unknown): {
  backgroundColor: string;
  borderTopLeftRadius: string;
  borderLeftWidth: string;
};

/** A browser page with the console errors that name the Content Security Policy. */
interface Session {
  context: BrowserContext;
  page: Page;
  cspErrors: string[];
}

/** How a context is set up: color scheme and viewport (default light, phone). */
interface Look {
  scheme?: "light" | "dark";
  viewport?: { width: number; height: number };
}

/** Launches the browser found for these tests (with `args` added), runs `fn`, closes it. */
async function launch<T>(fn: (browser: Browser) => Promise<T>): Promise<T> {
  if (!BROWSER) throw new Error("no browser (the test should have been skipped)");
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  // The test clients' redirect URI uses port 9 (discard), which Chromium refuses as unsafe
  // (net::ERR_UNSAFE_PORT) before any route could answer it.
  const browser = await launchChromium({ allowedPorts: [Number(new URL(REDIRECT_URI).port)] });
  try {
    return await fn(browser);
  } finally {
    await browser.close();
  }
}

/** Opens a context in `look` on `browser`, runs `fn`, closes the context. */
async function inContext(
  browser: Browser,
  look: Look,
  fn: (session: Session) => Promise<void>,
): Promise<void> {
  const context = await browser.newContext({
    viewport: look.viewport ?? PHONE,
    colorScheme: look.scheme ?? "light",
  });
  try {
    const page = await context.newPage();
    const cspErrors: string[] = [];
    page.on("console", (msg) => {
      if (/content security policy/i.test(msg.text())) cspErrors.push(msg.text());
    });
    await answerClientRedirects(context, page);
    await fn({ context, page, cspErrors });
  } finally {
    await context.close();
  }
}

/**
 * Launches Chromium with a phone-sized light context, runs `fn` and closes everything. The client's
 * redirect URI (`http://127.0.0.1:9/callback`) is never served: requests to it are answered with "ok"
 * ({@linkcode answerClientRedirects}).
 */
async function withBrowser(fn: (session: Session) => Promise<void>, look: Look = {}) {
  await launch((browser) => inContext(browser, look, fn));
}

/**
 * Answers every request to the client's redirect URI origin with "ok", so the browser lands there.
 * `page.route()` cannot do it: Playwright never calls route handlers for a redirect's target, and the
 * browser only ever reaches the redirect URI through our 302s. Chromium's own Fetch domain does pause
 * redirect targets, so it is used directly.
 */
async function answerClientRedirects(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page);
  cdp.on("Fetch.requestPaused", (event) => {
    cdp.send("Fetch.fulfillRequest", {
      requestId: event.requestId,
      responseCode: 200,
      responseHeaders: [{ name: "content-type", value: "text/plain" }],
      body: btoa("ok"),
    }).catch(() => {}); // the page may be gone by then (a favicon request at the end of a test)
  });
  await cdp.send("Fetch.enable", {
    patterns: [{ urlPattern: `${new URL(REDIRECT_URI).origin}/*` }],
  });
}

/**
 * Asserts the stylesheet applied to the first `button` (rounded, and `background` if given) and that
 * the page does not overflow the phone's width.
 */
async function assertStyledAndFits(page: Page, button: string, background?: string) {
  const style = await page.locator(button).first().evaluate((el) => {
    const s = getComputedStyle(el);
    return { background: s.backgroundColor, radius: s.borderTopLeftRadius };
  });
  // Chromium's default button has a 0px radius; ours is rounded.
  assertEquals(style.radius, "8px", `stylesheet not applied to ${button}`);
  if (background) assertEquals(style.background, background);
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(
    scrollWidth <= PHONE.width,
    `horizontal overflow on ${page.url()}: scrollWidth ${scrollWidth} > ${PHONE.width}`,
  );
}

function screenshot(page: Page, name: string, fullPage = true): Promise<Uint8Array> {
  return page.screenshot({ path: new URL(name, ARTIFACTS).pathname, fullPage });
}

/** Resolves once the page has navigated to a URL starting with `prefix` (after `action`). */
async function navigate(page: Page, action: () => Promise<unknown>, prefix: string) {
  await Promise.all([page.waitForURL((u) => u.href.startsWith(prefix)), action()]);
}

/** Submits the emulator's sign-in form (its first form) as `email`. */
async function emulatorSignIn(page: Page, email: string, next: string) {
  assertEquals(new URL(page.url()).pathname, "/user_management/authorize");
  const form = page.locator("form").first();
  await form.locator('input[name="email"]').fill(email);
  await navigate(page, () => form.getByRole("button", { name: "Sign in" }).click(), next);
}

/** POSTs a JSON-RPC `initialize` to /mcp with `token`; resolves to the status. */
async function mcpStatus(base: string, token: string): Promise<number> {
  return (await postMcp(base, token, INITIALIZE)).status;
}

e2eTest(
  "consent page shows the client and its redirect host, is styled without CSP violations, fits a phone, and leads through sign-in and the organization picker back to the client",
  async () => {
    await using server = await startTestServer();
    const client = await register(server.url, { client_name: "E2E Consent Client" });
    const { url, state } = await authorizeUrl(server.url, client.client_id);
    await withBrowser(async ({ page, cspErrors }) => {
      const stylesheet = page.waitForResponse((r) => r.url() === `${server.url}/assets/style.css`);
      const response = await page.goto(url);
      assertEquals(response?.status(), 200);
      assertEquals((await stylesheet).status(), 200);

      assertStringIncludes(await page.locator("h1").innerText(), "E2E Consent Client");
      assertStringIncludes(await page.locator("main").innerText(), "127.0.0.1:9");
      const approve = page.locator("form").first().locator("button");
      assertEquals((await approve.innerText()).trim(), "Approve");
      await assertStyledAndFits(page, "button.primary", ACCENT);
      await screenshot(page, "consent.png");

      await navigate(page, () => approve.click(), `${server.url}/user_management/authorize`);
      await emulatorSignIn(page, "carol@example.com", `${server.url}/callback`);

      assertEquals(await page.locator("h1").innerText(), "Choose an organization");
      const acme = page.getByRole("button", { name: "Acme Corp" });
      assertEquals(await acme.count(), 1);
      assertEquals(await page.getByRole("button", { name: "Globex" }).count(), 1);
      await assertStyledAndFits(page, "form.choice button");
      await screenshot(page, "organization.png");

      await navigate(page, () => acme.click(), REDIRECT_URI);
      const back = new URL(page.url());
      assertEquals(`${back.origin}${back.pathname}`, REDIRECT_URI);
      assert(back.searchParams.get("code"), `no code in ${back.href}`);
      assertEquals(back.searchParams.get("state"), state);
      assertEquals(back.searchParams.get("iss"), server.url);
      assertEquals(await page.locator("body").innerText(), "ok");

      // The consent cookie (`__Host-`, Secure, on http://localhost) remembers the approval: the next
      // authorization of this client in this browser goes straight to sign-in.
      const again = await authorizeUrl(server.url, client.client_id);
      await page.goto(again.url);
      assertEquals(new URL(page.url()).pathname, "/user_management/authorize");
      assertEquals(cspErrors, []);
    });
  },
);

e2eTest(
  "account page lists a connected client with its activity, revokes it (its token then gets 401) and signs out",
  async () => {
    await using server = await startTestServer();
    const client = await register(server.url, { client_name: "E2E Account Client" });
    const { url, verifier, state } = await authorizeUrl(server.url, client.client_id);
    await withBrowser(async ({ page, cspErrors }) => {
      // A grant for alice, through the browser: consent, sign-in, back to the client; then the exchange.
      await page.goto(url);
      await navigate(
        page,
        () => page.getByRole("button", { name: "Approve" }).click(),
        `${server.url}/user_management/authorize`,
      );
      await emulatorSignIn(page, "alice@example.com", REDIRECT_URI);
      const back = new URL(page.url());
      assertEquals(back.searchParams.get("state"), state);
      const tokenRes = await fetch(`${server.url}/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          code: back.searchParams.get("code") ?? "",
          code_verifier: verifier,
          redirect_uri: REDIRECT_URI,
          client_id: client.client_id,
        }),
      });
      const tokens = await tokenRes.json();
      assertEquals(tokenRes.status, 200, JSON.stringify(tokens));
      const accessToken = String(tokens.access_token);
      assertEquals(await mcpStatus(server.url, accessToken), 200);

      // The account page has its own session: /account sends the browser to sign in first.
      await page.goto(`${server.url}/account`);
      await emulatorSignIn(page, "alice@example.com", `${server.url}/account`);
      assertEquals(new URL(page.url()).pathname, "/account");
      const main = page.locator("main");
      assertEquals(await page.locator("h1").innerText(), "Connected applications");
      assertStringIncludes(await main.innerText(), "alice@example.com");
      const row = page.locator("li.connection", { hasText: "E2E Account Client" });
      assertEquals(await row.count(), 1);
      assertStringIncludes(await row.innerText(), "127.0.0.1:9");
      assertStringIncludes(await row.innerText(), "Acme Corp", "organization shown by name");
      // Revoking is two steps: open the confirmation, then the red button.
      const revoke = row.getByRole("button", { name: "Revoke access" });
      assertEquals(await revoke.isVisible(), false, "revoke needs a confirmation first");
      await row.locator("summary", { hasText: "Revoke access" }).click();
      assertEquals(await revoke.isVisible(), true);
      const danger = await revoke.evaluate((el) => getComputedStyle(el).backgroundColor);
      assertEquals(danger, "rgb(185, 28, 28)", "revoke is styled as destructive");
      const activity = await page.locator("ul.activity").innerText();
      assertStringIncludes(activity, "Signed in");
      assertStringIncludes(activity, "E2E Account Client", "activity names the client, not its id");
      assertEquals(activity.includes(client.client_id), false);
      await assertStyledAndFits(page, "li.connection button");
      await screenshot(page, "account.png");

      const reloaded = page.waitForResponse((r) =>
        r.url() === `${server.url}/account` && r.request().method() === "GET"
      );
      await revoke.click();
      assertEquals((await reloaded).status(), 200);
      await page.waitForLoadState();
      assertEquals(
        await page.locator("li.connection", { hasText: "E2E Account Client" }).count(),
        0,
      );
      assertStringIncludes(await main.innerText(), "No application is connected to your account.");
      assertStringIncludes(await page.locator("ul.activity").innerText(), "Access revoked");
      assertEquals(await mcpStatus(server.url, accessToken), 401);

      // Sign-out ends at the emulator's logout, which returns the browser to a signed-out page.
      const signedOut = `${server.url}/account/signed-out`;
      await Promise.all([
        page.waitForURL(signedOut),
        page.getByRole("button", { name: "Sign out" }).click(),
      ]);
      assertEquals(await page.locator("h1").innerText(), "You are signed out");
      // Signed out: the account page asks to sign in again.
      await page.goto(`${server.url}/account`);
      assertEquals(new URL(page.url()).pathname, "/user_management/authorize");
      assertEquals(cspErrors, []);
    });
  },
);

e2eTest(
  "error page shows invalid_client with status 400 for an unknown client, styled and phone-sized",
  async () => {
    await using server = await startTestServer();
    await withBrowser(async ({ page, cspErrors }) => {
      const response = await page.goto(`${server.url}/authorize?client_id=unknown`);
      assertEquals(response?.status(), 400);
      assertStringIncludes(await page.locator("main").innerText(), "invalid_client");
      assertEquals(await page.locator("h1").innerText(), "Sign-in stopped");
      const border = await page.locator("p.error").evaluate((el) =>
        getComputedStyle(el).borderLeftWidth
      );
      assertEquals(border, "4px", "stylesheet not applied to the error page");
      const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      assert(scrollWidth <= PHONE.width, `horizontal overflow: scrollWidth ${scrollWidth}`);
      await screenshot(page, "error.png");
      assertEquals(cspErrors, []);
    });
  },
);

e2eTest(
  "consent page refuses to be framed (X-Frame-Options DENY, frame-ancestors 'none'), and Chromium blocks an iframe of it",
  async () => {
    await using server = await startTestServer();
    const client = await register(server.url, { client_name: "E2E Framed Client" });
    const { url } = await authorizeUrl(server.url, client.client_id);
    await withBrowser(async ({ page, cspErrors }) => {
      const response = await page.goto(url) as PageResponse;
      assertEquals(response.status(), 200);
      const headers = await response.allHeaders();
      assertEquals(headers["x-frame-options"], "DENY");
      assertStringIncludes(headers["content-security-policy"] ?? "", "frame-ancestors 'none'");

      // And Chromium acts on them. The framing page is made up in the browser (the server serves nothing
      // new) on the server's own origin: even a same-origin frame is refused. (An about:blank framer would
      // not do: Chromium's local network access checks block it before the headers matter.)
      const framer = `${server.url}/e2e-framer`;
      await page.route(framer, (route) =>
        route.fulfill({
          contentType: "text/html",
          body: `<!doctype html><iframe src="${url.replaceAll("&", "&amp;")}"></iframe>`,
        }));
      const failed = page.waitForEvent("requestfailed", (r) => r.url() === url);
      await page.goto(framer);
      assertEquals((await failed).failure()?.errorText, "net::ERR_BLOCKED_BY_RESPONSE");
      const frame = page.frames().find((f) => f !== page.mainFrame());
      assert(frame, "no iframe");
      assertEquals(frame.url(), "chrome-error://chromewebdata/");
      assertEquals(await frame.locator("button", { hasText: "Approve" }).count(), 0);
      assert(
        cspErrors.some((e) => e.includes(`"frame-ancestors 'none'"`)),
        `Chromium did not report the frame-ancestors refusal: ${JSON.stringify(cspErrors)}`,
      );
    });
  },
);

/** One text element whose contrast was measured in the page. */
interface Measured {
  text: string;
  tag: string;
  ratio: number;
  color: string;
  background: string;
}

/**
 * Runs in the page: the WCAG contrast ratio of every visible element with its own text (and every
 * text input), from computed colors. The background is found by compositing the background colors of
 * the element and its ancestors over the canvas; foreground alpha is composited over that.
 */
const MEASURE_CONTRAST = `(() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c);
    if (!m) throw new Error("unexpected color " + c);
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, below) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + below[i] * (1 - a)).concat(1);
  };
  const dark = matchMedia("(prefers-color-scheme: dark)").matches;
  const canvas = dark ? [18, 18, 18, 1] : [255, 255, 255, 1];
  const backgroundOf = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const bg = parse(getComputedStyle(e).backgroundColor);
      if (bg[3] > 0) layers.push(bg);
    }
    return layers.reverse().reduce((below, top) => over(top, below), canvas);
  };
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const input = el.tagName === "INPUT" && el.type !== "hidden";
    if (!own && !input) continue;
    const rect = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!rect.width || !rect.height || style.visibility === "hidden") continue;
    const bg = backgroundOf(el);
    const fg = over(parse(style.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    out.push({
      text: (own ? el.textContent : el.value || el.name).trim().replace(/\\s+/g, " ").slice(0, 50),
      tag: el.tagName.toLowerCase(),
      ratio: Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100,
      color: "rgb(" + fg.slice(0, 3).map(Math.round).join(", ") + ")",
      background: "rgb(" + bg.slice(0, 3).map(Math.round).join(", ") + ")",
    });
  }
  return out;
})()`;

/** The computed background of `main` (the card), to tell the schemes apart. */
const CARD_BACKGROUND = `getComputedStyle(document.querySelector("main")).backgroundColor`;

/**
 * Checks the page as a person in `look` meets it: every text element at least 4.5:1, no horizontal
 * overflow, buttons at least 44 px tall on a phone, dark colors in dark mode; then a screenshot named
 * `<name>-<scheme>-<width>.png`. Returns what was measured.
 */
async function checkLook(page: Page, name: string, look: Required<Look>): Promise<Measured[]> {
  const label = `${name} (${look.scheme}, ${look.viewport.width}px)`;
  const measured = await page.evaluate(MEASURE_CONTRAST) as Measured[];
  assert(measured.length >= 3, `${label}: only ${measured.length} text elements measured`);
  const low = measured.filter((m) => m.ratio < AA);
  assertEquals(low, [], `${label}: text below ${AA}:1`);
  const card = await page.evaluate(CARD_BACKGROUND) as string;
  const [r, g, b] = card.match(/\d+/g)!.map(Number);
  const light = (r! + g! + b!) / 3 > 128;
  assertEquals(light, look.scheme === "light", `${label}: card is ${card}`);
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(scrollWidth <= look.viewport.width, `${label}: overflows (${scrollWidth}px)`);
  if (look.viewport.width === PHONE.width) {
    for (
      const box of await page.locator("button:visible").evaluateAll((els) =>
        els.map((el) => {
          const r =
            (el as unknown as { getBoundingClientRect(): { width: number; height: number } })
              .getBoundingClientRect();
          return { width: r.width, height: r.height };
        })
      )
    ) {
      assert(
        box.height >= 44 && box.width >= 44,
        `${label}: button ${JSON.stringify(box)} too small`,
      );
    }
  }
  await screenshot(page, `${name}-${look.scheme}-${look.viewport.width}.png`);
  return measured;
}

const LOOKS: Required<Look>[] = [
  { scheme: "light", viewport: PHONE },
  { scheme: "dark", viewport: PHONE },
  { scheme: "light", viewport: DESKTOP },
  { scheme: "dark", viewport: DESKTOP },
];

e2eTest(
  "every page reads in light and dark at phone and desktop widths: WCAG AA contrast on every text element, no overflow, real-size buttons",
  async () => {
    const dir = await Deno.makeTempDir();
    const usersFile = `${dir}/users.json`;
    await Deno.copyFile(new URL("../../emulator/users.json", import.meta.url), usersFile);
    await using server = await startTestServer({ AUTHKIT_EMULATOR_USERS: usersFile });
    try {
      await launch(async (browser) => {
        for (const [round, look] of LOOKS.entries()) {
          await inContext(browser, look, async ({ page, cspErrors }) => {
            const icon = await page.goto(`${server.url}/favicon.ico`);
            assertEquals(icon?.status(), 200);
            await page.goto(`${server.url}/`);
            await checkLook(page, "home", look);

            // The consent page of an unnamed local client, with its warning box.
            const client = await register(server.url, { client_name: undefined });
            const { url } = await authorizeUrl(server.url, client.client_id);
            await page.goto(url);
            assertStringIncludes(
              await page.locator("h1").innerText(),
              "the application at 127.0.0.1:9",
            );
            assertEquals((await page.locator("main").innerText()).includes("unnamed"), false);
            await checkLook(page, "consent", look);

            await navigate(
              page,
              () => page.getByRole("button", { name: "Approve" }).click(),
              `${server.url}/user_management/authorize`,
            );
            await checkLook(page, "emulator-sign-in", look);
            await emulatorSignIn(page, "carol@example.com", `${server.url}/callback`);
            await checkLook(page, "organization", look);
            await navigate(
              page,
              () => page.getByRole("button", { name: "Acme Corp" }).click(),
              REDIRECT_URI,
            );

            await page.goto(`${server.url}/account`);
            await emulatorSignIn(page, "carol@example.com", `${server.url}/callback`);
            await navigate(
              page,
              () => page.getByRole("button", { name: "Acme Corp" }).click(),
              `${server.url}/account`,
            );
            // Each round registered the same unnamed client again: one card, one sign-in per round.
            assertEquals(await page.locator("li.connection").count(), 1);
            assertEquals(await page.locator("ul.sessions > li").count(), round + 1);
            await page.locator("summary", { hasText: "Revoke access" }).first().click();
            await checkLook(page, "account", look);

            await page.goto(`${server.url}/authorize?client_id=unknown`);
            await checkLook(page, "error", look);
            await page.goto(`${server.url}/account/signed-out`);
            await checkLook(page, "signed-out", look);
            assertEquals(cspErrors, []);
          });
        }
        // A users file broken while the server runs: a readable page, in both schemes.
        await Deno.writeTextFile(usersFile, '{"users": [ {"id": "u1"');
        for (const look of LOOKS.slice(0, 2)) {
          await inContext(browser, look, async ({ page }) => {
            const client = await register(server.url, { client_name: "Broken users" });
            const { url } = await authorizeUrl(server.url, client.client_id);
            await page.goto(url);
            const res = await Promise.all([
              page.waitForResponse((r) => r.url().includes("/user_management/authorize")),
              page.getByRole("button", { name: "Approve" }).click(),
            ]);
            assertEquals(res[0].status(), 503);
            assertEquals(await page.locator("h1").innerText(), "The demo users file is broken");
            assertStringIncludes(await page.locator("main").innerText(), "AUTHKIT_EMULATOR_USERS");
            assertStringIncludes(await page.locator("main").innerText(), usersFile);
            await checkLook(page, "emulator-broken-users", look);
          });
        }
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

e2eTest(
  "the contrast check catches unreadable text: the old stylesheet's dark card and light-mode footer",
  async () => {
    // The stylesheet before the fix: dark mode changed the text color but not the card, and the
    // footer's gray was 4.39:1 on the light background.
    const old = `<style>
      :root { color-scheme: light dark; }
      body { background: #f3f4f6; color: #111827; }
      .card { background: #fff; }
      @media (prefers-color-scheme: dark) { body { background: #111827; color: #f9fafb; } }
      footer { color: #6b7280; font-size: .875rem; }
    </style><main class="card"><h1>Allow the client?</h1><p>Returns you to</p></main>
    <footer>Secured by WorkOS AuthKit</footer>`;
    const lowIn = async (scheme: "light" | "dark") => {
      let low: Measured[] = [];
      await withBrowser(async ({ page }) => {
        await page.setContent(old);
        low = (await page.evaluate(MEASURE_CONTRAST) as Measured[]).filter((m) => m.ratio < AA);
      }, { scheme });
      return low;
    };
    const dark = await lowIn("dark");
    assertEquals(dark.map((m) => m.text), [
      "Allow the client?",
      "Returns you to",
      "Secured by WorkOS AuthKit",
    ]);
    assert(dark[0]!.ratio < 1.1, `white on white measured ${dark[0]!.ratio}`);
    const light = await lowIn("light");
    assertEquals(light.map((m) => [m.text, m.ratio]), [["Secured by WorkOS AuthKit", 4.39]]);
  },
);

/**
 * Real-browser tests of our pages: headless Chromium (Debian's `/usr/bin/chromium`, driven by
 * playwright-core) against the real server with the AuthKit emulator on the same origin. They check what
 * the scripted-browser tests cannot: the CSP lets the stylesheet load and nothing else is refused, the
 * pages fit a phone, the forms work when a browser submits them, cookies (`__Host-`, `Secure`) survive a
 * real browser on `http://localhost`, and framing is refused.
 *
 * Screenshots go to `tests/e2e/artifacts/` (git-ignored). CI must install Chromium
 * (`apt-get install chromium`); without it these tests fail rather than skip.
 *
 * @module
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import type {
  Browser,
  BrowserContext,
  BrowserType,
  Page,
  Response as PageResponse,
} from "playwright-core";
import { authorizeUrl, REDIRECT_URI, register } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = new URL("./artifacts/", import.meta.url);
const PHONE = { width: 390, height: 844 };
/** `rgb()` of `--accent` (#4f46e5), the primary button's background once the stylesheet applies. */
const ACCENT = "rgb(79, 70, 229)";

// The browser globals the page functions below use: they run in Chromium, while this file is
// type-checked without the DOM library.
declare const document: { documentElement: { scrollWidth: number } };
declare function getComputedStyle(element: unknown): {
  backgroundColor: string;
  borderTopLeftRadius: string;
  borderLeftWidth: string;
};

/**
 * Loads playwright-core on first use. It is imported here rather than at the top so that missing
 * permissions fail each test with a clear message instead of failing the module: at load it reads
 * `os.homedir()` and `/proc/sys/fs/binfmt_misc/WSLInterop`, and Deno allows reading `/proc` only with
 * `--allow-all`.
 */
async function loadChromium(): Promise<BrowserType> {
  try {
    return (await import("playwright-core")).chromium;
  } catch (err) {
    throw new Error(
      "playwright-core cannot load; run the e2e tests with `deno test -A` (it reads /proc, which " +
        `Deno allows only with --allow-all): ${err}`,
      { cause: err },
    );
  }
}

/** A browser page with the console errors that name the Content Security Policy. */
interface Session {
  context: BrowserContext;
  page: Page;
  cspErrors: string[];
}

/**
 * Launches Chromium with a phone-sized context, runs `fn` and closes everything. The client's redirect
 * URI (`http://127.0.0.1:9/callback`) is never served: requests to it are answered with "ok"
 * ({@linkcode answerClientRedirects}).
 */
async function withBrowser(fn: (session: Session) => Promise<void>): Promise<void> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}; the e2e tests need it (apt-get install chromium)`,
    );
  }
  const chromium = await loadChromium();
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // The test clients' redirect URI uses port 9 (discard), which Chromium refuses as unsafe
      // (net::ERR_UNSAFE_PORT) before any route could answer it.
      `--explicitly-allowed-ports=${new URL(REDIRECT_URI).port}`,
    ],
  });
  try {
    const context = await browser.newContext({ viewport: PHONE });
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
  } finally {
    await browser.close();
  }
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
  const res = await fetch(`${base}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "e2e", version: "1.0.0" },
      },
    }),
  });
  await res.body?.cancel();
  return res.status;
}

Deno.test("consent page shows the client and its redirect host, is styled without CSP violations, fits a phone, and leads through sign-in and the organization picker back to the client", async () => {
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
});

Deno.test("account page lists a connected client with its activity, revokes it (its token then gets 401) and signs out", async () => {
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
    const revoke = row.getByRole("button", { name: "Revoke access" });
    assertEquals(await revoke.count(), 1);
    assertStringIncludes(await page.locator("ul.activity").innerText(), "user.signed_in");
    await assertStyledAndFits(page, "li.connection button");
    await screenshot(page, "account.png");

    const reloaded = page.waitForResponse((r) =>
      r.url() === `${server.url}/account` && r.request().method() === "GET"
    );
    await revoke.click();
    assertEquals((await reloaded).status(), 200);
    await page.waitForLoadState();
    assertEquals(await page.locator("li.connection", { hasText: "E2E Account Client" }).count(), 0);
    assertStringIncludes(await main.innerText(), "No application is connected to your account.");
    assertStringIncludes(await page.locator("ul.activity").innerText(), "oauth.grant_revoked");
    assertEquals(await mcpStatus(server.url, accessToken), 401);

    // Sign-out ends at the emulator's logout, which returns the browser to our home page.
    const home = `${server.url}/`;
    await Promise.all([
      page.waitForURL(home),
      page.getByRole("button", { name: "Sign out" }).click(),
    ]);
    assertEquals(page.url(), home);
    // Signed out: the account page asks to sign in again.
    await page.goto(`${server.url}/account`);
    assertEquals(new URL(page.url()).pathname, "/user_management/authorize");
    assertEquals(cspErrors, []);
  });
});

Deno.test("error page shows invalid_client with status 400 for an unknown client, styled and phone-sized", async () => {
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
});

Deno.test("consent page refuses to be framed (X-Frame-Options DENY, frame-ancestors 'none'), and Chromium blocks an iframe of it", async () => {
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
});

/**
 * Headless Chromium (Debian's `/usr/bin/chromium`) through playwright-core, for tests that need a real
 * browser: its CORS enforcement, its rendering. Run with `deno test -A` (playwright-core reads /proc).
 *
 * @module
 */
import type { Browser, BrowserContext, Page } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
/** Where screenshots go (git-ignored). */
export const ARTIFACTS = new URL("../artifacts/", import.meta.url);

/** Launches Chromium, gives `fn` a fresh context and page, and closes everything afterwards. */
export async function withChromium(
  fn: (session: { context: BrowserContext; page: Page }) => Promise<void>,
  options: { viewport?: { width: number; height: number }; allowedPorts?: number[] } = {},
): Promise<void> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(`Chromium is missing at ${CHROMIUM} (apt-get install chromium)`);
  }
  const { chromium } = await import("playwright-core");
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
      ...(options.allowedPorts?.length
        ? [`--explicitly-allowed-ports=${options.allowedPorts.join(",")}`]
        : []),
    ],
  });
  try {
    const context = await browser.newContext({
      viewport: options.viewport ?? { width: 1024, height: 900 },
    });
    try {
      await fn({ context, page: await context.newPage() });
    } finally {
      await context.close();
    }
  } finally {
    await browser.close();
  }
}

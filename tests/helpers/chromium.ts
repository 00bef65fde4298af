/**
 * Finding a Chromium-family browser for the page tests, on any machine: `CHROME_PATH` first, then the
 * usual install locations on Linux and macOS, then a browser Playwright downloaded
 * (`npx playwright install chromium`). Where none exists the page tests are skipped with one loud line
 * saying how to install one, unless `REQUIRE_BROWSER=1` (set by `.ci/run`), which makes them fail.
 *
 * @module
 */
import type { Browser, BrowserContext, Page } from "playwright-core";

/** How to get a browser, printed when none is found. */
export const INSTALL_HINT =
  "install Chromium (apt-get install chromium · brew install --cask chromium · " +
  "npx playwright install chromium) or set CHROME_PATH to a Chrome/Chromium executable";

/** Fixed install locations, most specific first. */
const KNOWN_PATHS = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
  "/opt/google/chrome/chrome",
  "/snap/bin/chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
];

/** Executables inside one Playwright browser folder (`chromium-1234`, `chromium_headless_shell-1234`). */
const PLAYWRIGHT_EXECUTABLES = [
  "chrome-linux/chrome",
  "chrome-linux64/chrome",
  "chrome-linux/headless_shell",
  "chrome-headless-shell-linux64/chrome-headless-shell",
  "chrome-mac/Chromium.app/Contents/MacOS/Chromium",
  "chrome-mac-arm64/Chromium.app/Contents/MacOS/Chromium",
  "chrome-mac/headless_shell",
];

/** Where a browser was found, and how. */
export interface FoundBrowser {
  path: string;
  source: "CHROME_PATH" | "system" | "playwright";
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Playwright's download folders: `PLAYWRIGHT_BROWSERS_PATH`, else its per-OS cache. */
function playwrightRoots(): string[] {
  const explicit = env("PLAYWRIGHT_BROWSERS_PATH");
  if (explicit && explicit !== "0") return [explicit];
  const home = env("HOME");
  if (!home) return [];
  return [`${home}/.cache/ms-playwright`, `${home}/Library/Caches/ms-playwright`];
}

/** The newest browser Playwright downloaded (full Chromium before the headless shell), if any. */
export async function playwrightBrowser(): Promise<string | undefined> {
  for (const root of playwrightRoots()) {
    let names: string[];
    try {
      names = [];
      for await (const entry of Deno.readDir(root)) if (entry.isDirectory) names.push(entry.name);
    } catch {
      continue;
    }
    // Full Chromium before the headless shell; the newest revision first.
    const ranked = names.filter((n) => /^chromium(_headless_shell)?-\d+$/.test(n)).sort((a, b) => {
      const shell = Number(a.includes("headless")) - Number(b.includes("headless"));
      return shell || Number(b.split("-")[1]) - Number(a.split("-")[1]);
    });
    for (const name of ranked) {
      for (const exe of PLAYWRIGHT_EXECUTABLES) {
        if (await isFile(`${root}/${name}/${exe}`)) return `${root}/${name}/${exe}`;
      }
    }
  }
  return undefined;
}

/**
 * Finds a browser, or resolves to undefined.
 *
 * @throws {Error} when CHROME_PATH is set but is not a file (a typo should not silently skip tests)
 */
export async function findChromium(): Promise<FoundBrowser | undefined> {
  const explicit = env("CHROME_PATH");
  if (explicit) {
    if (await isFile(explicit)) return { path: explicit, source: "CHROME_PATH" };
    throw new Error(`CHROME_PATH=${explicit} is not a file; ${INSTALL_HINT}`);
  }
  for (const path of KNOWN_PATHS) if (await isFile(path)) return { path, source: "system" };
  const managed = await playwrightBrowser();
  return managed ? { path: managed, source: "playwright" } : undefined;
}

/** Whether a missing browser is a failure (`REQUIRE_BROWSER=1`, set by CI) rather than a skip. */
export function browserRequired(): boolean {
  return ["1", "true"].includes(env("REQUIRE_BROWSER") ?? "");
}

/**
 * The browser for this test module: found once; when none is found, prints the one loud line and
 * resolves to undefined (tests then pass `ignore: !browser`), or with REQUIRE_BROWSER=1 throws.
 */
export async function browserForTests(): Promise<FoundBrowser | undefined> {
  const found = await findChromium();
  if (found) return found;
  if (browserRequired()) {
    throw new Error(`REQUIRE_BROWSER=1 but no Chromium was found: ${INSTALL_HINT}`);
  }
  // deno-lint-ignore no-console
  console.error(`\n⚠️  SKIPPING PAGE TESTS: no Chromium found. To run them, ${INSTALL_HINT}.\n`);
  return undefined;
}

/** Where screenshots go (git-ignored). */
export const ARTIFACTS = new URL("../artifacts/", import.meta.url);

/**
 * Loads playwright-core and launches the browser {@linkcode findChromium} finds, headless, with the flags
 * a test run wants. playwright-core is imported here, on first use, rather than at the top, so missing
 * permissions fail each test with a clear message instead of failing the module: at load it reads
 * `os.homedir()` and `/proc`, which Deno allows only with `--allow-all`.
 */
export async function launchChromium(options: { allowedPorts?: number[] } = {}): Promise<Browser> {
  const found = await findChromium();
  if (!found) throw new Error(`No Chromium found: ${INSTALL_HINT}`);
  let chromium;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch (err) {
    throw new Error(
      `playwright-core cannot load; run the browser tests with \`deno test -A\`: ${err}`,
      { cause: err },
    );
  }
  return await chromium.launch({
    executablePath: found.path,
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
}

/**
 * Launches the browser {@linkcode browserForTests} found, gives `fn` a fresh context and page, and closes
 * everything afterwards. Tests using it pass `ignore: !(await browserForTests())`.
 */
export async function withChromium(
  fn: (session: { context: BrowserContext; page: Page }) => Promise<void>,
  options: { viewport?: { width: number; height: number }; allowedPorts?: number[] } = {},
): Promise<void> {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  const browser = await launchChromium(options);
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

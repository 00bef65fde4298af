import { assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { findChromium, playwrightBrowser } from "./chromium.ts";

/** Runs `fn` with environment variables set (or removed, for undefined), restoring them after. */
async function withEnv(vars: Record<string, string | undefined>, fn: () => Promise<void>) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    }
  };
  apply(vars);
  try {
    await fn();
  } finally {
    apply(saved);
  }
}

Deno.test({
  name:
    "playwrightBrowser() finds the newest full Chromium Playwright downloaded, before a headless shell",
  sanitizeResources: true,
  async fn() {
    const root = await Deno.makeTempDir();
    try {
      for (
        const path of [
          "chromium-1100/chrome-linux/chrome",
          "chromium-1200/chrome-linux/chrome",
          "chromium_headless_shell-1300/chrome-linux/headless_shell",
          "ffmpeg-1000/ffmpeg-linux",
        ]
      ) {
        await Deno.mkdir(`${root}/${path.replace(/\/[^/]+$/, "")}`, { recursive: true });
        await Deno.writeTextFile(`${root}/${path}`, "");
      }
      await withEnv({ PLAYWRIGHT_BROWSERS_PATH: root }, async () => {
        assertEquals(await playwrightBrowser(), `${root}/chromium-1200/chrome-linux/chrome`);
      });
      await withEnv({ PLAYWRIGHT_BROWSERS_PATH: `${root}/none` }, async () => {
        assertEquals(await playwrightBrowser(), undefined);
      });
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("findChromium() takes CHROME_PATH first, and refuses one that is not a file instead of skipping", async () => {
  const file = await Deno.makeTempFile();
  try {
    await withEnv({ CHROME_PATH: file }, async () => {
      assertEquals(await findChromium(), { path: file, source: "CHROME_PATH" });
    });
    await withEnv({ CHROME_PATH: `${file}.missing` }, async () => {
      const err = await assertRejects(() => findChromium());
      assertStringIncludes((err as Error).message, "is not a file");
    });
  } finally {
    await Deno.remove(file);
  }
});

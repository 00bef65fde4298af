/**
 * Every folder imports only from the floors below it: `lib/` (and the standalone `emulator/`) import
 * nothing of ours, then `audit/`, `auth/`, `mcp/`, `routes/`, and `app/` (composition), with `main.ts`
 * on top. An import that climbs fails here, naming the file and the import.
 */
import { assertEquals } from "@std/assert";

const ROOT = new URL("../", import.meta.url);
const FLOOR: Record<string, number> = {
  lib: 0,
  emulator: 0,
  audit: 1,
  auth: 2,
  mcp: 3,
  routes: 4,
  app: 5,
};

async function* sources(dir: URL, folder: string): AsyncGenerator<{ path: string; text: string }> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory) yield* sources(url, path);
    else if (entry.name.endsWith(".ts")) yield { path, text: await Deno.readTextFile(url) };
  }
}

Deno.test("no module imports from a floor above its own (lib and emulator import nothing of ours)", async () => {
  const climbing: string[] = [];
  for (const folder of Object.keys(FLOOR)) {
    for await (const { path, text } of sources(new URL(`${folder}/`, ROOT), folder)) {
      for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
        const target = new URL(spec!, new URL(path, ROOT)).pathname.slice(ROOT.pathname.length);
        const to = target.split("/")[0]!;
        if (to === folder || !(to in FLOOR)) continue;
        const standalone = folder === "emulator" || to === "emulator";
        if (FLOOR[to]! >= FLOOR[folder]! || (standalone && folder !== "app")) {
          climbing.push(`${path} imports ${spec}`);
        }
      }
    }
  }
  assertEquals(climbing, []);
});

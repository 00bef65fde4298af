/**
 * A copy of the project's source in another folder, for tests that must change files (a `.env`, a new
 * tool) without touching the checkout other tests run from.
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** What a running server needs: the config, the lock file, the entry point and the source folders. */
const PARTS = [
  "deno.json",
  "deno.lock",
  "main.ts",
  "app",
  "lib",
  "routes",
  "auth",
  "mcp",
  "emulator",
  "audit",
];

/** Copies the project's source into `to` (an existing folder). */
export async function copyProject(to: string): Promise<void> {
  const copy = async (from: string, dest: string): Promise<void> => {
    if ((await Deno.stat(from)).isDirectory) {
      await Deno.mkdir(dest, { recursive: true });
      for await (const entry of Deno.readDir(from)) {
        await copy(`${from}/${entry.name}`, `${dest}/${entry.name}`);
      }
    } else await Deno.copyFile(from, dest);
  };
  for (const name of PARTS) await copy(`${ROOT}/${name}`, `${to}/${name}`);
}

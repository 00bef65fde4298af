/**
 * `.env.example`, the README's configuration table and the config schema name the same variables: the
 * list comes from the schema itself (`CONFIG_VARIABLES`), so a variable added to `lib/config.ts`
 * without a line in `.env.example` and a row in the README fails here.
 */
import { assert, assertEquals } from "@std/assert";
import { CONFIG_VARIABLES } from "../lib/config.ts";

const root = new URL("../", import.meta.url);
const read = (name: string) => Deno.readTextFile(new URL(name, root));

/** Names assigned in `.env.example`, commented out or not (`# NAME=value`, `NAME=`). */
function exampleNames(text: string): string[] {
  return [...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
}

Deno.test(".env.example lists every variable lib/config.ts reads, and nothing it does not", async () => {
  const names = exampleNames(await read(".env.example"));
  assert(CONFIG_VARIABLES.length >= 20, `schema lists only ${CONFIG_VARIABLES.length} variables`);
  const missing = CONFIG_VARIABLES.filter((v) => !names.includes(v));
  assertEquals(missing, [], "add these to .env.example with a comment");
  // OTEL_* are read by Deno itself, not by our configuration.
  const unknown = names.filter((n) => !CONFIG_VARIABLES.includes(n) && !n.startsWith("OTEL_"));
  assertEquals(unknown, [], "these are in .env.example but lib/config.ts does not read them");
});

Deno.test("README's configuration table has a row for every variable lib/config.ts reads", async () => {
  const rows = (await read("README.md")).split("\n").filter((line) => line.startsWith("|"));
  const documented = new Set(rows.flatMap((row) =>
    [...row.matchAll(/`([A-Z][A-Z0-9_]+)`/g)]
      .map((m) => m[1]!)
  ));
  const missing = CONFIG_VARIABLES.filter((v) => !documented.has(v));
  assertEquals(missing, [], "add a row for these to the README's configuration table");
});

Deno.test(".env is git-ignored (a filled-in API key cannot be committed) while .env.example is not", async () => {
  const lines = (await read(".gitignore")).split("\n").map((l) => l.trim());
  assert(lines.includes(".env"), ".gitignore must list .env");
  assert(lines.includes("!.env.example"), ".gitignore must keep .env.example");
});

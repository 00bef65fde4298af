/**
 * The repository stands alone: its code and docs cite public specifications (URLs, section names), never
 * notes kept outside the repository. Every tracked `.ts` and `.md` file (test artifacts aside) is read
 * and searched for the paths and file names of those notes.
 *
 * @module
 */
import { assertEquals } from "@std/assert";

/** The note names, assembled at run time so this file does not match itself. */
const OUTSIDE_NOTES = ["mcp-spec", "workos-contract", "real-clients", "platform", "updates-2026-12"]
  .map((name) => `${name}.md`);
const OUTSIDE_PATHS = [["shared", "reference"].join("/"), ["..", "shared", ""].join("/")];

/** The lines of `text` that point outside the repository, as `line: text`. */
function outsideReferences(text: string): string[] {
  const needles = [...OUTSIDE_PATHS, ...OUTSIDE_NOTES];
  return text.split("\n").flatMap((line, i) =>
    needles.some((needle) => line.includes(needle)) ? [`${i + 1}: ${line.trim()}`] : []
  );
}

const ROOT = new URL("../", import.meta.url);

async function trackedFiles(): Promise<string[]> {
  const output = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.ts", "*.md"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout).split("\0")
    .filter((path) => path !== "" && !path.includes("/artifacts/"));
}

Deno.test("outsideReferences() finds a cited note path and a bare note name", () => {
  const planted = [
    "/** Canonical URI. */",
    ` * @see ../${OUTSIDE_PATHS[0]}/${OUTSIDE_NOTES[0]} §2.1`,
    ` * (see ${OUTSIDE_NOTES[1]} §4)`,
    " * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization",
  ].join("\n");
  assertEquals(outsideReferences(planted).map((line) => line.split(":")[0]), ["2", "3"]);
});

Deno.test("no tracked .ts or .md file cites notes outside the repository", async () => {
  const files = await trackedFiles();
  // Guard against a vacuous pass (e.g. git listing nothing).
  assertEquals(files.includes("main.ts"), true);
  const found: string[] = [];
  for (const path of files) {
    let text: string;
    try {
      text = await Deno.readTextFile(new URL(path, ROOT));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue; // deleted in the work tree, not yet staged
      throw error;
    }
    found.push(...outsideReferences(text).map((line) => `${path}:${line}`));
  }
  assertEquals(found, []);
});

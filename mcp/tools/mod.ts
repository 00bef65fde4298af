/**
 * Every MCP tool of the server, and lookups by permission and name. Tools are discovered: each `.ts`
 * file in this folder (except this one and `_`-prefixed helpers) is imported and every tool definition
 * it exports (made with `defineTool`) is served. Adding a tool is one new file; nothing to register.
 * The server registers, for each caller, the tools {@linkcode toolsFor} returns, and checks `requires`
 * again on every call.
 *
 * @module
 */
import { allows } from "../permissions.ts";
import type { ToolDefinition } from "../tool.ts";

/** Whether `value` has the shape of a tool definition (what `defineTool` returns). */
function isTool(value: unknown): value is ToolDefinition {
  const v = value as Partial<ToolDefinition> | null;
  return typeof v === "object" && v !== null && typeof v.name === "string" &&
    typeof v.description === "string" && Array.isArray(v.requires) &&
    typeof v.inputSchema === "object" && typeof v.run === "function";
}

/**
 * Imports every tool file of this folder, in file-name order. This needs the source files at run time,
 * which Deno and the new Deno Deploy (standard Deno with `--allow-all`, run from the source) have;
 * `deno compile` would need `--include mcp/tools/`. `deno task check` type-checks `mcp/` for the same
 * reason: no static import leads to a tool file.
 *
 * @throws {Error} when two tools share a name
 */
async function discoverTools(): Promise<ToolDefinition[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL("./", import.meta.url))) {
    if (entry.isFile && /^[a-z0-9][a-z0-9_]*\.ts$/.test(entry.name) && entry.name !== "mod.ts") {
      files.push(entry.name);
    }
  }
  files.sort();
  const tools: ToolDefinition[] = [];
  for (const file of files) {
    const module = await import(`./${file}`);
    for (const value of Object.values(module)) {
      if (!isTool(value)) continue;
      const twin = tools.find((t) => t.name === value.name);
      if (twin) throw new Error(`Cannot load tools: two tools are named "${value.name}" (${file})`);
      tools.push(value);
    }
  }
  return tools;
}

/** All tools, in file-name order. */
export const TOOLS: readonly ToolDefinition[] = Object.freeze(await discoverTools());

/**
 * The tools a caller holding `permissions` may use, sorted by name.
 *
 * @example
 * ```ts
 * toolsFor([]).map((t) => t.name); // ["add", "whoami"]
 * ```
 */
export function toolsFor(permissions: readonly string[]): readonly ToolDefinition[] {
  // Every request of a token passes the same permissions array (its grant's): filtered once.
  let tools = ALLOWED.get(permissions);
  if (!tools) {
    tools = Object.freeze(
      TOOLS.filter((tool) => allows(tool, permissions))
        .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)),
    );
    ALLOWED.set(permissions, tools);
  }
  return tools;
}

const ALLOWED = new WeakMap<readonly string[], readonly ToolDefinition[]>();

/** The tool named `name`, or undefined. */
export function findTool(name: string): ToolDefinition | undefined {
  return TOOLS.find((tool) => tool.name === name);
}

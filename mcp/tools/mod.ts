/**
 * Every MCP tool of the server, and lookups by permission and name. The server registers, for each
 * caller, the tools {@linkcode toolsFor} returns, and checks `requires` again on every call.
 *
 * @module
 */
import type { ToolDefinition } from "../tool.ts";
import { add } from "./add.ts";
import { generateImage } from "./generate_image.ts";
import { whoami } from "./whoami.ts";

/** All tools, in declaration order. */
export const TOOLS: readonly ToolDefinition[] = Object.freeze([add, whoami, generateImage]);

/**
 * The tools a caller holding `permissions` may use, sorted by name.
 *
 * @example
 * ```ts
 * toolsFor([]).map((t) => t.name); // ["add", "whoami"]
 * ```
 */
export function toolsFor(permissions: readonly string[]): ToolDefinition[] {
  return TOOLS.filter((tool) => tool.requires.every((p) => permissions.includes(p)))
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

/** The tool named `name`, or undefined. */
export function findTool(name: string): ToolDefinition | undefined {
  return TOOLS.find((tool) => tool.name === name);
}

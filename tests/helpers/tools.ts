/**
 * The tool names a caller with some permissions should see, from the registry itself: tests compare
 * what a server lists with this instead of a hard-coded list, so adding a tool file breaks no test.
 *
 * @module
 */
import { toolsFor } from "../../mcp/tools/mod.ts";

/** Names of the tools `permissions` allow, sorted (as servers list them). */
export function toolNames(permissions: readonly string[]): string[] {
  return toolsFor(permissions).map((t) => t.name);
}

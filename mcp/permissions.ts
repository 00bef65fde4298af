/**
 * The permission rule, in one place: a tool is allowed when the caller holds every AuthKit permission
 * it requires. The tool list (`tools/mod.ts` `toolsFor`) and the refusal of a call (`jsonrpc.ts`
 * `forbiddenCallReply`, before any server or fast path runs) both ask this module.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/server/tools#security-considerations
 * @module
 */

/** What the rule needs of a tool. */
export interface RequiresPermissions {
  readonly requires: readonly string[];
}

/** The permissions of `tool` that the caller's `permissions` lack (empty when it is allowed). */
export function missingPermissions(
  tool: RequiresPermissions,
  caller: { readonly permissions: readonly string[] },
): string[] {
  return tool.requires.filter((p) => !caller.permissions.includes(p));
}

/** Whether a caller holding `permissions` may see and call `tool`. */
export function allows(tool: RequiresPermissions, permissions: readonly string[]): boolean {
  return tool.requires.every((p) => permissions.includes(p));
}

/** The message for a refused call: `Tool "x" requires the permission "p", which you do not have`. */
export function permissionMessage(name: string, missing: readonly string[]): string {
  const list = missing.map((p) => `"${p}"`).join(", ");
  return `Tool "${name}" requires the permission${
    missing.length > 1 ? "s" : ""
  } ${list}, which you do not have`;
}

/**
 * Tool catalog announcements across deployments. Each instance fingerprints the tool catalog it serves
 * (names, titles, descriptions, required permissions, input schemas, server version). At startup it
 * compares that with the fingerprint stored in KV; if they differ (a new deployment changed the tools)
 * it stores its own and publishes `tools_list_changed` on the cross-instance bus, so clients whose
 * streams are held by instances of the previous deployment re-list (their next request reaches the new
 * one). The atomic check makes one instance of a new deployment announce, not all of them.
 *
 * Limit: two versions starting instances against one database at the same time (a long rolling
 * deploy) would each announce on their cold starts; clients then re-list once more than needed.
 * On Deno Deploy, previews and branches have databases of their own, so only production shares one.
 *
 * @module
 */
import { z } from "zod";
import { sha256 } from "../../auth/crypto.ts";
import { keys } from "../../lib/kv_keys.ts";
import type { KvEventBus } from "./bus.ts";
import { SERVER_INFO } from "../server.ts";
import { inputSchemaOf, type ToolDefinition } from "../tool.ts";
import { TOOLS } from "../tools/mod.ts";

/** The fingerprint of `tools` as served by this version. */
export async function catalogFingerprint(
  tools: readonly ToolDefinition[] = TOOLS,
): Promise<string> {
  const catalog = tools.map((tool) => ({
    name: tool.name,
    title: tool.title ?? null,
    description: tool.description,
    requires: [...tool.requires].sort(),
    input: z.toJSONSchema(inputSchemaOf(tool)),
  })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return await sha256(JSON.stringify({ version: SERVER_INFO.version, catalog }));
}

/**
 * Stores `fingerprint` as the current catalog; when it differs from the stored one, publishes
 * `tools_list_changed`. Resolves to whether this call announced a change.
 */
export async function announceCatalog(
  kv: Deno.Kv,
  bus: KvEventBus,
  fingerprint: string,
): Promise<boolean> {
  const stored = await kv.get<{ fingerprint: string }>(keys.toolCatalog());
  if (stored.value?.fingerprint === fingerprint) return false;
  const result = await kv.atomic().check(stored).set(keys.toolCatalog(), {
    fingerprint,
    announcedBy: bus.origin,
  }).commit();
  if (!result.ok) return false; // another instance announced first
  if (stored.value) bus.publish({ kind: "tools_list_changed" });
  return stored.value !== null;
}

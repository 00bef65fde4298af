/**
 * Resource indicators (RFC 8707): which `resource` values name this server, in canonical form.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization §Canonical Server URI
 * @see https://www.rfc-editor.org/rfc/rfc8707#section-2
 * @module
 */
import { type Config, resources } from "../lib/config.ts";

/**
 * The canonical form of `value` if it names one of our resources (`<PUBLIC_URL>/mcp` or `/sse`; scheme and
 * host case-insensitive, one trailing slash tolerated), else null.
 */
export function ourResource(config: Pick<Config, "publicUrl">, value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.hash || value.includes("#") || url.search || url.username || url.password) return null;
  const path = url.pathname.length > 1 && url.pathname.endsWith("/")
    ? url.pathname.slice(0, -1)
    : url.pathname;
  const canonical = `${url.origin}${path}`;
  return Object.values(resources(config)).find((r) => r === canonical) ?? null;
}

/**
 * The v2 MCP SDK client (`@modelcontextprotocol/client` 2.x), imported through one module like the v1
 * shim. Its package exports point at real `.d.mts` files, so no `@ts-types` directives are needed.
 *
 * @module
 */
export {
  Client,
  type ClientOptions,
  type OAuthClientProvider,
  ProtocolError,
  SSEClientTransport,
  StreamableHTTPClientTransport,
} from "@modelcontextprotocol/client";

/** The modern protocol revision the v2 client is pinned to in tests. */
export const MODERN_PROTOCOL_VERSION = "2026-07-28";

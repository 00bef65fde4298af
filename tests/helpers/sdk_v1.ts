/**
 * The v1 MCP SDK client (`@modelcontextprotocol/sdk` 1.32), imported through one module with
 * `@ts-types` directives: its `./*` export map points at `.d.ts` files that do not exist, so without them
 * `deno check` types every import as `any` (Deno does not fall back to `typesVersions` as `tsc` does;
 * https://github.com/modelcontextprotocol/typescript-sdk/issues/2701).
 *
 * @module
 */
// @ts-types="@modelcontextprotocol/sdk/client/auth"
export { auth, type OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
// @ts-types="@modelcontextprotocol/sdk/client/index"
export { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
export { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/client/sse"
export { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
// @ts-types="@modelcontextprotocol/sdk/shared/auth"
export type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
// @ts-types="@modelcontextprotocol/sdk/types"
export {
  type CallToolResult,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";

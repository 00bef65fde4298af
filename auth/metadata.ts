/**
 * Discovery documents: Authorization Server Metadata (RFC 8414) and Protected Resource Metadata
 * (RFC 9728) for each MCP endpoint.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization §Authorization Server Discovery, §Authorization Code Protection
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3 (well-known Protected Resource Metadata URIs)
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3 (issuer and metadata document)
 * @see https://www.rfc-editor.org/rfc/rfc9207#section-3 (`authorization_response_iss_parameter_supported`)
 * @module
 */
import { type Config, resources } from "../lib/config.ts";
import { AUTH_METHODS } from "./clients.ts";

/** RFC 8414 metadata; `issuer` is PUBLIC_URL exactly. */
export function authorizationServerMetadata(
  config: Pick<Config, "publicUrl">,
): Record<string, unknown> {
  const issuer = config.publicUrl;
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    revocation_endpoint: `${issuer}/revoke`,
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: [...AUTH_METHODS],
    revocation_endpoint_auth_methods_supported: [...AUTH_METHODS],
    authorization_response_iss_parameter_supported: true,
    // Claude uses client ID metadata documents only when both this and `none` above are advertised.
    client_id_metadata_document_supported: true,
    service_documentation: `${issuer}/`,
  };
}

/** RFC 9728 metadata for the resource at `path` (`/mcp` or `/sse`). */
export function protectedResourceMetadata(
  config: Pick<Config, "publicUrl">,
  which: "mcp" | "sse",
): Record<string, unknown> {
  return {
    resource: resources(config)[which],
    authorization_servers: [config.publicUrl],
    bearer_methods_supported: ["header"],
    resource_name: "WorkOS AuthKit MCP server",
    resource_documentation: `${config.publicUrl}/`,
  };
}

/** The well-known URL of the Protected Resource Metadata for `which`. */
export function protectedResourceMetadataUrl(
  config: Pick<Config, "publicUrl">,
  which: "mcp" | "sse",
): string {
  return `${config.publicUrl}/.well-known/oauth-protected-resource/${which}`;
}

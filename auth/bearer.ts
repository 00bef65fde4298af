/**
 * The bearer check in front of every MCP route. It accepts only our own access tokens (opaque, looked up
 * by hash), bound to this resource; a WorkOS token or any other string is refused (no passthrough).
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization §Token Requirements, §Token Handling, §Error Handling
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { type Freshness, GrantRevokedError, PermissionsStaleError } from "./freshness.ts";
import { type Config, resources } from "../lib/config.ts";
import type { Identity } from "./identity.ts";
import { protectedResourceMetadataUrl } from "./metadata.ts";
import type { TokenCache } from "./token_cache.ts";
import type { AccessTokenRecord, TokenStore } from "./tokens.ts";
import type { Grant } from "./grants.ts";

/** Variables the bearer check puts on the Hono context: who, and the token it verified. */
export type BearerVariables = { identity: Identity; accessToken: string };

/** Options of {@linkcode requireBearer}. */
export interface RequireBearerOptions {
  tokens: TokenStore;
  /** Resources (canonical URIs) whose tokens this route accepts; tokens bound to none are accepted too. */
  resources: readonly string[];
  /** The Protected Resource Metadata URL to name in challenges. */
  resourceMetadataUrl: string;
  /** Keeps permissions within their bound (refreshing upstream when they are old). */
  freshness?: Freshness;
  /** Remembers verified tokens for a short bound (`token_cache.ts`); without it, KV every time. */
  cache?: TokenCache;
}

/**
 * Requires a valid bearer token; sets `c.var.identity`.
 *
 * @example
 * ```ts
 * app.use("/mcp", requireBearer({ tokens, resources: [mcpUrl], resourceMetadataUrl }));
 * ```
 */
export function requireBearer(
  options: RequireBearerOptions,
): MiddlewareHandler<{ Variables: BearerVariables }> {
  if (!options.resourceMetadataUrl || options.resources.length === 0) {
    throw new TypeError('"resourceMetadataUrl" and "resources" options are required');
  }
  const challenge = (error?: { code: string; description: string }): string => {
    const parts = [`resource_metadata="${quote(options.resourceMetadataUrl)}"`];
    if (error) {
      parts.push(`error="${error.code}"`, `error_description="${quote(error.description)}"`);
    }
    return `Bearer ${parts.join(", ")}`;
  };
  const refuse = (status: 400 | 401, error?: { code: string; description: string }): never => {
    const res = Response.json(
      error
        ? { error: error.code, error_description: error.description }
        : { error: "unauthorized", error_description: "A bearer token is required" },
      { status, headers: { "www-authenticate": challenge(error), "cache-control": "no-store" } },
    );
    throw new HTTPException(status, { res });
  };

  return async function bearerAuth(c, next) {
    const url = c.req.url;
    if (url.includes("access_token") && new URL(url).searchParams.has("access_token")) {
      refuse(400, {
        code: "invalid_request",
        description: "Send the token in the Authorization header",
      });
    }
    const header = c.req.header("authorization");
    if (!header) return refuse(401);
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
    if (!match) {
      refuse(401, { code: "invalid_token", description: "Malformed Authorization header" });
    }
    const presented = match![1]!;
    // A remembered token is taken synchronously (no await: one microtask hop less per request).
    const found = options.cache?.peek(presented) ??
      await (options.cache?.load(presented) ?? options.tokens.verifyAccessToken(presented));
    if (!found) {
      refuse(401, {
        code: "invalid_token",
        description: "The access token is invalid, expired or revoked",
      });
    }
    const { token } = found!;
    if (token.resource !== null && !options.resources.includes(token.resource)) {
      refuse(401, {
        code: "invalid_token",
        description: "The access token was issued for another resource",
      });
    }
    let grant = found!.grant;
    if (options.freshness) {
      try {
        grant = await options.freshness.ensureFresh(grant);
        if (grant !== found!.grant) options.cache?.remember(presented, { token, grant });
      } catch (err) {
        if (err instanceof GrantRevokedError) {
          options.cache?.forgetGrant(grant.id);
          refuse(401, {
            code: "invalid_token",
            description: `This sign-in has ended: ${err.message}; sign in again`,
          });
        }
        if (!(err instanceof PermissionsStaleError)) throw err;
        throw new HTTPException(503, {
          res: Response.json({ error: "temporarily_unavailable", error_description: err.message }, {
            status: 503,
            headers: { "retry-after": "5", "cache-control": "no-store" },
          }),
        });
      }
    }
    c.set("accessToken", presented);
    c.set("identity", identityOf(token, grant));
    return next();
  };
}

/** The identity of each verified token, built once while its grant stays the same object. */
const IDENTITIES = new WeakMap<AccessTokenRecord, { grant: Grant; identity: Identity }>();

/**
 * Who the caller is, from its token and grant: built once per token and grant (the token cache hands
 * back the same objects for its bound), frozen, since every request of that token shares it.
 */
function identityOf(token: AccessTokenRecord, grant: Grant): Identity {
  const known = IDENTITIES.get(token);
  if (known?.grant === grant) return known.identity;
  const identity: Identity = Object.freeze({
    userId: grant.userId,
    email: grant.email,
    name: grant.name,
    organizationId: grant.organizationId,
    role: grant.role,
    roles: grant.roles,
    permissions: grant.permissions,
    clientId: token.clientId,
    grantId: grant.id,
    scopes: token.scopes,
    resource: token.resource,
    expiresAt: token.expiresAt,
  });
  IDENTITIES.set(token, { grant, identity });
  return identity;
}

/** Escapes a quoted-string (RFC 7230 §3.2.6). */
function quote(value: string): string {
  return value.replace(/[\\"]/g, (ch) => `\\${ch}`);
}

/**
 * The bearer check for one of our MCP endpoints (`mcp`: Streamable HTTP, `sse`: 2024-11-05 SSE),
 * built once by the app and handed to that endpoint's routes.
 */
export function bearerFor(
  which: "mcp" | "sse",
  deps: {
    config: Pick<Config, "publicUrl">;
    tokens: TokenStore;
    freshness: Freshness;
    cache?: TokenCache;
  },
): MiddlewareHandler<{ Variables: BearerVariables }> {
  return requireBearer({
    tokens: deps.tokens,
    resources: [resources(deps.config)[which]],
    resourceMetadataUrl: protectedResourceMetadataUrl(deps.config, which),
    freshness: deps.freshness,
    ...(deps.cache ? { cache: deps.cache } : {}),
  });
}

/**
 * The authorization server's parts, built once per app from its dependencies.
 *
 * @module
 */
import type { WorkOS } from "@workos-inc/node";
import type { Config } from "../lib/config.ts";
import { grantRevokedByWorkOS, permissionsChanged } from "../audit/map.ts";
import type { AuditLog } from "../audit/store.ts";
import { MetadataClients, type MetadataClientsOptions } from "./cimd.ts";
import { ClientStore } from "./clients.ts";
import { CodeStore } from "./codes.ts";
import { Consent } from "./consent.ts";
import type { DerivedKeys } from "./crypto.ts";
import { Freshness } from "./freshness.ts";
import { GrantStore } from "./grants.ts";
import { PendingStore } from "./pending.ts";
import { forgetOnRevoke, TokenCache } from "./token_cache.ts";
import { TokenStore } from "./tokens.ts";
import { WebSessions } from "./web_sessions.ts";
import { Upstream } from "./workos.ts";

/** Everything the OAuth routes and the bearer check use. */
export interface AuthServices {
  readonly config: Config;
  readonly clients: ClientStore;
  readonly grants: GrantStore;
  readonly tokens: TokenStore;
  /** Verified tokens remembered for the bearer checks (one per app, see `token_cache.ts`). */
  readonly tokenCache: TokenCache;
  readonly codes: CodeStore;
  readonly pending: PendingStore;
  readonly consent: Consent;
  readonly upstream: Upstream;
  readonly freshness: Freshness;
  readonly webSessions: WebSessions;
  readonly audit: AuditLog;
  readonly now: () => number;
}

/** Builds the services over one KV handle. */
export function createAuthServices(
  deps: {
    kv: Deno.Kv;
    config: Config;
    workos: WorkOS;
    keys: DerivedKeys;
    audit: AuditLog;
    now?: () => number;
    /** Test hooks for client ID metadata document fetches (a scripted resolver, a test CA). */
    cimd?: Pick<MetadataClientsOptions, "resolve" | "caCerts">;
  },
): AuthServices {
  const now = deps.now ?? Date.now;
  const grants = new GrantStore(deps.kv, deps.keys.sealer, now);
  const tokens = new TokenStore(deps.kv, grants, {
    sealer: deps.keys.sealer,
    graceMs: deps.config.refreshGraceSeconds * 1000,
    now,
  });
  const tokenCache = new TokenCache(tokens, { now });
  forgetOnRevoke(tokenCache, grants, tokens);
  const upstream = new Upstream(deps.workos, deps.config);
  return {
    config: deps.config,
    clients: new ClientStore(
      deps.kv,
      now,
      new MetadataClients(deps.kv, {
        allowLoopback: deps.config.cimdAllowLoopback,
        now,
        ...deps.cimd,
      }),
    ),
    grants,
    tokens,
    tokenCache,
    codes: new CodeStore(deps.kv, grants, tokens, now),
    pending: new PendingStore(deps.kv, now),
    consent: new Consent(deps.kv, deps.keys.cookieSecrets, now),
    upstream,
    freshness: new Freshness({ kv: deps.kv, grants, upstream, now }, {
      maxAgeMs: deps.config.permissionsMaxAgeSeconds * 1000,
      upstreamTimeoutMs: deps.config.workos.timeoutMs,
      onRevoke: (grant, reason) => void deps.audit.record(grantRevokedByWorkOS(grant, reason)),
      onChange: (before, after) => void deps.audit.record(permissionsChanged(before, after)),
    }),
    webSessions: new WebSessions(deps.kv, now),
    audit: deps.audit,
    now,
  };
}

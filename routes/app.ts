/**
 * `createApp`: the whole service as one Hono app, every dependency passed in, so tests build it over an
 * in-memory KV and the emulator, and two apps over one KV behave like two Deploy instances.
 *
 * @module
 */
import type { WorkOS } from "@workos-inc/node";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { type DerivedKeys, deriveLogKeyBytes } from "../auth/crypto.ts";
import { createAuthServices } from "../auth/services.ts";
import { imageGeneratorFromConfig } from "../mcp/image/from_env.ts";
import { createMcpRuntime, type McpRuntime } from "../mcp/runtime.ts";
import type { ToolServices } from "../mcp/tool.ts";
import type { Config } from "../lib/config.ts";
import { OAuthError, PageError } from "../lib/errors.ts";
import { errorFields, flushLogs, log } from "../lib/log.ts";
import { requestLog } from "../lib/request_log.ts";
import { withTimeout } from "../lib/timeout.ts";
import { AuditLog } from "../audit/store.ts";
import { createWorkOSAuditSink } from "../audit/workos_sink.ts";
import type { ToolCallRecord } from "../mcp/tool.ts";
import { accountRoutes } from "./account.ts";
import { callbackRoutes } from "./callback.ts";
import { healthRoutes } from "./health.ts";
import { homeRoutes } from "./home.ts";
import { mcpRoutes } from "./mcp.ts";
import { oauthRoutes } from "./oauth.ts";
import { sseRoutes } from "./sse.ts";
import { errorPage } from "./pages/error.ts";
import { wellKnownRoutes } from "./well_known.ts";

/** What {@linkcode createApp} needs. */
export interface AppDeps {
  kv: Deno.Kv;
  config: Config;
  workos: WorkOS;
  keys: DerivedKeys;
  /** The AuthKit emulator's routes, mounted on our origin in emulator mode. */
  emulator?: Hono;
  now?: () => number;
  /** Services for MCP tools; built from the configuration (CLOUDFLARE_*) when absent. */
  tools?: ToolServices;
}

/** The built service: its routes, and a way to end its streams and flush its audit trail. */
export interface Service {
  readonly app: Hono;
  readonly audit: AuditLog;
  readonly mcp: McpRuntime;
  /** Ends open MCP streams (so a server shutdown is not held up) and flushes the audit sinks. */
  close(): Promise<void>;
}

/** Builds the app. */
export function createApp(deps: AppDeps): Service {
  const audit = new AuditLog(deps.kv, {
    retentionDays: deps.config.auditRetentionDays,
    ...(deps.now ? { now: deps.now } : {}),
    sinks: deps.config.workosAuditLogs ? [createWorkOSAuditSink(deps.workos)] : [],
  });
  const auth = createAuthServices({ ...deps, audit });
  const onToolCall = (r: ToolCallRecord) =>
    void audit.record({
      action: r.outcome === "refused" ? "mcp.tool_refused" : "mcp.tool_called",
      userId: r.identity.userId,
      organizationId: r.identity.organizationId,
      clientId: r.identity.clientId,
      grantId: r.identity.grantId,
      tool: r.tool,
      outcome: r.outcome,
      durationMs: r.durationMs,
      ...(r.detail ? { detail: r.detail } : {}),
    });
  const mcp = createMcpRuntime({
    kv: deps.kv,
    config: deps.config,
    services: {
      image: deps.tools?.image ?? imageGeneratorFromConfig({
        cloudflareAccountId: deps.config.cloudflare.accountId,
        cloudflareApiToken: deps.config.cloudflare.apiToken,
        cloudflareApiBaseUrl: deps.config.cloudflare.apiBaseUrl,
      }),
      onToolCall,
    },
    ...(deps.now ? { now: deps.now } : {}),
  });
  const app = new Hono();
  app.use(requestLog({
    key: deriveLogKeyBytes(deps.config.cookieEncryptionKey),
    instance: mcp.instanceId,
  }));

  app.onError((err, c) => {
    if (err instanceof OAuthError) return err.toResponse();
    if (err instanceof PageError) return errorPage(c, err);
    if (err instanceof HTTPException) return err.getResponse();
    log("error", "unhandled error", { path: c.req.path, ...errorFields(err) });
    return c.json({ error: "server_error", error_description: "Internal error" }, 500);
  });

  app.route(
    "/",
    healthRoutes({
      kv: deps.kv,
      mcp,
      startedAt: (deps.now ?? Date.now)(),
      deploymentId: deps.config.deploymentId,
      ...(deps.now ? { now: deps.now } : {}),
    }),
  );
  app.route("/.well-known", wellKnownRoutes(deps.config));
  app.route("/", oauthRoutes(auth));
  app.route("/", callbackRoutes(auth));
  app.route("/", mcpRoutes(auth, mcp));
  app.route("/", sseRoutes(auth, mcp));
  app.route(
    "/",
    accountRoutes(auth, {
      activity: async (userId) =>
        (await audit.listForUser(userId, { limit: 30 })).map((e) => ({
          at: e.occurredAt,
          action: e.tool ? `${e.action} ${e.tool}` : e.action,
          detail: [e.outcome, e.clientId, e.detail].filter(Boolean).join(" · "),
        })),
      onRevoke: (grant, session) =>
        void audit.record({
          action: "oauth.grant_revoked",
          userId: session.identity.userId,
          organizationId: grant.organizationId,
          clientId: grant.clientId,
          grantId: grant.id,
          outcome: "success",
          detail: "revoked by the user on /account",
        }),
    }),
  );
  app.route("/", homeRoutes(deps.config));
  if (deps.emulator) app.route("/", deps.emulator);
  return {
    app,
    audit,
    mcp,
    async close() {
      await mcp.close();
      await withTimeout(audit.flush(), 2000).catch(() => {});
      audit.close();
      flushLogs();
    },
  };
}

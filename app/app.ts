/**
 * `createApp`: the whole service as one Hono app, every dependency passed in, so tests build it over an
 * in-memory KV and the emulator, and two apps over one KV behave like two Deploy instances.
 *
 * @module
 */
import type { WorkOS } from "@workos-inc/node";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { MetadataClientsOptions } from "../auth/cimd.ts";
import { type DerivedKeys, deriveLogKeyBytes } from "../auth/crypto.ts";
import { createAuthServices } from "../auth/services.ts";
import { createMcpRuntime, type McpRuntime } from "../mcp/runtime.ts";
import type { Config } from "../lib/config.ts";
import {
  apiErrorResponse,
  OAuthError,
  PageError,
  RequestError,
  STORAGE_RETRY_AFTER_S,
  StorageError,
} from "../lib/errors.ts";
import { guardKv } from "../lib/kv_guard.ts";
import { errorFields, flushLogs, log } from "../lib/log.ts";
import { requestLog } from "../routes/request_log.ts";
import { withTimeout } from "../lib/timeout.ts";
import { grantRevokedByUser, toolCallEvent } from "../audit/map.ts";
import { AuditLog } from "../audit/store.ts";
import { createWorkOSAuditSink } from "../audit/workos_sink.ts";
import type { ImageGenerator, ToolCallRecord } from "../mcp/tool.ts";
import { accountRoutes } from "../routes/account.ts";
import { limitBodies } from "../routes/body_limits.ts";
import { errorFormatFor } from "../routes/error_format.ts";
import { RATE_LIMITED_PATHS, rateLimitAnonymous } from "../routes/rate_limits.ts";
import { callbackRoutes } from "../routes/callback.ts";
import { healthRoutes } from "../routes/health.ts";
import { homeRoutes } from "../routes/home.ts";
import { bearerFor } from "../auth/bearer.ts";
import { allowedOrigins } from "../mcp/origin.ts";
import { mcpErrorHandler } from "../mcp/jsonrpc.ts";
import { mcpRoutes } from "../routes/mcp.ts";
import { oauthRoutes } from "../routes/oauth.ts";
import { sseRoutes } from "../routes/sse.ts";
import { organizationNames } from "../routes/organization_names.ts";
import { brandPages } from "../routes/pages/brand.ts";
import { errorPage } from "../routes/pages/error.ts";
import { wellKnownRoutes } from "../routes/well_known.ts";

/** What {@linkcode createApp} needs. */
export interface AppDeps {
  kv: Deno.Kv;
  config: Config;
  workos: WorkOS;
  keys: DerivedKeys;
  /** The AuthKit emulator's routes, mounted on our origin in emulator mode. */
  emulator?: Hono;
  now?: () => number;
  /** Test hooks for client ID metadata document fetches (see `auth/cimd.ts`). */
  cimd?: Pick<MetadataClientsOptions, "resolve" | "caCerts">;
  /** The image backend for MCP tools; the MCP runtime builds it from CLOUDFLARE_* when absent. */
  image?: ImageGenerator;
}

/** The built service: its routes, and a way to end its streams and flush its audit trail. */
export interface Service {
  readonly app: Hono;
  readonly audit: AuditLog;
  readonly mcp: McpRuntime;
  /** Ends open MCP streams (so a server shutdown is not held up) and flushes what is queued. */
  close(): Promise<void>;
  /**
   * The last step of a shutdown, once requests in flight have finished: writes what they queued after
   * {@linkcode Service.close} (answers, audit events, log lines) and closes the audit sinks.
   */
  flush(): Promise<void>;
}

/** Builds the app. */
export function createApp(input: AppDeps): Service {
  // Every store sees KV through the guard: a failure or a hang becomes a StorageError (503).
  const deps: AppDeps = { ...input, kv: guardKv(input.kv) };
  const audit = new AuditLog(deps.kv, {
    retentionDays: deps.config.auditRetentionDays,
    ...(deps.now ? { now: deps.now } : {}),
    sinks: deps.config.workosAuditLogs ? [createWorkOSAuditSink(deps.workos)] : [],
  });
  const auth = createAuthServices({ ...deps, audit });
  const onToolCall = (call: ToolCallRecord) => audit.enqueue(toolCallEvent(call));
  const mcp = createMcpRuntime({
    kv: deps.kv,
    config: deps.config,
    onToolCall,
    ...(deps.image ? { image: deps.image } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });
  const app = new Hono();
  app.use(requestLog({
    key: deriveLogKeyBytes(deps.config.cookieEncryptionKey),
    instance: mcp.instanceId,
  }));
  app.use(brandPages(deps.config.brand));

  app.use(limitBodies());
  const rateLimit = rateLimitAnonymous({
    kv: deps.kv,
    limits: deps.config.limits,
    ...(deps.now ? { now: deps.now } : {}),
  });
  for (const path of RATE_LIMITED_PATHS) app.use(path, rateLimit);

  // The one place failures become HTTP answers, in the format of the route they reached.
  app.onError((err, c) => {
    if (err instanceof OAuthError) return err.toResponse();
    if (err instanceof PageError) return errorPage(c, err);
    const format = errorFormatFor(c.req.path, c.req.header("accept"));
    if (err instanceof StorageError) {
      log("warn", "storage unavailable", { path: c.req.path, code: err.code, ...errorFields(err) });
    }
    // The MCP transports answer in JSON-RPC (their routes carry no error handler of their own: Hono
    // would wrap each of their handlers and middleware in another compose, on every request).
    if (format === "jsonrpc") return mcpErrorHandler(err, c);
    if (err instanceof RequestError || err instanceof StorageError) {
      if (format !== "page") return apiErrorResponse(err, format)!;
      c.header("cache-control", "no-store");
      if (err instanceof StorageError) c.header("retry-after", String(STORAGE_RETRY_AFTER_S));
      for (const [k, v] of Object.entries(err instanceof RequestError ? err.headers : {})) {
        c.header(k, v);
      }
      return errorPage(
        c,
        new PageError(
          err.code,
          err instanceof StorageError
            ? "This service cannot reach its storage right now; try again in a few seconds"
            : err.message,
          err.status,
        ),
      );
    }
    if (err instanceof HTTPException) {
      // Hono's own refusals (the csrf middleware's 403) carry plain text: answer in the route's format.
      if (err.status === 403) {
        const refused = new RequestError("forbidden", "Cross-origin form posts are refused");
        return format === "page"
          ? errorPage(c, new PageError("forbidden", refused.message, 403))
          : apiErrorResponse(refused, format)!;
      }
      return err.getResponse();
    }
    log("error", "unhandled error", { path: c.req.path, ...errorFields(err) });
    return c.json({ error: "server_error", error_description: "Internal error" }, 500);
  });

  app.notFound((c) => {
    const format = errorFormatFor(c.req.path, c.req.header("accept"));
    const err = new RequestError(
      "not_found",
      `Nothing is served at ${c.req.method} ${c.req.path.slice(0, 200)}`,
    );
    return format === "page"
      ? errorPage(c, new PageError("not_found", "This page does not exist", 404))
      : apiErrorResponse(err, format)!;
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
  // Each MCP endpoint's bearer check is built once here and handed to its routes.
  const origins = allowedOrigins(deps.config);
  const bearer = (which: "mcp" | "sse") =>
    bearerFor(which, {
      config: deps.config,
      tokens: auth.tokens,
      freshness: auth.freshness,
      cache: auth.tokenCache,
    });
  app.route("/", mcpRoutes({ bearer: bearer("mcp"), allowedOrigins: origins }, mcp));
  app.route("/", sseRoutes({ bearer: bearer("sse"), allowedOrigins: origins }, mcp));
  app.route(
    "/",
    accountRoutes(auth, {
      activity: async (userId) =>
        (await audit.listForUser(userId, { limit: 30 })).map((e) => ({
          at: e.occurredAt,
          action: e.action,
          tool: e.tool,
          outcome: e.outcome,
          client: e.clientId ?? undefined,
        })),
      organizationName: organizationNames(deps.workos),
      onRevoke: (grant, session) =>
        audit.enqueue(grantRevokedByUser(grant, session.identity.userId)),
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
      flushLogs();
    },
    async flush() {
      await withTimeout(mcp.flush(), 2000).catch(() => {});
      await withTimeout(audit.flush(), 2000).catch(() => {});
      audit.close();
      flushLogs();
    },
  };
}

/**
 * `createApp`: the whole service as one Hono app, every dependency passed in, so tests build it over an
 * in-memory KV and the emulator, and two apps over one KV behave like two Deploy instances.
 *
 * @module
 */
import type { WorkOS } from "@workos-inc/node";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { DerivedKeys } from "../auth/crypto.ts";
import { createAuthServices } from "../auth/services.ts";
import { imageGeneratorFromConfig } from "../mcp/image/from_env.ts";
import { createMcpRuntime } from "../mcp/runtime.ts";
import type { ToolServices } from "../mcp/tool.ts";
import type { Config } from "../lib/config.ts";
import { OAuthError, PageError } from "../lib/errors.ts";
import { errorFields, log } from "../lib/log.ts";
import { callbackRoutes } from "./callback.ts";
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

/** Builds the app. */
export function createApp(deps: AppDeps): Hono {
  const auth = createAuthServices(deps);
  const mcp = createMcpRuntime({
    kv: deps.kv,
    config: deps.config,
    services: deps.tools ?? {
      image: imageGeneratorFromConfig({
        cloudflareAccountId: deps.config.cloudflare.accountId,
        cloudflareApiToken: deps.config.cloudflare.apiToken,
        cloudflareApiBaseUrl: deps.config.cloudflare.apiBaseUrl,
      }),
    },
    ...(deps.now ? { now: deps.now } : {}),
  });
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof OAuthError) return err.toResponse();
    if (err instanceof PageError) return errorPage(c, err);
    if (err instanceof HTTPException) return err.getResponse();
    log("error", "unhandled error", { path: c.req.path, ...errorFields(err) });
    return c.json({ error: "server_error", error_description: "Internal error" }, 500);
  });

  app.route("/.well-known", wellKnownRoutes(deps.config));
  app.route("/", oauthRoutes(auth));
  app.route("/", callbackRoutes(auth));
  app.route("/", mcpRoutes(auth, mcp));
  app.route("/", sseRoutes(auth, mcp));
  app.route("/", homeRoutes(deps.config));
  if (deps.emulator) app.route("/", deps.emulator);
  return app;
}

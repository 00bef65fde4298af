/**
 * Starting the service: open KV, derive keys, build the WorkOS client (and in emulator mode the emulator,
 * on our own origin), create the app and listen. `main.ts` calls it with the process environment; tests
 * call it with port 0 and an in-memory KV, so they drive a real server over real HTTP.
 *
 * @module
 */
import type { Hono } from "hono";
import { deriveKeys } from "../auth/crypto.ts";
import { createWorkOS } from "../auth/workos.ts";
import { type AuthKitEmulator, createAuthKitEmulator } from "../emulator/app.ts";
import { type AppDeps, createApp, type Service } from "../routes/app.ts";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import { retryOnLock } from "./kv_retry.ts";

/** A running server. */
export interface RunningServer {
  readonly config: Config;
  readonly url: string;
  readonly app: Hono;
  /** The service behind `app` (its MCP runtime, audit trail). */
  readonly service: Service;
  readonly kv: Deno.Kv;
  /** The emulator, in emulator mode. */
  readonly emulator: AuthKitEmulator | undefined;
  /** Stops listening and closes KV (unless KV was passed in). */
  close(): Promise<void>;
}

/** Options of {@linkcode startServer}. */
export interface StartOptions {
  /** Environment variables (validated by {@linkcode loadConfig}). `PORT=0` picks a free port. */
  env: Record<string, string | undefined>;
  /** An open KV to use instead of opening one from the configuration (not closed by `close()`). */
  kv?: Deno.Kv;
  now?: () => number;
  signal?: AbortSignal;
  /** Test hooks for client ID metadata document fetches (a scripted resolver, a test CA). */
  cimd?: AppDeps["cimd"];
}

/**
 * Starts the service.
 * @throws {import("./config.ts").ConfigError} for a bad configuration.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  let config = loadConfig(options.env);
  let handler: Deno.ServeHandler = () => new Response("Starting", { status: 503 });
  const server = Deno.serve({
    port: config.port,
    hostname: config.hostname,
    onListen() {},
    ...(options.signal ? { signal: options.signal } : {}),
  }, (req, info) => handler(req, info));
  if (config.port === 0) config = loadConfig({ ...options.env, PORT: String(server.addr.port) });

  const kv = options.kv ?? await openKv(config);
  const keys = await deriveKeys(config.cookieEncryptionKey);
  const emulator = config.mode === "emulator"
    ? await createAuthKitEmulator({
      clientId: config.workos.clientId,
      apiKey: config.workos.apiKey,
      ...(config.emulatorUsersFile ? { usersFile: config.emulatorUsersFile } : {}),
      ...(options.now ? { clock: options.now } : {}),
    })
    : undefined;
  const service = createApp({
    kv,
    config,
    workos: createWorkOS(config),
    keys,
    ...(emulator ? { emulator: emulator.app } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.cimd ? { cimd: options.cimd } : {}),
  });
  const app = service.app;
  handler = (req, info) => app.fetch(req, info);
  return {
    config,
    url: config.publicUrl,
    app,
    service,
    kv,
    emulator,
    async close() {
      await service.close();
      await server.shutdown();
      if (!options.kv) kv.close();
    },
  };
}

/**
 * Opens KV: the attached database on Deno Deploy (no path), a remote database through KV Connect
 * (DENO_KV_URL; Deno reads DENO_KV_ACCESS_TOKEN itself), else the local file.
 */
export async function openKv(config: Pick<Config, "kvPath">): Promise<Deno.Kv> {
  if (config.kvPath === undefined) return await Deno.openKv();
  if (/^https?:\/\//.test(config.kvPath)) {
    try {
      return await Deno.openKv(config.kvPath);
    } catch (err) {
      // The KV Connect metadata exchange happens here: a wrong URL or token fails now, not later.
      throw new ConfigError(
        "DENO_KV_URL",
        `cannot open ${config.kvPath} (${
          err instanceof Error ? err.message : String(err)
        }); check the URL and DENO_KV_ACCESS_TOKEN`,
      );
    }
  }
  if (config.kvPath === ":memory:") return await Deno.openKv(config.kvPath);
  const dir = config.kvPath.replace(/[^/\\]*$/, "");
  if (dir) await Deno.mkdir(dir, { recursive: true });
  // A local file may be shared by several processes: retry commits that find it locked.
  return retryOnLock(await Deno.openKv(config.kvPath));
}

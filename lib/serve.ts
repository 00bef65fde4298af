/**
 * Starting the service: open KV, derive keys, build the WorkOS client (and in emulator mode the emulator,
 * on our own origin), create the app and listen. `main.ts` calls it with the process environment; tests
 * call it with port 0 and an in-memory KV, so they drive a real server over real HTTP.
 *
 * @module
 */
import type { Hono } from "hono";
import { type DerivedKeys, deriveKeys } from "../auth/crypto.ts";
import { GrantStore } from "../auth/grants.ts";
import { checkKeyChange } from "../auth/key_change.ts";
import { createWorkOS } from "../auth/workos.ts";
import { type AuthKitEmulator, createAuthKitEmulator } from "../emulator/app.ts";
import { type AppDeps, createApp, type Service } from "../routes/app.ts";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import { assertWritable } from "./kv_probe.ts";
import { retryOnLock } from "./kv_retry.ts";
import { errorFields, log } from "./log.ts";

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
  if (!options.kv) {
    try {
      // A read-only local file would fail every write later; a remote one is only reported.
      const probe = await assertWritable(kv, config.kvPath);
      if (!probe.ok) log("warn", "KV does not answer at start", { ...probe });
    } catch (err) {
      kv.close();
      await server.shutdown();
      throw err;
    }
  }
  const keys = await deriveKeys(config.cookieEncryptionKey, config.previousCookieEncryptionKeys);
  await startupKeyCheck(kv, keys);
  const emulator = config.mode === "emulator"
    ? await createAuthKitEmulator({
      clientId: config.workos.clientId,
      apiKey: config.workos.apiKey,
      ...(config.emulatorUsersFile ? { usersFile: config.emulatorUsersFile } : {}),
      // Kept beside a local KV file this server opened itself (never beside a KV passed in).
      ...(!options.kv && localKvDir(config)
        ? { sessionsFile: `${localKvDir(config)}emulator-sessions.json` }
        : {}),
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
 * Runs the key-change scan, waiting for it at most a few seconds: KV trouble at start must not keep the
 * server from listening (`/healthz` reports it); the scan then finishes in the background, and a grant it
 * has not reached yet is ended on its next refresh instead.
 */
async function startupKeyCheck(kv: Deno.Kv, keys: DerivedKeys): Promise<void> {
  const scan = checkKeyChange(kv, new GrantStore(kv, keys.sealer), keys).catch((err) => {
    log("warn", "key-change check at start failed; grants are checked as they refresh", {
      ...errorFields(err),
    });
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([scan, new Promise((r) => (timer = setTimeout(r, 3000)))]);
  clearTimeout(timer);
}

/** The folder of a local KV file (with its trailing slash), or undefined for memory, remote or Deploy. */
export function localKvDir(config: Pick<Config, "kvPath">): string | undefined {
  const path = config.kvPath;
  if (path === undefined || path === ":memory:" || /^https?:\/\//.test(path)) return undefined;
  return path.replace(/[^/\\]*$/, "") || "./";
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

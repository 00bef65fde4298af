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
import { type AppDeps, createApp, type Service } from "./app.ts";
import { type Config, ConfigError, type ConfigProblem, loadConfig } from "../lib/config.ts";
import { assertWritable } from "../lib/kv_probe.ts";
import { retryOnLock } from "../lib/kv_retry.ts";
import { errorFields, log } from "../lib/log.ts";

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
 * Starts the service. Every startup problem (the port, the host name, the KV location, the demo users
 * file) is collected and thrown together as one {@linkcode ConfigError}, each naming its variable and
 * the fix.
 * @throws {import("../lib/config.ts").ConfigError} for a bad configuration or environment.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  let config = loadConfig(options.env);
  const problems: ConfigProblem[] = [];
  let handler: Deno.ServeHandler = () => new Response("Starting", { status: 503 });
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  try {
    server = Deno.serve({
      port: config.port,
      hostname: config.hostname,
      onListen() {},
      ...(options.signal ? { signal: options.signal } : {}),
    }, (req, info) => handler(req, info));
    if (config.port === 0) config = loadConfig({ ...options.env, PORT: String(server.addr.port) });
  } catch (err) {
    problems.push(listenProblem(config, err));
  }

  let kv: Deno.Kv | undefined;
  try {
    kv = options.kv ?? await openKv(config);
    if (!options.kv) {
      // A read-only local file would fail every write later; a remote one is only reported.
      const probe = await assertWritable(kv, config.kvPath);
      if (!probe.ok) log("warn", "KV does not answer at start", { ...probe });
    }
  } catch (err) {
    if (err instanceof ConfigError) problems.push(...err.problems);
    else problems.push(kvProblem(config, err));
  }
  let emulator: AuthKitEmulator | undefined;
  if (config.mode === "emulator") {
    try {
      emulator = await createAuthKitEmulator({
        clientId: config.workos.clientId,
        apiKey: config.workos.apiKey,
        ...(config.emulatorUsersFile ? { usersFile: config.emulatorUsersFile } : {}),
        // Kept beside a local KV file this server opened itself (never beside a KV passed in).
        ...(!options.kv && localKvDir(config)
          ? { sessionsFile: `${localKvDir(config)}emulator-sessions.json` }
          : {}),
        ...(options.now ? { clock: options.now } : {}),
        onUsersFileError: (err) =>
          log("error", "AUTHKIT_EMULATOR_USERS: the demo users file is broken", {
            variable: "AUTHKIT_EMULATOR_USERS",
            error: err.message,
          }),
      });
    } catch (err) {
      problems.push({
        variable: "AUTHKIT_EMULATOR_USERS",
        message: `${
          err instanceof Error ? err.message : String(err)
        }; fix the file, point AUTHKIT_EMULATOR_USERS at a valid one, or unset it for the built-in demo users`,
      });
    }
  }
  if (problems.length || !server || !kv) {
    await server?.shutdown();
    if (kv && !options.kv) kv.close();
    throw ConfigError.of(problems);
  }

  const keys = await deriveKeys(config.cookieEncryptionKey, config.previousCookieEncryptionKeys);
  await startupKeyCheck(kv, keys);
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
  const alias = loopbackAlias(config);
  handler = (req, info) => alias(req) ?? app.fetch(req, info);
  const listening = server;
  const openedKv = kv;
  return {
    config,
    url: config.publicUrl,
    app,
    service,
    kv: openedKv,
    emulator,
    async close() {
      await service.close(); // ends streams, so the shutdown below is not held up by them
      await listening.shutdown(); // requests in flight finish
      await service.flush(); // and what they queued meanwhile is written
      if (!options.kv) openedKv.close();
    },
  };
}

/** The problem behind a failed `Deno.serve`: the port is taken, or the host name is wrong. */
function listenProblem(config: Config, err: unknown): ConfigProblem {
  const why = err instanceof Error ? err.message : String(err);
  if (err instanceof Deno.errors.AddrInUse) {
    return {
      variable: "PORT",
      message:
        `port ${config.port} is already in use on ${config.hostname} (another copy of this server?); stop that program or set PORT to a free port (PORT=0 picks any)`,
    };
  }
  return {
    variable: "HOSTNAME",
    message:
      `cannot listen on "${config.hostname}" (${why}); set HOSTNAME to an address of this machine: 127.0.0.1 (this computer only) or 0.0.0.0 (every interface)`,
  };
}

/** The problem behind a failed local KV open. */
function kvProblem(config: Config, err: unknown): ConfigProblem {
  const why = err instanceof Error ? err.message : String(err);
  const path = config.kvPath ?? "";
  if (err instanceof Deno.errors.NotCapable) {
    const dir = path.replace(/[/\\][^/\\]*$/, "") || ".";
    return {
      variable: "KV_PATH",
      message:
        `${path} is outside the folder \`deno task dev\`/\`deno task start\` may write (.data/); choose a path under .data/, or start with that folder allowed: deno run --allow-net --allow-env --allow-read --allow-write=${dir} --env-file=.env main.ts`,
    };
  }
  return {
    variable: "KV_PATH",
    message: `cannot open ${path} (${why}); choose a file in a folder this user can write`,
  };
}

/**
 * Requests that reach us through the other loopback name (127.0.0.1 when PUBLIC_URL says localhost, or
 * the reverse): OAuth binds tokens to PUBLIC_URL's origin, so a client configured with the other name
 * would fail later with a puzzling resource mismatch. A browser opening a page is sent to the same page
 * under PUBLIC_URL (307); anything else gets a 421 whose text names PUBLIC_URL and the address to use.
 */
function loopbackAlias(config: Config): (req: Request) => Response | undefined {
  const pub = new URL(config.publicUrl);
  const names = ["localhost", "127.0.0.1", "[::1]"];
  if (!names.includes(pub.hostname)) return () => undefined;
  return (req) => {
    const host = req.headers.get("host");
    if (!host || host === pub.host) return undefined;
    let url: URL;
    try {
      url = new URL(`http://${host}`);
    } catch {
      return undefined;
    }
    if (!names.includes(url.hostname) || url.port !== pub.port) return undefined;
    const { pathname, search } = new URL(req.url);
    if (pathname === "/healthz") return undefined;
    const there = `${config.publicUrl}${pathname}`;
    const page = (req.method === "GET" || req.method === "HEAD") &&
      (req.headers.get("accept") ?? "").includes("text/html");
    if (page) {
      return new Response(null, { status: 307, headers: { location: `${there}${search}` } });
    }
    return new Response(
      `This server's PUBLIC_URL is ${config.publicUrl}; connect to ${there} instead of ${url.origin}${pathname} ` +
        "(OAuth treats localhost and 127.0.0.1 as different sites), or set PUBLIC_URL to the address you use.\n",
      {
        status: 421,
        headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
      },
    );
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

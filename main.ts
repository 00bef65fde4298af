/**
 * Entry point: read the configuration, start the service, print a banner, stop cleanly on a signal.
 * Everything else lives in `app/serve.ts` and `app/app.ts`.
 *
 * Arguments (used by `deno task dev` and `deno task start`): `--dotenv` adds the variables of `./.env`
 * when that file exists (`lib/dotenv.ts`); `--preflight` starts everything, stops at once and exits 0,
 * or exits 1 with every startup problem; `--watched` leaves SIGINT/SIGTERM to Deno's default, because
 * under `--watch` a handled signal only restarts the program and the watcher would never exit.
 *
 * @module
 */
import { banner } from "./app/banner.ts";
import { ConfigError, resources } from "./lib/config.ts";
import { withStableDevKey } from "./app/dev_key.ts";
import { withDotEnv } from "./lib/dotenv.ts";
import { log } from "./lib/log.ts";
import { startServer } from "./app/serve.ts";

/** The longest a shutdown may take before the process exits anyway (Deploy kills at 5 s). */
const SHUTDOWN_DEADLINE_MS = 4000;

const preflight = Deno.args.includes("--preflight");
const watched = Deno.args.includes("--watched");
const dotenv = Deno.args.includes("--dotenv");

/** A person is reading (a terminal): human text instead of JSON lines. */
function human(stream: { isTerminal(): boolean }): boolean {
  return stream.isTerminal();
}

function warn(message: string, fields: Record<string, unknown> = {}): void {
  if (human(Deno.stderr)) {
    Deno.stderr.writeSync(new TextEncoder().encode(`⚠ ${message}\n`));
  } else log("warn", message, fields);
}

function note(message: string, fields: Record<string, unknown> = {}): void {
  if (human(Deno.stdout)) Deno.stdout.writeSync(new TextEncoder().encode(`  ${message}\n`));
  else log("info", message, fields);
}

/** Prints every startup problem (one line each, naming the variable and the fix) and exits 1. */
function fail(err: ConfigError): never {
  if (human(Deno.stderr)) {
    const head = err.problems.length === 1
      ? "The server cannot start:"
      : `The server cannot start (${err.problems.length} problems):`;
    const lines = err.problems.map((p) => `  ✖ ${p.variable}: ${p.message}`);
    Deno.stderr.writeSync(new TextEncoder().encode(`${[head, ...lines].join("\n")}\n`));
  } else {
    for (const p of err.problems) {
      log("error", `Invalid configuration: ${p.variable}: ${p.message}`, { variable: p.variable });
    }
  }
  Deno.exit(1);
}

try {
  const given = dotenv ? await withDotEnv(".env", Deno.env.toObject()) : Deno.env.toObject();
  const { env, keyFile } = await withStableDevKey(given);
  const server = await startServer({ env });
  const { config } = server;
  if (preflight) {
    await server.close();
    Deno.exit(0);
  }
  // Deno Deploy sends SIGINT and kills 5 s later: end streams (with `retry:`), finish requests, exit.
  let stopping = false;
  for (const signal of watched ? [] : ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      if (stopping) Deno.exit(1);
      stopping = true;
      log("info", "shutting down", { signal });
      setTimeout(() => {
        log("warn", "shutdown took too long; exiting", { afterMs: SHUTDOWN_DEADLINE_MS });
        Deno.exit(1);
      }, SHUTDOWN_DEADLINE_MS);
      server.close().finally(() => Deno.exit(0));
    });
  }
  const r = resources(config);
  const demoUsers = server.emulator?.describeUsers() ?? [];
  if (human(Deno.stdout)) {
    Deno.stdout.writeSync(new TextEncoder().encode(`${banner({ config, demoUsers })}\n`));
  } else {
    log("info", "MCP server listening", {
      mode: config.mode,
      url: config.publicUrl,
      mcp: r.mcp,
      sse: r.sse,
      account: `${config.publicUrl}/account`,
      listen: `${config.hostname}:${config.port}`,
      kv: config.kvPath ?? "Deno Deploy database",
      ...(config.mode === "emulator"
        ? { emulator: "local AuthKit emulator (sign in from an MCP client or /account)", demoUsers }
        : {
          workos: `${config.workos.apiHttps ? "https" : "http"}://${config.workos.apiHostname}`,
        }),
    });
  }
  for (const message of config.warnings) warn(message);
  if (keyFile) {
    note(`COOKIE_ENCRYPTION_KEY is not set: emulator mode keeps its key in ${keyFile}`, {
      keyFile,
    });
  } else if (config.ephemeralKey) {
    warn("COOKIE_ENCRYPTION_KEY is not set: using a per-process key (emulator mode only)");
  }
  if (config.cimdAllowLoopback) {
    log(
      "warn",
      "CIMD_ALLOW_LOOPBACK=true: client metadata documents may come from loopback over http (development only)",
    );
  }
} catch (err) {
  if (err instanceof ConfigError) fail(err);
  throw err;
}

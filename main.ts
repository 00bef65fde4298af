/**
 * Entry point: read the configuration, start the service, print a banner, stop cleanly on a signal.
 * Everything else lives in `lib/serve.ts` and `routes/app.ts`.
 *
 * @module
 */
import { ConfigError, resources } from "./lib/config.ts";
import { withStableDevKey } from "./lib/dev_key.ts";
import { log } from "./lib/log.ts";
import { startServer } from "./lib/serve.ts";

/** The longest a shutdown may take before the process exits anyway (Deploy kills at 5 s). */
const SHUTDOWN_DEADLINE_MS = 4000;

try {
  const { env, keyFile } = await withStableDevKey(Deno.env.toObject());
  const server = await startServer({ env });
  const { config } = server;
  const r = resources(config);
  log("info", "MCP server listening", {
    mode: config.mode,
    url: config.publicUrl,
    mcp: r.mcp,
    sse: r.sse,
    listen: `${config.hostname}:${config.port}`,
    kv: config.kvPath ?? "Deno Deploy database",
    ...(config.mode === "emulator"
      ? {
        emulator: `local AuthKit emulator at ${config.publicUrl}/user_management/authorize`,
        demoUsers: [
          "alice@example.com (image_generation)",
          "bob@example.com (none)",
          "carol@example.com (2 orgs)",
        ],
      }
      : { workos: `${config.workos.apiHttps ? "https" : "http"}://${config.workos.apiHostname}` }),
  });
  if (keyFile) {
    log("info", `COOKIE_ENCRYPTION_KEY is not set: emulator mode keeps its key in ${keyFile}`, {
      keyFile,
    });
  } else if (config.ephemeralKey) {
    log("warn", "COOKIE_ENCRYPTION_KEY is not set: using a per-process key (emulator mode only)");
  }
  if (config.cimdAllowLoopback) {
    log(
      "warn",
      "CIMD_ALLOW_LOOPBACK=true: client metadata documents may come from loopback over http (development only)",
    );
  }
  // Deno Deploy sends SIGINT and kills 5 s later: end streams (with `retry:`), finish requests, exit.
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
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
} catch (err) {
  if (err instanceof ConfigError) {
    log("error", err.message, { variable: err.variable });
    Deno.exit(1);
  }
  throw err;
}

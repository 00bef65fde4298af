/**
 * Starts the real service for a test: emulator mode, a free port on loopback, an in-memory KV.
 *
 * @module
 */
import { setQuiet } from "../../lib/log.ts";
import { type RunningServer, type StartOptions, startServer } from "../../app/serve.ts";

setQuiet(true);

/** Starts a server; dispose it with `await using`. */
export async function startTestServer(
  env: Record<string, string> = {},
  options: { now?: () => number; cimd?: StartOptions["cimd"] } = {},
): Promise<RunningServer & AsyncDisposable> {
  const kv = await Deno.openKv(":memory:");
  const server = await startServer({
    env: { PORT: "0", HOSTNAME: "127.0.0.1", ...env },
    kv,
    ...(options.now ? { now: options.now } : {}),
    ...(options.cimd ? { cimd: options.cimd } : {}),
  });
  return Object.assign(server, {
    async [Symbol.asyncDispose]() {
      await server.close();
      kv.close();
    },
  });
}

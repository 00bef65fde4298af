/**
 * Two instances of the real service on one KV file (two handles, as two Deploy isolates would have),
 * in one test process: `a` listens on loopback and owns the public URL; `b` is served in memory with
 * `b.fetch()` under the same URL, so a token issued by `a` is valid on `b`. Extra environment per
 * instance lets a test compare two configurations request for request.
 *
 * @module
 */
import { setQuiet } from "../../lib/log.ts";
import { type RunningServer, startServer } from "../../app/serve.ts";
import { sharedKv } from "./kv.ts";

setQuiet(true);

/** Two instances; dispose with `await using`. */
export interface Twins extends AsyncDisposable {
  readonly a: RunningServer;
  readonly b: RunningServer;
  /** The public URL (instance `a`'s). */
  readonly url: string;
  /** Sends `request` to instance `b` (in memory; its URL names the public origin). */
  fetchB(request: Request): Promise<Response>;
}

/** Starts the pair; `envA` and `envB` are added to each instance's environment; `nowB` is b's clock. */
export async function startTwins(
  envA: Record<string, string> = {},
  envB: Record<string, string> = {},
  options: { nowB?: () => number } = {},
): Promise<Twins> {
  const kv = await sharedKv();
  const key = Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16))
    .join("").padEnd(64, "0");
  const base = { PORT: "0", HOSTNAME: "127.0.0.1", COOKIE_ENCRYPTION_KEY: key };
  const a = await startServer({ env: { ...base, ...envA }, kv: kv.a });
  const b = await startServer({
    env: { ...base, PUBLIC_URL: a.url, ...envB },
    kv: kv.b,
    ...(options.nowB ? { now: options.nowB } : {}),
  });
  return {
    a,
    b,
    url: a.url,
    fetchB: async (request) => await b.app.fetch(request),
    async [Symbol.asyncDispose]() {
      await a.close();
      await b.close();
      await kv[Symbol.asyncDispose]();
    },
  };
}

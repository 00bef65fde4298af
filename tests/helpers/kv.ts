/**
 * Two KV handles on one temporary file: what two instances sharing a database look like from one test
 * process (each handle is its own connection; nothing is shared in memory).
 *
 * @module
 */

import { retryOnLock } from "../../lib/kv_retry.ts";

/** Two handles on a fresh KV file; dispose to close both and delete the file. */
export async function sharedKv(): Promise<
  { a: Deno.Kv; b: Deno.Kv; path: string } & AsyncDisposable
> {
  const dir = await Deno.makeTempDir({ prefix: "kv-shared-" });
  const path = `${dir}/kv.sqlite3`;
  // As `openKv()` does for a local file: commits that find it locked are retried.
  const a = retryOnLock(await Deno.openKv(path));
  const b = retryOnLock(await Deno.openKv(path));
  return {
    a,
    b,
    path,
    async [Symbol.asyncDispose]() {
      a.close();
      b.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

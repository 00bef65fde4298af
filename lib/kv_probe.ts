/**
 * Proving KV takes reads and writes. Deno opens a local file it cannot write read-only without a word
 * (then every write fails), so a read alone proves little: {@linkcode probeKv} reads, writes and deletes
 * one small key of the instance's own, each under a deadline. `/healthz` reports the result; at start,
 * {@linkcode assertWritable} refuses to serve from a database that cannot take a write.
 *
 * @module
 */
import { ConfigError } from "./config.ts";
import { keys } from "./kv_keys.ts";
import { errorFields } from "./log.ts";
import { withTimeout } from "./timeout.ts";

/** How long each probe step may take. */
export const PROBE_TIMEOUT_MS = 2000;

/** How long each step of the start probe may take. */
export const START_PROBE_TIMEOUT_MS = 10_000;

/** What a probe found. */
export interface KvProbe {
  ok: boolean;
  read: boolean;
  write: boolean;
  latencyMs: number;
  error?: string;
}

/** Reads, then writes and deletes `keys.healthWrite(instanceId)`; never throws. */
export async function probeKv(
  kv: Deno.Kv,
  instanceId: string,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<KvProbe> {
  const started = performance.now();
  const result = (read: boolean, write: boolean, err?: unknown): KvProbe => ({
    ok: read && write,
    read,
    write,
    latencyMs: Math.round((performance.now() - started) * 10) / 10,
    ...(err === undefined ? {} : { error: String(errorFields(err).error) }),
  });
  try {
    await withTimeout(kv.get(keys.healthProbe()), timeoutMs);
  } catch (err) {
    return result(false, false, err);
  }
  try {
    const key = keys.healthWrite(instanceId);
    // The value carries its own expiry (KV's expireIn is lazy); the delete normally follows at once.
    await withTimeout(kv.set(key, { at: Date.now() }, { expireIn: 60_000 }), timeoutMs);
    await withTimeout(kv.delete(key), timeoutMs);
  } catch (err) {
    return result(true, false, err);
  }
  return result(true, true);
}

/**
 * Refuses a local database file that cannot take a write (a read-only or immutable file, a full disk):
 * Deno would open it read-only without a word and every write would fail. A remote database (Deno
 * Deploy's, KV Connect) that does not answer at start is more likely a passing outage: that is left to
 * `/healthz` and the 503s, so a restart loop does not follow it.
 * @returns the probe, for the caller to log when it failed on a remote database.
 * @throws {ConfigError} naming KV_PATH and the fix.
 */
export async function assertWritable(kv: Deno.Kv, kvPath: string | undefined): Promise<KvProbe> {
  const local = kvPath !== undefined && kvPath !== ":memory:" && !/^https?:\/\//.test(kvPath);
  // Longer than a request's deadline for a file: instances starting together on one may queue briefly.
  const probe = await probeKv(
    kv,
    `start-${crypto.randomUUID()}`,
    local ? START_PROBE_TIMEOUT_MS : PROBE_TIMEOUT_MS,
  );
  if (probe.ok || !local) return probe;
  throw new ConfigError(
    "KV_PATH",
    `the database ${kvPath} cannot be ${
      probe.read ? "written" : "read"
    } (${probe.error}); make the file and its directory writable by this process (and the -wal and -shm files beside it), or point KV_PATH at a writable location`,
  );
}

/**
 * A stable COOKIE_ENCRYPTION_KEY for local emulator mode. Without one, every restart (and `deno task dev`
 * restarts on every save) would make a new key, and every connected client's sealed WorkOS session would
 * become unreadable. So when the key is not set, emulator mode keeps one in a file beside the local KV
 * file, made once, readable only by its owner. Never on Deno Deploy, never in WorkOS mode (which
 * requires the variable), never for an in-memory or remote KV.
 *
 * @module
 */
import { loadConfig } from "../lib/config.ts";
import { localKvDir } from "./serve.ts";

/** The file name of the kept key, in the KV file's folder. */
export const DEV_KEY_FILE = "cookie-encryption-key";

/**
 * `env` with COOKIE_ENCRYPTION_KEY filled from the kept key file (made when missing) where that applies;
 * `keyFile` names the file, for the startup line.
 * @throws {import("../lib/config.ts").ConfigError} for a bad configuration, as {@linkcode loadConfig}.
 */
export async function withStableDevKey(
  env: Record<string, string | undefined>,
): Promise<{ env: Record<string, string | undefined>; keyFile: string | undefined }> {
  const config = loadConfig(env);
  const dir = localKvDir(config);
  if (!config.ephemeralKey || config.mode !== "emulator" || config.onDeploy || !dir) {
    return { env, keyFile: undefined };
  }
  const keyFile = `${dir}${DEV_KEY_FILE}`;
  let key: string;
  try {
    key = await readOrMakeKey(dir, keyFile);
  } catch (err) {
    // Not allowed to write there (a KV_PATH outside the task's --allow-write): the start-up checks
    // report the folder with its fix; until then a per-process key does.
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      return { env, keyFile: undefined };
    }
    throw err;
  }
  return { env: { ...env, COOKIE_ENCRYPTION_KEY: key }, keyFile };
}

async function readOrMakeKey(dir: string, keyFile: string): Promise<string> {
  try {
    return (await Deno.readTextFile(keyFile)).trim();
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const key = crypto.getRandomValues(new Uint8Array(32)).toHex();
  await Deno.mkdir(dir, { recursive: true });
  // createNew: two processes starting at once keep the first one's key.
  try {
    await Deno.writeTextFile(keyFile, `${key}\n`, { createNew: true, mode: 0o600 });
    return key;
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    return (await Deno.readTextFile(keyFile)).trim();
  }
}

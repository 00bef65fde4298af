/**
 * The `.env` file of `deno task dev` and `deno task start`, read by the program rather than with Deno's
 * `--env-file`, which warns on every start (three times under `deno task dev`) when the file does not
 * exist yet: the usual state of a first run. The syntax is Node's `util.parseEnv` (the same as Deno's
 * `--env-file`: `NAME=value`, quotes, `#` comments, `export` prefixes), and, as with `--env-file`,
 * variables already set in the environment win.
 *
 * @see https://nodejs.org/api/util.html#utilparseenvcontent
 * @module
 */
import { parseEnv } from "node:util";

/**
 * `env` with the variables of the file at `path` added under it (a variable `env` already has keeps
 * its value); `env` itself when there is no such file.
 *
 * @throws {Deno.errors.PermissionDenied} or another read error other than a missing file
 * @example
 * ```ts
 * const env = await withDotEnv(".env", Deno.env.toObject());
 * ```
 */
export async function withDotEnv(
  path: string,
  env: Record<string, string>,
): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return env;
    throw err;
  }
  const fromFile = parseEnv(text) as Record<string, string>;
  return { ...fromFile, ...env };
}

/**
 * The `.env` file of `deno task dev` and `deno task start`, read by the program rather than with Deno's
 * `--env-file`, which warns on every start (three times under `deno task dev`) when the file does not
 * exist yet: the usual state of a first run. Read as `--env-file` reads it:
 *
 * - `NAME=value` lines, quotes, `#` comments and `export` prefixes, parsed by Node's `util.parseEnv`;
 * - `${NAME}` and `$NAME` in a value are replaced by that variable (from the environment, else from an
 *   earlier line, else empty), except in single-quoted values, which are taken as written;
 * - variables already set in the environment win over the file.
 *
 * A file that exists but cannot be read is a configuration error naming it, not a stack trace.
 *
 * The expansion is written here (a dozen lines) rather than taken from `dotenv-expand`, whose
 * precedence and quoting rules differ from Deno's; this one was checked against `--env-file` output.
 *
 * @see https://nodejs.org/api/util.html#utilparseenvcontent
 * @see https://docs.deno.com/runtime/reference/env_variables/#env-file
 * @module
 */
import { parseEnv } from "node:util";
import { ConfigError } from "./config.ts";

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;
const SINGLE_QUOTED = /^\s*(?:export\s+)?([\w.-]+)\s*=\s*'/;

/**
 * `env` with the variables of the file at `path` added under it (a variable `env` already has keeps
 * its value); `env` itself when there is no such file.
 *
 * @throws {ConfigError} naming `path` when the file exists but cannot be read
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
    const why = err instanceof Error ? err.message : String(err);
    throw new ConfigError(
      path,
      `cannot read ${path} (${why}); make it a readable file or remove it`,
    );
  }
  const literal = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const name = SINGLE_QUOTED.exec(line)?.[1];
    if (name) literal.add(name);
  }
  const fromFile: Record<string, string> = {};
  for (const [name, value] of Object.entries(parseEnv(text) as Record<string, string>)) {
    fromFile[name] = literal.has(name)
      ? value
      : value.replace(REFERENCE, (_, braced, bare) =>
        env[braced ?? bare] ?? fromFile[braced ?? bare] ?? "");
  }
  return { ...fromFile, ...env };
}

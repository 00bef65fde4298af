/**
 * Runs the AuthKit emulator on its own port:
 *
 * ```sh
 * deno run -A emulator/serve.ts --port 9000
 * ```
 *
 * Reads `WORKOS_CLIENT_ID` (default `client_emulator`), `WORKOS_API_KEY` (default
 * `sk_test_emulator`) and `AUTHKIT_EMULATOR_USERS` (default `emulator/users.json`). Point the SDK
 * at it with `new WorkOS(apiKey, { clientId, apiHostname: "127.0.0.1", https: false, port })`.
 *
 * @module
 */
import { createAuthKitEmulator } from "./app.ts";

/** The port given as `--port N` or `--port=N`; default 9000. */
export function parsePort(args: string[]): number {
  const index = args.findIndex((arg) => arg === "--port" || arg.startsWith("--port="));
  if (index === -1) return 9000;
  const arg = args[index] ?? "";
  const raw = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : args[index + 1];
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Cannot parse --port "${raw ?? ""}": expected an integer from 0 to 65535`);
  }
  return port;
}

if (import.meta.main) {
  const usersFile = Deno.env.get("AUTHKIT_EMULATOR_USERS");
  const emulator = await createAuthKitEmulator({
    clientId: Deno.env.get("WORKOS_CLIENT_ID") || "client_emulator",
    apiKey: Deno.env.get("WORKOS_API_KEY") || "sk_test_emulator",
    ...(usersFile ? { usersFile } : {}),
  });
  Deno.serve(
    { port: parsePort(Deno.args), hostname: "127.0.0.1" },
    (request, info) => emulator.app.fetch(request, info),
  );
}

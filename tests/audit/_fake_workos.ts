/**
 * Test helper: serves the project's AuthKit emulator on a random loopback port, records the
 * `Idempotency-Key` of every audit-log request, and points the real WorkOS SDK at it.
 *
 * @module
 */
import { WorkOS } from "@workos-inc/node";
import { type AuthKitEmulator, createAuthKitEmulator } from "../../emulator/app.ts";

/** The client id the emulator accepts. */
export const CLIENT_ID = "client_test";
/** The API key the emulator accepts. */
export const API_KEY = "sk_test";

/** A served emulator, the SDK pointed at it, and the idempotency keys it received. */
export interface FakeWorkOS extends AsyncDisposable {
  emulator: AuthKitEmulator;
  workos: WorkOS;
  /** The `Idempotency-Key` header of each `POST /audit_logs/events`, in order. */
  idempotencyKeys: (string | null)[];
  close(): Promise<void>;
}

/** Serves a new emulator on `127.0.0.1:0`; close it with `await using`. */
export async function startFakeWorkOS(): Promise<FakeWorkOS> {
  const emulator = await createAuthKitEmulator({ clientId: CLIENT_ID, apiKey: API_KEY });
  const idempotencyKeys: (string | null)[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (request, info) => {
    if (new URL(request.url).pathname === "/audit_logs/events") {
      idempotencyKeys.push(request.headers.get("idempotency-key"));
    }
    return emulator.app.fetch(request, info);
  });
  const workos = new WorkOS(API_KEY, {
    clientId: CLIENT_ID,
    apiHostname: "127.0.0.1",
    https: false,
    port: server.addr.port,
    maxRetries: 0,
  });
  const close = () => server.shutdown();
  return { emulator, workos, idempotencyKeys, close, [Symbol.asyncDispose]: close };
}

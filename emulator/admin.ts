/**
 * The emulator's admin endpoints under `/_emulator/*`, answered only to loopback clients:
 *
 * - `GET /_emulator/users` → the users data, overrides applied;
 * - `PUT /_emulator/users/:email/permissions` `{organization_id: string|null, permissions: string[]}` → 204;
 * - `POST /_emulator/keys/rotate` → `{kid}` of the new signing key.
 *
 * The loopback check reads the connection info Hono finds in `c.env` (the `Deno.ServeHandlerInfo`
 * passed as `app.fetch(request, info)`); without it, the request is refused.
 *
 * @module
 */
import type { Context, Hono, MiddlewareHandler } from "hono";
import { getConnInfo } from "hono/deno";
import { z } from "zod";
import { type EmulatorState, jsonResponse, messageError } from "./wire.ts";

const permissionsSchema = z.object({
  "organization_id": z.string().min(1).nullable(),
  permissions: z.array(z.string()),
});

/** Whether `address` is a loopback address (127.0.0.0/8, `::1`, or IPv4-mapped 127.x). */
export function isLoopback(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "::1" || bare === "0:0:0:0:0:0:0:1") return true;
  const v4 = bare.startsWith("::ffff:") ? bare.slice(7) : bare;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

function remoteAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/** Middleware refusing (403) every request that does not come from a loopback address. */
export function loopbackOnly(): MiddlewareHandler {
  return async function loopbackOnly(c, next) {
    const address = remoteAddress(c);
    if (address === undefined || !isLoopback(address)) {
      return messageError(403, "Forbidden: the emulator admin API only answers loopback clients.");
    }
    await next();
  };
}

/** Registers the `/_emulator/*` routes on `app`. */
export function registerAdminRoutes(app: Hono, state: EmulatorState): void {
  app.use("/_emulator/*", loopbackOnly());

  app.get("/_emulator/users", async () => {
    await state.users.refresh();
    return jsonResponse(state.users.snapshot());
  });

  app.put("/_emulator/users/:email/permissions", async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      body = undefined;
    }
    const parsed = permissionsSchema.safeParse(body);
    if (!parsed.success) {
      return messageError(400, "Cannot set permissions: expected {organization_id, permissions}.");
    }
    await state.users.refresh();
    const email = c.req.param("email");
    if (!state.users.findByEmail(email)) {
      return messageError(404, `Cannot set permissions: unknown user "${email}".`);
    }
    try {
      state.users.setPermissions(email, parsed.data.organization_id, parsed.data.permissions);
    } catch (error) {
      return messageError(422, (error as Error).message);
    }
    return c.body(null, 204);
  });

  app.post("/_emulator/keys/rotate", async () => {
    await state.keys.rotate();
    return jsonResponse({ "kid": state.keys.currentKid });
  });
}

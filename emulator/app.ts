/**
 * A local AuthKit emulator: a Hono app serving the WorkOS endpoints the project uses, on the wire
 * contract of `@workos-inc/node` v11, so the unmodified SDK works against it over HTTP.
 *
 * Its paths stay under `/user_management/*`, `/sso/*`, `/audit_logs/*` and `/_emulator/*`, so it
 * can be mounted on another app's origin (`app.route("/", emulator.app)`). The issuer is derived
 * from each request's origin, so it works on whatever port it is served.
 *
 * @example
 * ```ts
 * const emulator = await createAuthKitEmulator({ clientId: "client_dev", apiKey: "sk_dev" });
 * Deno.serve({ port: 9000 }, (request, info) => emulator.app.fetch(request, info));
 * ```
 * @see https://github.com/workos/workos-node (the SDK whose HTTP calls it answers)
 * @see https://github.com/workos/openapi-spec (WorkOS's OpenAPI description of the same endpoints)
 * @module
 */
import { type Context, Hono, type Next } from "hono";
import { registerAdminRoutes } from "./admin.ts";
import {
  type AuditEventRequest,
  handleAuditEvent,
  handleGetOrganization,
  handleGetUser,
  handleRevoke,
} from "./api.ts";
import { handleAuthenticate } from "./authenticate.ts";
import { handleAuthorizePage, handleAuthorizeSubmit, handleLogout } from "./browser.ts";
import { KeyRing } from "./keys.ts";
import { SessionStore } from "./sessions.ts";
import { HTML_HEADERS } from "./browser.ts";
import { renderMessagePage } from "./pages.ts";
import { isUsersFileError, UserDirectory } from "./users.ts";
import { type EmulatorState, jsonResponse, messageError } from "./wire.ts";

export { emulatorIssuer } from "./wire.ts";

/** The default users file, beside this module. */
export const DEFAULT_USERS_FILE: URL = new URL("./users.json", import.meta.url);

/** How to create an emulator. */
export interface AuthKitEmulatorOptions {
  /** The only accepted `client_id`. */
  clientId: string;
  /** The API key: accepted as `client_secret` and as `Authorization: Bearer`. */
  apiKey: string;
  /** The users JSON file; default {@linkcode DEFAULT_USERS_FILE}. */
  usersFile?: string | URL;
  /** Milliseconds since the epoch; default `Date.now`. */
  clock?: () => number;
  /** A JSON file keeping sessions and refresh tokens across restarts; default: memory only. */
  sessionsFile?: string;
  /** Called when the users file cannot be read while serving (e.g. to log it); default: nothing. */
  onUsersFileError?: (error: Error) => void;
}

/** A running emulator: its routes and the hooks tests use. */
export interface AuthKitEmulator {
  /** The routes; serve with `(request, info) => app.fetch(request, info)`. */
  app: Hono;
  /** Adds a new RSA signing key; the old ones stay listed in the JWKS. */
  rotateKey(): Promise<void>;
  /** Overrides a user's permissions in an organization (`null`: outside any); throws `RangeError`. */
  setUserPermissions(email: string, organizationId: string | null, permissions: string[]): void;
  /**
   * The next `count` JSON API calls (authenticate, revoke, users, audit logs) fail without being processed:
   * with HTTP `status` and a `{message}` body, or `"reset"`: the connection drops mid-response.
   */
  failNext(status: number | "reset", count?: number): void;
  /**
   * The next `count` JSON API calls hang for `ms`, then fail with 504 without being processed (a stall
   * between us and WorkOS: our timeout fires first).
   */
  stallNext(ms: number, count?: number): void;
  /** Drops every queued failure and stall: the incident is over. */
  clearFaults(): void;
  /** The next `count` JWKS requests answer `status`. */
  failJwks(status: number, count?: number): void;
  /** How many requests were served, in all or for one path (e.g. `/user_management/authenticate`). */
  requestCount(path?: string): number;
  /** Ends a session: its refresh tokens stop working. */
  revokeSession(sessionId: string): void;
  /** The audit-log events received so far, as posted. */
  auditEvents(): unknown[];
  /** The demo users, one line each: email and what they may do (for the startup banner). */
  describeUsers(): string[];
}

/**
 * The emulator's pages may not be framed (clickjacking of the sign-in form), as ours may not: both
 * `X-Frame-Options` and CSP `frame-ancestors`.
 * @see https://www.rfc-editor.org/rfc/rfc7034 (X-Frame-Options)
 */
async function hardenPages(c: Context, next: Next): Promise<void> {
  await next();
  if (!(c.res.headers.get("content-type") ?? "").startsWith("text/html")) return;
  c.res.headers.set("x-frame-options", "DENY");
  const csp = c.res.headers.get("content-security-policy");
  c.res.headers.set(
    "content-security-policy",
    csp ? `${csp}; frame-ancestors 'none'` : "frame-ancestors 'none'",
  );
}

/**
 * Refuses a browser redirect target (`return_to` of logout, `redirect_uri` of sign-in) that is neither
 * on the emulator's own origin nor on a loopback host, so the emulator is no open redirector. WorkOS
 * itself only redirects to URIs configured in its dashboard; the emulator's stand-in for that list is
 * "this machine".
 */
function refuseForeignTarget(param: string) {
  return async function foreignTarget(c: Context, next: Next): Promise<Response | void> {
    const target = c.req.query(param);
    // Unparseable targets are left to the handler, which answers them in its own words.
    if (target !== undefined && URL.canParse(target)) {
      if (!allowedTarget(target, new URL(c.req.url).origin)) {
        const message = `Invalid ${param} "${
          target.slice(0, 200)
        }": the emulator only redirects to its own origin or a loopback host.`;
        return param === "return_to"
          ? messageError(400, message, { "code": "invalid_redirect_uri" })
          : Response.json({ "error": "invalid_request", "error_description": message }, {
            status: 400,
          });
      }
    }
    await next();
  };
}

function allowedTarget(target: string, origin: string): boolean {
  const url = URL.parse(target);
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) return false;
  return url.origin === origin || ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
}

const PREFIXES = ["/user_management", "/sso", "/audit_logs", "/_emulator"] as const;

/**
 * Creates an emulator, reading the users file once to validate it.
 * @throws {SyntaxError} when the users file is not valid; the message names the file
 */
export async function createAuthKitEmulator(
  options: AuthKitEmulatorOptions,
): Promise<AuthKitEmulator> {
  const clock = options.clock ?? Date.now;
  const state: EmulatorState = {
    clientId: options.clientId,
    apiKey: options.apiKey,
    clock,
    users: await UserDirectory.load(options.usersFile ?? DEFAULT_USERS_FILE),
    keys: await KeyRing.create(),
    store: await SessionStore.open(options.sessionsFile),
    startedAt: new Date(clock()).toISOString(),
  };
  const counts = new Map<string, number>();
  const apiFailures: Array<number | "reset" | { stallMs: number }> = [];
  const jwksFailures: number[] = [];
  const events: AuditEventRequest[] = [];

  const app = new Hono();
  app.onError((error, c) => {
    if (isUsersFileError(error)) {
      options.onUsersFileError?.(error as Error);
      // A person editing the file sees what is wrong in the browser, not a JSON 500.
      if ((c.req.header("accept") ?? "").includes("text/html")) {
        return new Response(
          renderMessagePage(
            "The demo users file is broken",
            error.message,
            "Fix the file named by AUTHKIT_EMULATOR_USERS (emulator/users.json when unset), then reload this page.",
          ),
          { status: 503, headers: HTML_HEADERS },
        );
      }
      return messageError(503, error.message, { "code": "users_file_invalid" });
    }
    return messageError(500, `Cannot answer the request: ${error.message}`);
  });

  for (const prefix of PREFIXES.slice(0, 3)) {
    app.use(`${prefix}/*`, async function countRequests(c: Context, next: Next) {
      counts.set(c.req.path, (counts.get(c.req.path) ?? 0) + 1);
      await next();
    });
  }
  const failure = (
    queue: Array<number | "reset" | { stallMs: number }>,
  ): Response | Promise<Response> | undefined => {
    const fault = queue.shift();
    if (fault === undefined) return undefined;
    if (fault === "reset") {
      // Headers go out, then the body errors: the client sees the connection drop mid-response.
      const body = new ReadableStream({ start: (c) => c.error(new Error("emulated reset")) });
      return new Response(body, { headers: { "content-type": "application/json" } });
    }
    if (typeof fault === "object") {
      return new Promise((resolve) =>
        setTimeout(
          () => resolve(messageError(504, "Emulated stall.", { "code": "emulated_failure" })),
          fault.stallMs,
        )
      );
    }
    return messageError(fault, `Emulated failure (HTTP ${fault}).`, {
      "code": "emulated_failure",
    });
  };

  app.use("/user_management/*", hardenPages);
  app.get("/user_management/sessions/logout", refuseForeignTarget("return_to"));
  app.get("/user_management/authorize", refuseForeignTarget("redirect_uri"));
  app.get("/user_management/authorize", (c) => handleAuthorizePage(state, c.req.raw));
  app.post("/user_management/authorize", (c) => handleAuthorizeSubmit(state, c.req.raw));
  app.get("/user_management/sessions/logout", (c) => handleLogout(state, c.req.raw));
  app.post(
    "/user_management/authenticate",
    (c) => failure(apiFailures) ?? handleAuthenticate(state, c.req.raw),
  );
  app.post(
    "/user_management/sessions/revoke",
    (c) => failure(apiFailures) ?? handleRevoke(state, c.req.raw),
  );
  app.get(
    "/user_management/users/:id",
    (c) => failure(apiFailures) ?? handleGetUser(state, c.req.raw, c.req.param("id")),
  );
  app.get(
    "/organizations/:id",
    (c) => failure(apiFailures) ?? handleGetOrganization(state, c.req.raw, c.req.param("id")),
  );
  app.post(
    "/audit_logs/events",
    (c) => failure(apiFailures) ?? handleAuditEvent(state, c.req.raw, events),
  );
  app.get("/sso/jwks/:clientId", (c) => {
    const failed = failure(jwksFailures);
    if (failed) return failed;
    if (c.req.param("clientId") !== state.clientId) {
      return messageError(404, `Unknown client "${c.req.param("clientId")}".`);
    }
    return jsonResponse(state.keys.jwks());
  });
  registerAdminRoutes(app, state);
  for (const prefix of PREFIXES) {
    app.all(`${prefix}/*`, (c) => messageError(404, `Not found: ${c.req.method} ${c.req.path}`));
  }

  const enqueue = <T>(queue: T[], fault: T, count: number): void => {
    if (typeof fault === "number" && (!Number.isInteger(fault) || fault < 100 || fault > 599)) {
      throw new RangeError(`Cannot fail with status ${fault}: expected an HTTP status`);
    }
    for (let i = 0; i < count; i++) queue.push(fault);
  };
  return {
    app,
    rotateKey: () => state.keys.rotate(),
    setUserPermissions: (email, organizationId, permissions) =>
      state.users.setPermissions(email, organizationId, permissions),
    failNext: (status, count = 1) => enqueue(apiFailures, status, count),
    stallNext: (ms, count = 1) => enqueue(apiFailures, { stallMs: ms }, count),
    clearFaults: () => void apiFailures.splice(0),
    failJwks: (status, count = 1) => enqueue(jwksFailures, status, count),
    requestCount: (path) =>
      path === undefined
        ? [...counts.values()].reduce((sum, n) => sum + n, 0)
        : counts.get(path) ?? 0,
    revokeSession: (sessionId) => state.store.revokeSession(sessionId),
    auditEvents: () => structuredClone(events),
    describeUsers: () =>
      state.users.users.map((user) => {
        const permissions = [
          ...new Set([...user.permissions, ...user.memberships.flatMap((m) => m.permissions)]),
        ];
        const orgs = user.memberships.length;
        return `${user.email} (${permissions.join(", ") || "no permissions"}${
          orgs > 1 ? `; ${orgs} organizations` : ""
        })`;
      }),
  };
}

/**
 * Shared wire helpers of the emulator: its state bundle, the WorkOS `User` JSON, error bodies in
 * the two WorkOS styles, and the API-key check.
 *
 * @see https://github.com/workos/workos-node/blob/main/src/workos.ts (`handleHttpError`: how the SDK maps
 *   HTTP statuses and error bodies to exceptions)
 * @see https://workos.com/docs/reference/authkit/user (the User object)
 * @module
 */
import type { KeyRing } from "./keys.ts";
import type { SessionStore } from "./sessions.ts";
import type { DemoUser, UserDirectory } from "./users.ts";

/** Everything a handler of one emulator instance needs. */
export interface EmulatorState {
  clientId: string;
  apiKey: string;
  clock: () => number;
  users: UserDirectory;
  keys: KeyRing;
  store: SessionStore;
  /** `created_at`/`updated_at` of every user: when the emulator started. */
  startedAt: string;
}

/**
 * The access-token issuer of an emulator served at `origin`, in the form newer WorkOS
 * environments use: `${origin}/user_management/${clientId}`.
 * @example
 * ```ts
 * emulatorIssuer("http://127.0.0.1:9000", "client_1"); // "http://127.0.0.1:9000/user_management/client_1"
 * ```
 */
export function emulatorIssuer(origin: string, clientId: string): string {
  return `${origin.replace(/\/+$/, "")}/user_management/${clientId}`;
}

/** A demo user as WorkOS's `User` JSON (snake_case; nullable fields sent as `null`). */
export function userJson(state: EmulatorState, user: DemoUser): Record<string, unknown> {
  return {
    "object": "user",
    "id": user.id,
    "email": user.email,
    "email_verified": true,
    "first_name": user.first_name,
    "last_name": user.last_name,
    "name": `${user.first_name} ${user.last_name}`.trim() || null,
    "profile_picture_url": null,
    "last_sign_in_at": state.store.lastSignInAt(user.id),
    "locale": null,
    "created_at": state.startedAt,
    "updated_at": state.startedAt,
    "external_id": null,
    "metadata": {},
  };
}

/** A JSON response that is never cached. */
export function jsonResponse(body: unknown, status = 200): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

/** An OAuth-style error: `{error, error_description}` (the SDK raises `OauthException`). */
export function oauthError(error: string, description: string, status = 400): Response {
  return jsonResponse({ "error": error, "error_description": description }, status);
}

/** A WorkOS API-style error: `{message}` plus optional fields such as `code`. */
export function messageError(
  status: number,
  message: string,
  extra: Record<string, unknown> = {},
): Response {
  return jsonResponse({ ...extra, message }, status);
}

/** Whether `request` carries `Authorization: Bearer <apiKey>`. */
export function hasApiKey(request: Request, apiKey: string): boolean {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1] === apiKey;
}

/** The 401 answered when the API key is missing or wrong (the SDK raises `UnauthorizedException`). */
export function unauthorized(): Response {
  return messageError(401, "Unauthorized");
}

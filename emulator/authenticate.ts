/**
 * `POST /user_management/authenticate`: the authorization-code, organization-selection and
 * refresh-token grants, answering WorkOS's `AuthenticationResponse`.
 *
 * @see https://workos.com/docs/reference/authkit/authentication/code
 * @see https://workos.com/docs/reference/authkit/authentication/refresh-token
 * @see https://workos.com/docs/reference/authkit/authentication-errors
 * @see https://github.com/workos/workos-node/tree/main/src/user-management/serializers
 *   (`authentication-response.serializer.ts`: the `AuthenticationResponse` body)
 * @module
 */
import { s256 } from "./ids.ts";
import type { SessionRecord } from "./sessions.ts";
import type { DemoUser, Grant } from "./users.ts";
import { emulatorIssuer, type EmulatorState, jsonResponse, oauthError, userJson } from "./wire.ts";

/** The grant type `authenticateWithOrganizationSelection` sends. */
export const ORGANIZATION_SELECTION_GRANT = "urn:workos:oauth:grant-type:organization-selection";

type Body = Record<string, unknown>;

async function readBody(request: Request): Promise<Body | null> {
  const type = request.headers.get("content-type") ?? "";
  try {
    if (type.includes("application/x-www-form-urlencoded")) {
      return Object.fromEntries(new URLSearchParams(await request.text()));
    }
    const json: unknown = await request.json();
    return typeof json === "object" && json !== null && !Array.isArray(json) ? json as Body : null;
  } catch {
    return null;
  }
}

function str(body: Body, key: string): string | undefined {
  const value = body[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Answers one `POST /user_management/authenticate` request. */
export async function handleAuthenticate(
  state: EmulatorState,
  request: Request,
): Promise<Response> {
  const body = await readBody(request);
  if (!body) {
    return oauthError("invalid_request", "Cannot parse request body: expected a JSON object");
  }
  const clientId = str(body, "client_id");
  if (clientId !== state.clientId) {
    return oauthError("invalid_client", `Invalid client ID "${clientId ?? ""}".`);
  }
  const secret = body["client_secret"];
  if (secret !== undefined && secret !== state.apiKey) {
    return oauthError("invalid_client", "Invalid client secret.");
  }
  await state.users.refresh();
  const origin = new URL(request.url).origin;
  switch (body["grant_type"]) {
    case "authorization_code":
      return await codeGrant(state, body, origin);
    case ORGANIZATION_SELECTION_GRANT:
      return await organizationSelectionGrant(state, body, origin);
    case "refresh_token":
      return await refreshGrant(state, body, origin);
    case undefined:
      return oauthError("invalid_request", "Missing grant_type.");
    default:
      return oauthError(
        "unsupported_grant_type",
        `Unsupported grant_type "${body["grant_type"]}".`,
      );
  }
}

async function codeGrant(state: EmulatorState, body: Body, origin: string): Promise<Response> {
  const code = str(body, "code");
  if (!code) return oauthError("invalid_request", "Missing code.");
  const record = state.store.takeCode(code, state.clock());
  if (record === "unknown") return oauthError("invalid_grant", "The code is invalid.");
  if (record === "used") return oauthError("invalid_grant", "The code has already been used.");
  if (record === "expired") return oauthError("invalid_grant", "The code has expired.");
  if (record.clientId !== str(body, "client_id")) {
    return oauthError("invalid_grant", "The code was issued to another client.");
  }
  const verifier = str(body, "code_verifier");
  if (record.codeChallenge !== null) {
    if (!verifier) return oauthError("invalid_grant", "Missing code_verifier for a PKCE code.");
    if (await s256(verifier) !== record.codeChallenge) {
      return oauthError("invalid_grant", "The code_verifier does not match the code_challenge.");
    }
  } else if (body["client_secret"] === undefined) {
    return oauthError("invalid_client", "Missing client_secret (or a PKCE code_verifier).");
  }
  const user = state.users.findById(record.userId);
  if (!user) return oauthError("invalid_grant", "The user no longer exists.");
  if (record.organizationId !== null) {
    return await signIn(state, user, record.organizationId, origin);
  }
  const orgIds = user.memberships.map((m) => m.organization_id);
  if (orgIds.length <= 1) return await signIn(state, user, orgIds[0] ?? null, origin);
  return organizationSelectionRequired(state, user);
}

function organizationSelectionRequired(state: EmulatorState, user: DemoUser): Response {
  const organizations = user.memberships.map((m) => ({
    id: m.organization_id,
    name: state.users.organization(m.organization_id)?.name ?? m.organization_id,
  }));
  return jsonResponse({
    "code": "organization_selection_required",
    "message": "The user must choose an organization to sign in to.",
    "pending_authentication_token": state.store.issuePending(user.id, state.clock()),
    "user": userJson(state, user),
    "organizations": organizations,
  }, 403);
}

async function organizationSelectionGrant(
  state: EmulatorState,
  body: Body,
  origin: string,
): Promise<Response> {
  const token = str(body, "pending_authentication_token");
  const organizationId = str(body, "organization_id");
  if (!token) return oauthError("invalid_request", "Missing pending_authentication_token.");
  if (!organizationId) return oauthError("invalid_request", "Missing organization_id.");
  const pending = state.store.peekPending(token, state.clock());
  if (typeof pending === "string") {
    return oauthError("invalid_grant", `The pending authentication token is ${pending}.`);
  }
  const user = state.users.findById(pending.userId);
  if (!user) return oauthError("invalid_grant", "The user no longer exists.");
  if (!state.users.grant(user, organizationId)) return notAMember(organizationId);
  state.store.consumePending(token);
  return await signIn(state, user, organizationId, origin);
}

async function refreshGrant(state: EmulatorState, body: Body, origin: string): Promise<Response> {
  const token = str(body, "refresh_token");
  if (!token) return oauthError("invalid_request", "Missing refresh_token.");
  const session = state.store.peekRefreshToken(token);
  if (session === "unknown") return oauthError("invalid_grant", "Invalid refresh token.");
  if (session === "used") return oauthError("invalid_grant", "Refresh token already exchanged.");
  if (session === "revoked") return oauthError("invalid_grant", "Session has already ended.");
  const user = state.users.findById(session.userId);
  if (!user) return oauthError("invalid_grant", "The user no longer exists.");
  const requested = str(body, "organization_id");
  const organizationId = requested ?? session.organizationId;
  const grant = state.users.grant(user, organizationId);
  if (!grant) {
    return requested === undefined
      ? oauthError("invalid_grant", "The organization membership no longer exists.")
      : notAMember(organizationId);
  }
  state.store.consumeRefreshToken(token);
  session.organizationId = grant.organizationId;
  return await respond(state, user, session, grant, origin);
}

function notAMember(organizationId: string | null): Response {
  return oauthError(
    "organization_membership_not_found",
    `The user is not a member of organization "${organizationId}".`,
  );
}

async function signIn(
  state: EmulatorState,
  user: DemoUser,
  organizationId: string | null,
  origin: string,
): Promise<Response> {
  const grant = state.users.grant(user, organizationId);
  if (!grant) return notAMember(organizationId);
  const session = state.store.createSession(user.id, grant.organizationId, state.clock());
  return await respond(state, user, session, grant, origin);
}

async function respond(
  state: EmulatorState,
  user: DemoUser,
  session: SessionRecord,
  grant: Grant,
  origin: string,
): Promise<Response> {
  const accessToken = await state.keys.signAccessToken({
    issuer: emulatorIssuer(origin, state.clientId),
    userId: user.id,
    sessionId: session.id,
    grant,
  }, state.clock());
  const body: Record<string, unknown> = { "user": userJson(state, user) };
  if (grant.organizationId !== null) body["organization_id"] = grant.organizationId;
  body["access_token"] = accessToken;
  body["refresh_token"] = state.store.issueRefreshToken(session.id);
  body["authentication_method"] = "Password";
  return jsonResponse(body);
}

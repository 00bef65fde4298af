/**
 * The emulator's browser endpoints: the AuthKit sign-in (`GET`/`POST
 * /user_management/authorize`) and logout (`GET /user_management/sessions/logout`).
 *
 * Bad authorize requests are answered with a 400 page and never redirected, as the redirect URI
 * itself may be the problem.
 *
 * @see https://workos.com/docs/reference/authkit/authentication/get-authorization-url
 * @see https://github.com/workos/workos-node/blob/main/src/user-management/user-management.ts
 *   (`getAuthorizationUrl`, `getLogoutUrl`)
 * @module
 */
import { CARRIED_FIELDS, renderMessagePage, renderSignInPage } from "./pages.ts";
import { CODE_TTL_MS } from "./sessions.ts";
import { type EmulatorState, messageError } from "./wire.ts";

/** Headers of the emulator's HTML pages (inline styles only, no scripts). */
export const HTML_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
};

function html(body: string, status = 200): Response {
  return new Response(body, { status, headers: HTML_HEADERS });
}

function pick(source: URLSearchParams | FormData): Record<string, string> {
  const params: Record<string, string> = {};
  for (const name of CARRIED_FIELDS) {
    const value = source.get(name);
    if (typeof value === "string" && value !== "") params[name] = value;
  }
  return params;
}

/** Why the authorize parameters are unacceptable, or `null`. */
function problem(state: EmulatorState, params: Record<string, string>): string | null {
  const clientId = params["client_id"];
  if (!clientId) return "Missing client_id.";
  if (clientId !== state.clientId) return `Unknown client_id "${clientId}".`;
  const redirectUri = params["redirect_uri"];
  if (!redirectUri) return "Missing redirect_uri.";
  if (!URL.canParse(redirectUri) || !/^https?:$/.test(new URL(redirectUri).protocol)) {
    return `Invalid redirect_uri "${redirectUri}": expected an absolute http(s) URL.`;
  }
  if (params["response_type"] !== "code") {
    return `Unsupported response_type "${params["response_type"] ?? ""}": expected "code".`;
  }
  const method = params["code_challenge_method"];
  if ((method !== undefined || params["code_challenge"] !== undefined) && method !== "S256") {
    return `Unsupported code_challenge_method "${method ?? ""}": expected "S256".`;
  }
  if (method !== undefined && params["code_challenge"] === undefined) {
    return "Missing code_challenge.";
  }
  return null;
}

function badRequest(request: Request, message: string): Response {
  if ((request.headers.get("accept") ?? "").includes("text/html")) {
    const hint =
      "This sign-in page opens when an application asks you to sign in: start from your MCP client, or from the server's /account page.";
    return html(renderMessagePage("Cannot start sign-in", message, hint), 400);
  }
  return Response.json({ "error": "invalid_request", "error_description": message }, {
    status: 400,
  });
}

async function signInPage(
  state: EmulatorState,
  params: Record<string, string>,
  extra: { email?: string; error?: string },
  status: number,
): Promise<Response> {
  await state.users.refresh();
  return html(
    renderSignInPage({
      params,
      users: state.users.users,
      organizations: state.users.organizations,
      ...extra,
    }),
    status,
  );
}

/** `GET /user_management/authorize`: validates the query and renders the sign-in page. */
export async function handleAuthorizePage(
  state: EmulatorState,
  request: Request,
): Promise<Response> {
  const query = new URL(request.url).searchParams;
  const params = pick(query);
  const error = problem(state, params);
  if (error) return badRequest(request, error);
  const hint = query.get("login_hint");
  return await signInPage(state, params, hint ? { email: hint } : {}, 200);
}

/** `POST /user_management/authorize`: signs the chosen user in and redirects with a code. */
export async function handleAuthorizeSubmit(
  state: EmulatorState,
  request: Request,
): Promise<Response> {
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    return badRequest(request, "Cannot parse the sign-in form.");
  }
  const params = pick(form);
  const error = problem(state, params);
  if (error) return badRequest(request, error);
  await state.users.refresh();
  const email = String(form.get("email") ?? "").trim();
  const user = state.users.findByEmail(email);
  if (!user) {
    return await signInPage(state, params, {
      email,
      error: `No demo user has the email "${email}".`,
    }, 400);
  }
  const organizationId = params["organization_id"] ?? null;
  if (organizationId !== null && !state.users.grant(user, organizationId)) {
    const error = `${user.email} is not a member of organization "${organizationId}".`;
    return await signInPage(state, params, { email, error }, 400);
  }
  const code = state.store.issueCode({
    userId: user.id,
    clientId: state.clientId,
    redirectUri: params["redirect_uri"] ?? "",
    codeChallenge: params["code_challenge"] ?? null,
    organizationId,
    expiresAt: state.clock() + CODE_TTL_MS,
  });
  const target = new URL(params["redirect_uri"] ?? "");
  target.searchParams.set("code", code);
  if (params["state"] !== undefined) target.searchParams.set("state", params["state"]);
  return new Response(null, { status: 302, headers: { location: target.href } });
}

/** `GET /user_management/sessions/logout`: ends the session, then redirects to `return_to`. */
export function handleLogout(state: EmulatorState, request: Request): Response {
  const query = new URL(request.url).searchParams;
  const sessionId = query.get("session_id");
  if (!sessionId) {
    return messageError(422, "Validation failed: session_id is required.", {
      "code": "invalid_request_parameters",
      "errors": [{ "field": "session_id", "code": "required" }],
    });
  }
  state.store.revokeSession(sessionId);
  const returnTo = query.get("return_to");
  if (returnTo && URL.canParse(returnTo)) {
    return new Response(null, { status: 302, headers: { location: returnTo } });
  }
  return html(renderMessagePage("Signed out", "You have been signed out of the emulator."));
}

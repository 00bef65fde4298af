/**
 * Test harness for the AuthKit emulator: serves it on a random loopback port, points the real
 * WorkOS SDK at it, and walks the browser part of the sign-in (page → form → redirect).
 *
 * @module
 */
import { WorkOS } from "@workos-inc/node";
import {
  createRemoteJWKSet,
  type JWTPayload,
  jwtVerify,
  type ProtectedHeaderParameters,
} from "jose";
import {
  type AuthKitEmulator,
  type AuthKitEmulatorOptions,
  createAuthKitEmulator,
  emulatorIssuer,
} from "../../emulator/app.ts";

/** The client id the test emulators accept. */
export const CLIENT_ID = "client_01EMULATORTEST";
/** The API key the test emulators accept. */
export const API_KEY = "sk_test_emulator";
/** A redirect URI that is never fetched (redirects are read, not followed). */
export const REDIRECT_URI = "http://127.0.0.1:1/callback";

/** A served emulator and an SDK pointed at it. */
export interface Harness extends AsyncDisposable {
  emulator: AuthKitEmulator;
  origin: string;
  port: number;
  workos: WorkOS;
  /** A fresh SDK instance with another API key (or none) or client id. */
  sdk(apiKey?: string | null, clientId?: string): WorkOS;
  close(): Promise<void>;
}

/** Serves a new emulator on `127.0.0.1:0`; close it with `await using` or `close()`. */
export async function startEmulator(
  options: Partial<AuthKitEmulatorOptions> = {},
): Promise<Harness> {
  const emulator = await createAuthKitEmulator({
    clientId: CLIENT_ID,
    apiKey: API_KEY,
    ...options,
  });
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request, info) => emulator.app.fetch(request, info),
  );
  const port = server.addr.port;
  const sdk = (apiKey: string | null = API_KEY, clientId = CLIENT_ID): WorkOS => {
    const config = { clientId, apiHostname: "127.0.0.1", https: false, port, maxRetries: 0 };
    return apiKey === null ? new WorkOS(config) : new WorkOS(apiKey, config);
  };
  const close = () => server.shutdown();
  return {
    emulator,
    origin: `http://127.0.0.1:${port}`,
    port,
    workos: sdk(),
    sdk,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The first `<form>` of a page: its attributes and its named inputs. */
export interface ParsedForm {
  method: string;
  action: string;
  fields: Record<string, string>;
  inputTypes: Record<string, string>;
}

function unescape(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function attributes(tag: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const match of tag.matchAll(/([a-z-]+)(?:="([^"]*)")?/g)) {
    if (match[1]) attrs[match[1]] = unescape(match[2] ?? "");
  }
  return attrs;
}

/** Parses the first form of `html` (enough for the emulator's own markup). */
export function firstForm(html: string): ParsedForm {
  const match = /<form\b([^>]*)>([\s\S]*?)<\/form>/.exec(html);
  if (!match) throw new Error("Cannot find a form in the page");
  const form = attributes(match[1] ?? "");
  const fields: Record<string, string> = {};
  const inputTypes: Record<string, string> = {};
  for (const input of (match[2] ?? "").matchAll(/<input\b([^>]*)>/g)) {
    const attrs = attributes(input[1] ?? "");
    if (!attrs["name"]) continue;
    fields[attrs["name"]] = attrs["value"] ?? "";
    inputTypes[attrs["name"]] = attrs["type"] ?? "text";
  }
  return { method: form["method"] ?? "get", action: form["action"] ?? "", fields, inputTypes };
}

/** What the browser part of a sign-in yields. */
export interface SignInResult {
  code: string;
  state: string | null;
  codeVerifier: string;
  location: URL;
}

/** Opens the authorize URL, submits the first form with `email`, and reads the redirect. */
export async function signIn(
  h: Harness,
  email: string,
  options: { organizationId?: string; state?: string } = {},
): Promise<SignInResult> {
  const pkce = await h.workos.pkce.generate();
  const url = h.workos.userManagement.getAuthorizationUrl({
    provider: "authkit",
    clientId: CLIENT_ID,
    redirectUri: REDIRECT_URI,
    state: options.state ?? "st-1",
    codeChallenge: pkce.codeChallenge,
    codeChallengeMethod: "S256",
    ...(options.organizationId ? { organizationId: options.organizationId } : {}),
  });
  const page = await fetch(url);
  const form = firstForm(await page.text());
  const body = new URLSearchParams({ ...form.fields, email });
  const response = await fetch(new URL(form.action, url), {
    method: form.method.toUpperCase(),
    body,
    redirect: "manual",
  });
  await response.body?.cancel();
  const location = new URL(response.headers.get("location") ?? "about:blank");
  return {
    code: location.searchParams.get("code") ?? "",
    state: location.searchParams.get("state"),
    codeVerifier: pkce.codeVerifier,
    location,
  };
}

/** Verifies an access token against the emulator's JWKS and issuer, as the project does. */
export async function verifyAccessToken(
  h: Harness,
  token: string,
): Promise<{ payload: JWTPayload; protectedHeader: ProtectedHeaderParameters }> {
  const jwks = createRemoteJWKSet(new URL(h.workos.userManagement.getJwksUrl(CLIENT_ID)));
  return await jwtVerify(token, jwks, {
    issuer: emulatorIssuer(h.origin, CLIENT_ID),
    algorithms: ["RS256"],
  });
}

/** Signs `email` in through the SDK (code + PKCE verifier), for tests about later steps. */
export async function authenticate(h: Harness, email: string, organizationId?: string) {
  const result = await signIn(h, email, organizationId ? { organizationId } : {});
  return await h.workos.userManagement.authenticateWithCode({
    clientId: CLIENT_ID,
    code: result.code,
    codeVerifier: result.codeVerifier,
  });
}

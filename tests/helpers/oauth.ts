/**
 * OAuth helpers for tests: raw registration, authorization through the scripted browser (consent page,
 * emulator sign-in, callback), token requests; and a sign-in through the MCP SDK's own `auth()`.
 *
 * @module
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { s256 } from "../../auth/pkce.ts";
import { randomToken } from "../../auth/crypto.ts";
import { ScriptedBrowser } from "./browser.ts";
import {
  auth,
  type OAuthClientInformationMixed,
  type OAuthClientProvider,
  type OAuthTokens,
} from "./sdk_v1.ts";

/** The redirect URI test clients register (never served: the browser stops there). */
export const REDIRECT_URI = "http://127.0.0.1:9/callback";

/** Registers a client; resolves to the registration response. */
export async function register(
  base: string,
  metadata: Record<string, unknown> = {},
): Promise<{ client_id: string; client_secret?: string } & Record<string, unknown>> {
  const res = await fetch(`${base}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      client_name: "Test Client",
      ...metadata,
    }),
  });
  assertEquals(res.status, 201, await res.clone().text());
  return await res.json();
}

/** Builds an authorization URL with sensible defaults (PKCE S256, resource /mcp). */
export async function authorizeUrl(
  base: string,
  clientId: string,
  overrides: Record<string, string | null> = {},
): Promise<{ url: string; verifier: string; state: string }> {
  const verifier = randomToken(32);
  const state = randomToken(8);
  const params: Record<string, string | null> = {
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: await s256(verifier),
    code_challenge_method: "S256",
    state,
    resource: `${base}/mcp`,
    ...overrides,
  };
  const url = new URL(`${base}/authorize`);
  for (const [k, v] of Object.entries(params)) if (v !== null) url.searchParams.set(k, v);
  return { url: url.href, verifier, state };
}

/** Where the browser was sent back to the client, parsed. */
export interface ClientRedirect {
  url: URL;
  code: string | null;
  state: string | null;
  iss: string | null;
  error: string | null;
}

const stopAtClient = (redirectUri: string) => (url: URL) =>
  url.href.startsWith(redirectUri.split("?")[0]!);

/**
 * Runs the browser part: consent (approve unless the browser approved before), emulator sign-in as
 * `email`, callback. Resolves to the redirect back to the client.
 */
export async function browserSignIn(
  browser: ScriptedBrowser,
  url: string,
  email: string,
  redirectUri = REDIRECT_URI,
): Promise<ClientRedirect> {
  const stopAt = stopAtClient(redirectUri);
  let page = await browser.go(url, { stopAt });
  if (page.status === 200 && page.body.includes('name="decision"')) {
    page = await browser.submit(page, {}, { stopAt }); // consent: Approve is the first form
  }
  if (page.status === 200 && page.body.includes('name="email"')) {
    page = await browser.submit(page, { email }, { stopAt }); // emulator sign-in
  }
  if (page.status !== 302) {
    throw new Error(`Sign-in stopped at ${page.url} (${page.status}): ${page.body.slice(0, 300)}`);
  }
  const back = new URL(page.url);
  return {
    url: back,
    code: back.searchParams.get("code"),
    state: back.searchParams.get("state"),
    iss: back.searchParams.get("iss"),
    error: back.searchParams.get("error"),
  };
}

/** POSTs a form to `path`; resolves to status, headers and JSON body. */
export async function postForm(
  base: string,
  path: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} };
}

/** A `refresh_token` grant at `<base>/token` for `clientId`. */
export function refreshTokens(base: string, clientId: string, refreshToken: string) {
  return postForm(base, "/token", {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: clientId,
  });
}

/** Registers a public client and signs `email` in through the whole flow; resolves to tokens. */
export async function signIn(
  base: string,
  email: string,
  options: { browser?: ScriptedBrowser; resource?: string } = {},
): Promise<
  { clientId: string; accessToken: string; refreshToken: string; browser: ScriptedBrowser }
> {
  const browser = options.browser ?? new ScriptedBrowser();
  const client = await register(base);
  const resource = options.resource ?? `${base}/mcp`;
  const { url, verifier, state } = await authorizeUrl(base, client.client_id, { resource });
  const back = await browserSignIn(browser, url, email);
  assertEquals(back.state, state);
  const res = await postForm(base, "/token", {
    grant_type: "authorization_code",
    code: back.code!,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    client_id: client.client_id,
    resource,
  });
  assertEquals(res.status, 200, JSON.stringify(res.body));
  return {
    clientId: client.client_id,
    accessToken: String(res.body.access_token),
    refreshToken: String(res.body.refresh_token),
    browser,
  };
}

/** An in-memory `OAuthClientProvider` for the SDK whose "browser" is a {@linkcode ScriptedBrowser}. */
export class TestOAuthProvider implements OAuthClientProvider {
  client: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = "";
  authorizationUrl: URL | undefined;
  readonly invalidated: string[] = [];

  get redirectUrl(): string {
    return REDIRECT_URI;
  }
  get clientMetadata() {
    return {
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      client_name: "SDK Test Client",
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
  invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery") {
    this.invalidated.push(scope);
    if (scope === "all" || scope === "tokens") this.saved = undefined;
    if (scope === "all" || scope === "client") this.client = undefined;
  }
}

/**
 * Signs `email` in with the SDK's `auth()` driving discovery, registration and the code exchange, and the
 * scripted browser standing in for the user. Resolves to the provider holding the tokens.
 */
export async function sdkSignIn(
  serverUrl: string,
  email: string,
  provider = new TestOAuthProvider(),
  browser = new ScriptedBrowser(),
): Promise<TestOAuthProvider> {
  assertEquals(await auth(provider, { serverUrl }), "REDIRECT");
  const back = await browserSignIn(browser, provider.authorizationUrl!.href, email);
  assertStringIncludes(back.url.href, "code=");
  assertEquals(await auth(provider, { serverUrl, authorizationCode: back.code! }), "AUTHORIZED");
  return provider;
}

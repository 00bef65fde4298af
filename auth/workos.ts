/**
 * Our side of WorkOS AuthKit: the SDK client aimed at WorkOS (or any host speaking its API, such as the
 * built-in emulator), the authorize URL, code exchange, organization selection, session refresh, and
 * verification of WorkOS access tokens with jose against the JWKS, issuer checked. WorkOS tokens never
 * leave the server (no token passthrough).
 *
 * Failures are sorted into two kinds, because they are handled in opposite ways. `refused` is an explicit
 * refusal of the user's session and ends a grant: an OAuth `invalid_grant` (session revoked or expired,
 * refresh token already exchanged, user gone), a removed organization or membership, or an authentication
 * step the user must take in a browser (MFA, SSO). Everything else is `unavailable` and never ends a
 * grant: network errors, timeouts (`WORKOS_TIMEOUT_MS`), 5xx, our own credentials refused (401/403,
 * `invalid_client`), a wrong host (404, redirects), an unverifiable token, and any answer we do not
 * recognise. An outage that looks like our configuration is logged naming the variable to check.
 *
 * @see https://workos.com/docs/reference/authkit/authentication-errors
 * @see https://workos.com/docs/reference/authkit/authentication/refresh-token
 * @module
 */
import { AuthenticationException, OauthException, WorkOS } from "@workos-inc/node";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from "jose";
import { z } from "zod";
import type { Config } from "../lib/config.ts";
import type { UpstreamIdentity } from "./grants.ts";

/**
 * Builds the WorkOS SDK client from configuration: no retries (we answer errors ourselves) and a timeout
 * per call (`WORKOS_TIMEOUT_MS`) far below the SDK's 60 s default, so a stalled WorkOS costs a request
 * a few seconds, not a minute.
 */
export function createWorkOS(config: Config): WorkOS {
  const w = config.workos;
  return new WorkOS(w.apiKey, {
    clientId: w.clientId,
    apiHostname: w.apiHostname,
    https: w.apiHttps,
    ...(w.apiPort ? { port: w.apiPort } : {}),
    maxRetries: 0,
    timeout: w.timeoutMs,
  });
}

/** OAuth `error` values with which WorkOS refuses the user's session (it must sign in again). */
const SESSION_REFUSALS = new Set([
  "invalid_grant",
  "organization_membership_not_found",
  "organization_not_found",
  "user_not_found",
]);

const claimsSchema = z.object({
  sub: z.string().min(1),
  sid: z.string().min(1),
  org_id: z.string().optional(),
  role: z.string().optional(),
  roles: z.array(z.string()).optional(),
  permissions: z.array(z.string()).optional(),
});

/** The verified claims of a WorkOS access token that we use. */
export type UpstreamClaims = z.infer<typeof claimsSchema>;

/** A successful upstream sign-in or refresh. */
export interface UpstreamSession {
  identity: UpstreamIdentity;
  refreshToken: string;
}

/** Why an upstream call failed. */
export type UpstreamErrorKind = "refused" | "unavailable" | "organization_selection_required";

/**
 * For `unavailable`: whether the failure points at our configuration rather than a WorkOS incident
 * (credentials refused, wrong host, tokens that do not verify), and which variables to check.
 */
export type UpstreamCause = "network" | "credentials" | "host" | "verification" | "unknown";

/** A failed call to WorkOS, sorted by what it means for us. */
export class UpstreamError extends Error {
  readonly kind: UpstreamErrorKind;
  /** For `organization_selection_required`: the token to continue with, and the choices. */
  readonly pendingAuthenticationToken: string;
  readonly organizations: Array<{ id: string; name: string }>;
  /** For `unavailable`: what the failure points at. */
  readonly upstreamCause: UpstreamCause;
  constructor(
    kind: UpstreamErrorKind,
    message: string,
    options: {
      cause?: unknown;
      pendingAuthenticationToken?: string;
      organizations?: Array<{ id: string; name: string }>;
      upstreamCause?: UpstreamCause;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "UpstreamError";
    this.kind = kind;
    this.upstreamCause = options.upstreamCause ?? "unknown";
    this.pendingAuthenticationToken = options.pendingAuthenticationToken ?? "";
    this.organizations = options.organizations ?? [];
  }
}

/** Talks to AuthKit and verifies what it returns. */
export class Upstream {
  readonly workos: WorkOS;
  #clientId: string;
  #issuers: string[];
  #jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(workos: WorkOS, config: Pick<Config, "workos">) {
    this.workos = workos;
    this.#clientId = config.workos.clientId;
    this.#issuers = [...config.workos.issuers];
    // A token with an unknown `kid` refetches the JWKS (after key rotation), at most once a second (our
    // WorkOS tokens come from WorkOS responses, never from clients, so a forged `kid` cannot drive refetches).
    this.#jwks = createRemoteJWKSet(new URL(workos.userManagement.getJwksUrl(this.#clientId)), {
      timeoutDuration: config.workos.timeoutMs ?? 5000,
      cooldownDuration: 1000,
    });
  }

  /** The AuthKit URL to send the browser to. */
  authorizationUrl(
    input: { redirectUri: string; state: string; codeChallenge: string; organizationId?: string },
  ): string {
    return this.workos.userManagement.getAuthorizationUrl({
      provider: "authkit",
      clientId: this.#clientId,
      redirectUri: input.redirectUri,
      state: input.state,
      codeChallenge: input.codeChallenge,
      codeChallengeMethod: "S256",
      ...(input.organizationId ? { organizationId: input.organizationId } : {}),
    });
  }

  /** Exchanges AuthKit's code (with our PKCE verifier) and verifies the access token. */
  async exchangeCode(code: string, codeVerifier: string): Promise<UpstreamSession> {
    return await this.#session(() =>
      this.workos.userManagement.authenticateWithCode({
        clientId: this.#clientId,
        code,
        codeVerifier,
      })
    );
  }

  /** Completes a sign-in that needed an organization choice. */
  async selectOrganization(
    pendingAuthenticationToken: string,
    organizationId: string,
  ): Promise<UpstreamSession> {
    return await this.#session(() =>
      this.workos.userManagement.authenticateWithOrganizationSelection({
        clientId: this.#clientId,
        pendingAuthenticationToken,
        organizationId,
      })
    );
  }

  /** Refreshes a WorkOS session (single-use refresh token), keeping `organizationId`. */
  async refreshSession(
    refreshToken: string,
    organizationId: string | null,
  ): Promise<UpstreamSession> {
    return await this.#session(() =>
      this.workos.userManagement.authenticateWithRefreshToken({
        clientId: this.#clientId,
        refreshToken,
        ...(organizationId ? { organizationId } : {}),
      })
    );
  }

  /**
   * Verifies a WorkOS access token (RS256, issuer checked, unexpired). A token WorkOS just handed us that
   * does not verify means our configuration (WORKOS_ISSUER, the API host) is off, not that the user was
   * refused: it is `unavailable`, and never ends a grant.
   */
  async verify(accessToken: string): Promise<UpstreamClaims> {
    let payload;
    try {
      ({ payload } = await jwtVerify(accessToken, this.#jwks, {
        issuer: this.#issuers,
        algorithms: ["RS256"],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JOSEError && /^ERR_(JWT|JWS)_/.test(err.code)) {
        throw new UpstreamError(
          "unavailable",
          `WorkOS access token does not verify: ${err.message}`,
          { cause: err, upstreamCause: "verification" },
        );
      }
      // ERR_JWKS_NO_MATCHING_KEY (a key not yet fetched), timeouts and network errors: not the user's fault.
      throw new UpstreamError(
        "unavailable",
        "Cannot verify the WorkOS access token: signing keys unavailable",
        {
          cause: err,
        },
      );
    }
    const parsed = claimsSchema.safeParse(payload);
    if (!parsed.success) {
      throw new UpstreamError("unavailable", "WorkOS access token lacks the sub or sid claim", {
        upstreamCause: "verification",
      });
    }
    return parsed.data;
  }

  async #session(
    call: () => Promise<
      { user: Parameters<typeof identityOf>[0]; accessToken: string; refreshToken: string }
    >,
  ): Promise<UpstreamSession> {
    let auth;
    try {
      auth = await call();
    } catch (err) {
      throw classify(err);
    }
    const claims = await this.verify(auth.accessToken);
    return { identity: identityOf(auth.user, claims), refreshToken: auth.refreshToken };
  }
}

/** The identity a verified WorkOS token and user describe. */
export function identityOf(
  user: { id: string; email: string; firstName: string | null; lastName: string | null },
  claims: UpstreamClaims,
): UpstreamIdentity {
  const name = [user.firstName, user.lastName].filter(Boolean).join(" ") || null;
  return {
    userId: claims.sub,
    email: user.email,
    name,
    organizationId: claims.org_id ?? null,
    role: claims.role ?? null,
    roles: claims.roles ?? (claims.role ? [claims.role] : []),
    permissions: [...(claims.permissions ?? [])].sort(),
    sessionId: claims.sid,
  };
}

/**
 * Sorts an SDK failure (see the SDK's exception mapping: `OauthException` for `{error, error_description}`,
 * `AuthenticationException` for `{code}` authentication steps, `UnauthorizedException` for 401, …).
 */
export function classify(err: unknown): UpstreamError {
  if (err instanceof AuthenticationException) {
    if (err.code === "organization_selection_required") {
      return new UpstreamError(
        "organization_selection_required",
        "WorkOS asks the user to choose an organization",
        {
          cause: err,
          pendingAuthenticationToken: err.pendingAuthenticationToken ?? "",
          organizations: err.rawData.organizations ?? [],
        },
      );
    }
    // MFA, SSO or e-mail verification required: the session cannot go on without the user.
    return new UpstreamError("refused", `WorkOS requires the user to sign in again (${err.code})`, {
      cause: err,
    });
  }
  const status = (err as { status?: unknown }).status;
  if (err instanceof OauthException && SESSION_REFUSALS.has(err.error ?? "")) {
    return new UpstreamError("refused", `WorkOS refused: ${err.errorDescription ?? err.error}`, {
      cause: err,
    });
  }
  const detail = err instanceof Error ? err.message.split("\n")[0] : String(err);
  if (status === 401 || status === 403 || (err as { error?: unknown }).error === "invalid_client") {
    return new UpstreamError("unavailable", `WorkOS refused our credentials (${detail})`, {
      cause: err,
      upstreamCause: "credentials",
    });
  }
  if (status === 404 || typeof status === "number" && status >= 300 && status < 400) {
    return new UpstreamError(
      "unavailable",
      `WorkOS API not found at the configured host (${detail})`,
      {
        cause: err,
        upstreamCause: "host",
      },
    );
  }
  const network = err instanceof TypeError || status === 408 || status === 429 ||
    typeof status === "number" && status >= 500;
  return new UpstreamError("unavailable", `WorkOS is unavailable (${detail})`, {
    cause: err,
    upstreamCause: network ? "network" : "unknown",
  });
}

/** The variables an outage of this cause suggests checking, for the log line. */
export function suspectVariables(err: UpstreamError): string | undefined {
  switch (err.upstreamCause) {
    case "credentials":
      return "WORKOS_API_KEY (and WORKOS_CLIENT_ID): WorkOS refused our credentials; check they are current";
    case "host":
      return "WORKOS_API_HOSTNAME (and WORKOS_API_PORT, WORKOS_API_HTTPS): the WorkOS API was not found there";
    case "verification":
      return "WORKOS_ISSUER and WORKOS_API_HOSTNAME: WorkOS tokens do not verify against them";
    default:
      return undefined;
  }
}

/**
 * Our side of WorkOS AuthKit: the SDK client aimed at WorkOS (or any host speaking its API, such as the
 * built-in emulator), the authorize URL, code exchange, organization selection, session refresh, and
 * verification of WorkOS access tokens with jose against the JWKS, issuer checked. WorkOS tokens never
 * leave the server (no token passthrough).
 *
 * Failures are sorted into two kinds, because they are handled in opposite ways: `refused` (WorkOS said
 * no: the session is revoked, the user or membership is gone, the token is bad) ends a grant; `unavailable`
 * (network, timeout, 5xx, JWKS unreachable or a signing key we cannot find yet) never does.
 *
 * @see ../shared/reference/workos-contract.md
 * @module
 */
import { AuthenticationException, OauthException, WorkOS } from "@workos-inc/node";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from "jose";
import { z } from "zod";
import type { Config } from "../lib/config.ts";
import type { UpstreamIdentity } from "./grants.ts";

/** Builds the WorkOS SDK client from configuration (no retries: we answer errors ourselves). */
export function createWorkOS(config: Config): WorkOS {
  const w = config.workos;
  return new WorkOS(w.apiKey, {
    clientId: w.clientId,
    apiHostname: w.apiHostname,
    https: w.apiHttps,
    ...(w.apiPort ? { port: w.apiPort } : {}),
    maxRetries: 0,
  });
}

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

/** A failed call to WorkOS, sorted by what it means for us. */
export class UpstreamError extends Error {
  readonly kind: UpstreamErrorKind;
  /** For `organization_selection_required`: the token to continue with, and the choices. */
  readonly pendingAuthenticationToken: string;
  readonly organizations: Array<{ id: string; name: string }>;
  constructor(
    kind: UpstreamErrorKind,
    message: string,
    options: {
      cause?: unknown;
      pendingAuthenticationToken?: string;
      organizations?: Array<{ id: string; name: string }>;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "UpstreamError";
    this.kind = kind;
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
    // A token with an unknown `kid` refetches the JWKS (after key rotation), at most once a second (our WorkOS tokens come from WorkOS responses, never from clients, so a forged `kid` cannot drive refetches).
    this.#jwks = createRemoteJWKSet(new URL(workos.userManagement.getJwksUrl(this.#clientId)), {
      timeoutDuration: 5000,
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

  /** Verifies a WorkOS access token (RS256, issuer checked, unexpired). */
  async verify(accessToken: string): Promise<UpstreamClaims> {
    let payload;
    try {
      ({ payload } = await jwtVerify(accessToken, this.#jwks, {
        issuer: this.#issuers,
        algorithms: ["RS256"],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JOSEError && /^ERR_(JWT|JWS)_/.test(err.code)) {
        throw new UpstreamError("refused", `WorkOS access token rejected: ${err.message}`, {
          cause: err,
        });
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
      throw new UpstreamError("refused", "WorkOS access token lacks the sub or sid claim");
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

function classify(err: unknown): UpstreamError {
  if (err instanceof AuthenticationException && err.code === "organization_selection_required") {
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
  const status = (err as { status?: unknown }).status;
  if (
    typeof status === "number" && status >= 400 && status < 500 && status !== 408 && status !== 429
  ) {
    const detail = err instanceof OauthException
      ? err.errorDescription ?? err.error
      : (err as Error).message;
    return new UpstreamError("refused", `WorkOS refused: ${detail}`, { cause: err });
  }
  return new UpstreamError("unavailable", "WorkOS is unavailable", { cause: err });
}

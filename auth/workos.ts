/**
 * Our side of WorkOS AuthKit: the SDK client aimed at WorkOS (or any host speaking its API, such as the
 * built-in emulator), the authorize URL, code exchange, and verification of WorkOS access tokens with jose
 * against the JWKS, issuer checked. WorkOS tokens never leave the server (no token passthrough).
 *
 * @see ../shared/reference/workos-contract.md
 * @module
 */
import { AuthenticationException, OauthException, WorkOS } from "@workos-inc/node";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from "jose";
import { z } from "zod";
import type { Config } from "../lib/config.ts";
import { PageError } from "../lib/errors.ts";
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

/** Thrown when WorkOS asks the user to pick an organization (issue 4 adds the picker page). */
export class OrganizationSelectionRequired extends Error {
  readonly pendingAuthenticationToken: string;
  readonly organizations: Array<{ id: string; name: string }>;
  constructor(token: string, organizations: Array<{ id: string; name: string }>) {
    super("WorkOS requires the user to select an organization");
    this.name = "OrganizationSelectionRequired";
    this.pendingAuthenticationToken = token;
    this.organizations = organizations;
  }
}

/** Talks to AuthKit for sign-in and verifies what it returns. */
export class Upstream {
  readonly workos: WorkOS;
  #clientId: string;
  #issuers: string[];
  #jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(workos: WorkOS, config: Pick<Config, "workos">) {
    this.workos = workos;
    this.#clientId = config.workos.clientId;
    this.#issuers = [...config.workos.issuers];
    this.#jwks = createRemoteJWKSet(new URL(workos.userManagement.getJwksUrl(this.#clientId)), {
      timeoutDuration: 5000,
      cooldownDuration: 5000,
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

  /**
   * Exchanges AuthKit's code (with our PKCE verifier) and verifies the access token.
   * @throws {PageError} when WorkOS refuses or its token does not verify.
   * @throws {OrganizationSelectionRequired} when the user must pick an organization.
   */
  async exchangeCode(code: string, codeVerifier: string): Promise<UpstreamSession> {
    let auth;
    try {
      auth = await this.workos.userManagement.authenticateWithCode({
        clientId: this.#clientId,
        code,
        codeVerifier,
      });
    } catch (err) {
      if (
        err instanceof AuthenticationException && err.code === "organization_selection_required"
      ) {
        throw new OrganizationSelectionRequired(
          err.pendingAuthenticationToken ?? "",
          err.rawData.organizations ?? [],
        );
      }
      throw upstreamFailure(err);
    }
    const claims = await this.verify(auth.accessToken);
    return { identity: identityOf(auth.user, claims), refreshToken: auth.refreshToken };
  }

  /**
   * Verifies a WorkOS access token (RS256, issuer checked, unexpired).
   * @throws {PageError} `login_failed` for a bad token; `upstream_unavailable` when the JWKS cannot be had.
   */
  async verify(accessToken: string): Promise<UpstreamClaims> {
    try {
      const { payload } = await jwtVerify(accessToken, this.#jwks, {
        issuer: this.#issuers,
        algorithms: ["RS256"],
      });
      const parsed = claimsSchema.safeParse(payload);
      if (!parsed.success) {
        throw new PageError(
          "login_failed",
          "WorkOS access token lacks the claims we need (sub, sid)",
        );
      }
      return parsed.data;
    } catch (err) {
      if (err instanceof PageError) throw err;
      if (
        err instanceof joseErrors.JWTClaimValidationFailed ||
        err instanceof joseErrors.JWTExpired ||
        err instanceof joseErrors.JWSSignatureVerificationFailed ||
        err instanceof joseErrors.JWTInvalid ||
        err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JOSEAlgNotAllowed
      ) {
        throw new PageError("login_failed", `WorkOS access token rejected: ${err.message}`, 400, {
          cause: err,
        });
      }
      throw new PageError(
        "upstream_unavailable",
        "Cannot verify the WorkOS access token: JWKS unavailable",
        503,
        {
          cause: err,
        },
      );
    }
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

function upstreamFailure(err: unknown): PageError {
  if (err instanceof OauthException && err.status < 500) {
    return new PageError(
      "login_failed",
      `AuthKit refused the sign-in: ${err.errorDescription ?? err.error}`,
      400,
      {
        cause: err,
      },
    );
  }
  const status = (err as { status?: number }).status;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return new PageError("login_failed", `AuthKit refused the sign-in (HTTP ${status})`, 400, {
      cause: err,
    });
  }
  return new PageError("upstream_unavailable", "AuthKit is unavailable; try again shortly", 502, {
    cause: err,
  });
}

/**
 * OAuth clients: dynamic registration (RFC 7591) and client authentication at the token and revocation
 * endpoints (RFC 6749 §2.3). Public clients (`none`) and confidential ones (`client_secret_basic`,
 * `client_secret_post`); a confidential client's secret is stored only as a hash.
 *
 * @module
 */
import { z } from "zod";
import { OAuthError } from "../lib/errors.ts";
import { keys } from "../lib/kv_keys.ts";
import { CimdError, isMetadataClientId, type MetadataClients } from "./cimd.ts";
import { randomToken, sha256, timingSafeEqual } from "./crypto.ts";
import { redirectUriProblem } from "./redirect_uri.ts";

/** Client authentication methods we support. */
export const AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"] as const;
/** How a client authenticates at the token endpoint. */
export type AuthMethod = typeof AUTH_METHODS[number];

/** A registered client as stored. */
export interface Client {
  clientId: string;
  clientSecretHash: string | null;
  clientName: string | null;
  clientUri: string | null;
  logoUri: string | null;
  redirectUris: string[];
  grantTypes: string[];
  responseTypes: string[];
  tokenEndpointAuthMethod: AuthMethod;
  scope: string | null;
  softwareId: string | null;
  softwareVersion: string | null;
  createdAt: number;
  /**
   * When the registration lapses unless used: {@linkcode UNUSED_CLIENT_TTL_MS} after registering,
   * {@linkcode CLIENT_IN_USE_TTL_MS} after its last authentication at the token or revocation
   * endpoint. Absent on registrations stored before expiry existed (they never lapse).
   */
  expiresAt?: number;
}

/** A registration never used at the token endpoint lapses after 24 hours (anonymous ones cannot pile up). */
export const UNUSED_CLIENT_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * A registration in use lives 60 days past its last token request: longer than a grant's 30-day
 * refresh window, so a client whose refresh token is still valid is never forgotten under it.
 */
export const CLIENT_IN_USE_TTL_MS = 60 * 24 * 60 * 60 * 1000;
/** The expiry is rewritten at most once a day per client, not on every token request. */
const RENEW_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * The most a registration may store, as JSON: generous for real clients (Claude, Cursor, VS Code and
 * mcp-remote register well under 1 KiB) and small against KV's 64 KiB value limit, so anonymous callers
 * cannot fill storage with large records.
 */
export const MAX_METADATA_BYTES = 8 * 1024;

const httpsUrl = z.string().max(2000).refine((v) => {
  try {
    return ["https:", "http:"].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}, "must be an http(s) URL");

/** RFC 7591 §2 metadata we accept; unknown fields are ignored, as the RFC requires. */
const metadataSchema = z.object({
  redirect_uris: z.array(z.string().max(2000)).min(1, "at least one redirect URI is required")
    .max(10),
  token_endpoint_auth_method: z.enum(AUTH_METHODS).default("client_secret_basic"),
  grant_types: z.array(z.enum(["authorization_code", "refresh_token"])).min(1)
    .default(["authorization_code", "refresh_token"]),
  response_types: z.array(z.literal("code")).min(1).default(["code"]),
  client_name: z.string().trim().min(1).max(200).optional(),
  client_uri: httpsUrl.optional(),
  logo_uri: httpsUrl.optional(),
  scope: z.string().max(1000).optional(),
  software_id: z.string().max(200).optional(),
  software_version: z.string().max(200).optional(),
});

/** Registers and authenticates clients. */
export class ClientStore {
  #kv: Deno.Kv;
  #now: () => number;
  #metadata: MetadataClients | null;

  /** @param metadata Resolves `client_id`s that are URLs (client ID metadata documents); null: none. */
  constructor(kv: Deno.Kv, now: () => number = Date.now, metadata: MetadataClients | null = null) {
    this.#kv = kv;
    this.#now = now;
    this.#metadata = metadata;
  }

  /**
   * Registers a client from RFC 7591 metadata; resolves to the §3.2.1 response body.
   * @throws {OAuthError} `invalid_redirect_uri` or `invalid_client_metadata`.
   */
  async register(body: unknown): Promise<Record<string, unknown>> {
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new OAuthError(
        "invalid_client_metadata",
        "Cannot register client: body must be a JSON object",
      );
    }
    const uris = (body as { redirect_uris?: unknown }).redirect_uris;
    if (Array.isArray(uris)) {
      for (const uri of uris) {
        const problem = typeof uri === "string" ? redirectUriProblem(uri) : "must be a string";
        if (problem) {
          throw new OAuthError(
            "invalid_redirect_uri",
            `Cannot register client: redirect URI ${JSON.stringify(uri)}: ${problem}`,
          );
        }
      }
    }
    const parsed = metadataSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join(".") || "body";
      const code = field.startsWith("redirect_uris")
        ? "invalid_redirect_uri"
        : "invalid_client_metadata";
      throw new OAuthError(code, `Cannot register client: ${field}: ${issue.message}`);
    }
    const m = parsed.data;
    const stored = new TextEncoder().encode(JSON.stringify(m)).length;
    if (stored > MAX_METADATA_BYTES) {
      throw new OAuthError(
        "invalid_client_metadata",
        `Cannot register client: metadata: too large (${stored} bytes; at most ${MAX_METADATA_BYTES})`,
      );
    }
    if (m.grant_types.includes("refresh_token") && !m.grant_types.includes("authorization_code")) {
      throw new OAuthError(
        "invalid_client_metadata",
        "Cannot register client: grant_types: refresh_token requires authorization_code",
      );
    }
    const clientId = `mcp_${randomToken(16)}`;
    const secret = m.token_endpoint_auth_method === "none" ? null : randomToken(32);
    const now = this.#now();
    const client: Client = {
      clientId,
      clientSecretHash: secret ? await sha256(secret) : null,
      clientName: m.client_name ?? null,
      clientUri: m.client_uri ?? null,
      logoUri: m.logo_uri ?? null,
      redirectUris: m.redirect_uris,
      grantTypes: m.grant_types,
      responseTypes: m.response_types,
      tokenEndpointAuthMethod: m.token_endpoint_auth_method,
      scope: m.scope ?? null,
      softwareId: m.software_id ?? null,
      softwareVersion: m.software_version ?? null,
      createdAt: now,
      expiresAt: now + UNUSED_CLIENT_TTL_MS,
    };
    await this.#kv.set(keys.client(clientId), client, { expireIn: UNUSED_CLIENT_TTL_MS });
    return {
      client_id: clientId,
      client_id_issued_at: Math.floor(now / 1000),
      ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
      redirect_uris: client.redirectUris,
      token_endpoint_auth_method: client.tokenEndpointAuthMethod,
      grant_types: client.grantTypes,
      response_types: client.responseTypes,
      ...(m.client_name ? { client_name: m.client_name } : {}),
      ...(m.client_uri ? { client_uri: m.client_uri } : {}),
      ...(m.logo_uri ? { logo_uri: m.logo_uri } : {}),
      ...(m.scope ? { scope: m.scope } : {}),
      ...(m.software_id ? { software_id: m.software_id } : {}),
      ...(m.software_version ? { software_version: m.software_version } : {}),
    };
  }

  /** The client, or null when unknown (or when its metadata document cannot be used now). */
  async get(clientId: string): Promise<Client | null> {
    return await this.find(clientId).catch((err) => {
      if (err instanceof CimdError) return null;
      throw err;
    });
  }

  /**
   * The client: registered ones from KV, URL ones from their metadata document (`auth/cimd.ts`).
   * @param fits For a URL client, whether a cached document suits the request (else it is re-fetched).
   * @throws {CimdError} why a URL client's document cannot be used.
   */
  async find(clientId: string, fits?: (client: Client) => boolean): Promise<Client | null> {
    if (this.#metadata && isMetadataClientId(clientId)) {
      return await this.#metadata.resolve(clientId, fits);
    }
    if (clientId.length > 200) return null;
    return live((await this.#kv.get<Client>(keys.client(clientId))).value, this.#now());
  }

  /**
   * Marks `client` as in use: its registration now lapses {@linkcode CLIENT_IN_USE_TTL_MS} from now.
   * Written at most once a day; a lost race with another instance's renewal changes nothing.
   */
  async renew(client: Client): Promise<void> {
    const now = this.#now();
    if (client.expiresAt === undefined) return;
    if (client.expiresAt - now > CLIENT_IN_USE_TTL_MS - RENEW_AFTER_MS) return;
    const key = keys.client(client.clientId);
    const entry = await this.#kv.get<Client>(key);
    if (!live(entry.value, now)) return;
    await this.#kv.atomic().check(entry).set(
      key,
      { ...entry.value, expiresAt: now + CLIENT_IN_USE_TTL_MS },
      { expireIn: CLIENT_IN_USE_TTL_MS },
    ).commit();
  }

  /**
   * Authenticates the client of a token or revocation request, per the method it registered.
   * @throws {OAuthError} `invalid_client` (401; with `WWW-Authenticate` when Basic was tried).
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
   */
  async authenticate(headers: Headers, form: URLSearchParams): Promise<Client> {
    const basic = parseBasic(headers.get("authorization"));
    const bodyId = form.get("client_id");
    const bodySecret = form.get("client_secret");
    if (basic && bodyId !== null && bodyId !== basic.id) {
      throw invalidClient("client_id in the body differs from the Authorization header", true);
    }
    const clientId = basic?.id ?? bodyId;
    if (!clientId) {
      throw new OAuthError("invalid_client", "Cannot authenticate client: client_id is missing");
    }
    let client: Client | null;
    try {
      client = await this.find(clientId);
    } catch (err) {
      if (err instanceof CimdError && err.code === "unreachable") {
        // The client's host is down: a retry later may work, so this must not read as "invalid".
        throw new OAuthError(
          "temporarily_unavailable",
          `Cannot authenticate client: ${err.message}`,
          {
            cause: err,
          },
        );
      }
      if (err instanceof CimdError) throw invalidClient(err.message, basic !== null);
      throw err;
    }
    if (!client) throw invalidClient("unknown client", basic !== null);
    const presented = basic
      ? "client_secret_basic"
      : bodySecret !== null
      ? "client_secret_post"
      : "none";
    if (presented !== client.tokenEndpointAuthMethod) {
      throw invalidClient(
        `client registered ${client.tokenEndpointAuthMethod} but authenticated with ${presented}`,
        basic !== null,
      );
    }
    if (client.clientSecretHash) {
      const secret = basic?.secret ?? bodySecret ?? "";
      if (!timingSafeEqual(await sha256(secret), client.clientSecretHash)) {
        throw invalidClient("wrong client secret", basic !== null);
      }
    }
    await this.renew(client);
    return client;
  }
}

/** `client` unless it has lapsed (KV's `expireIn` is lazy, so expiry is checked on read). */
function live(client: Client | null, now: number): Client | null {
  return client && (client.expiresAt === undefined || client.expiresAt > now) ? client : null;
}

function invalidClient(reason: string, basic: boolean): OAuthError {
  return new OAuthError("invalid_client", `Cannot authenticate client: ${reason}`, {
    headers: basic ? { "www-authenticate": 'Basic realm="token"' } : {},
  });
}

function parseBasic(header: string | null): { id: string; secret: string } | null {
  if (!header?.toLowerCase().startsWith("basic ")) return null;
  let decoded: string;
  try {
    decoded = atob(header.slice(6).trim());
  } catch {
    throw invalidClient("malformed Basic credentials", true);
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) throw invalidClient("malformed Basic credentials", true);
  // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
  const unform = (s: string) => decodeURIComponent(s.replaceAll("+", " "));
  try {
    return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
  } catch {
    throw invalidClient("malformed Basic credentials", true);
  }
}

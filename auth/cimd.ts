/**
 * Client ID Metadata Documents: a `client_id` that is an https URL names a JSON document, published by
 * the client, that stands in for a registration. We fetch it (`auth/cimd_fetch.ts`, public addresses
 * only), validate it, and cache the validated client in KV so every instance shares one copy: for as long
 * as its `Cache-Control` allows, at most 24 hours; an invalid document is never cached, and a cached one
 * that does not fit a request (an unknown redirect URI) is fetched again before the request is refused.
 *
 * Written to draft -00 (pinned by MCP 2026-07-28); documents written to -02 validate too, since the rules
 * checked here are common to both and unknown fields are ignored.
 *
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-00
 * @see https://www.ietf.org/archive/id/draft-ietf-oauth-client-id-metadata-document-02.html
 * @module
 */
import { z } from "zod";
import { keys } from "../lib/kv_keys.ts";
import { isLoopbackHost, redirectUriProblem } from "./redirect_uri.ts";
import { sha256 } from "./crypto.ts";
import {
  CimdError,
  type DocumentFetchOptions,
  fetchClientDocument,
  type FetchedDocument,
} from "./cimd_fetch.ts";
import type { Client } from "./clients.ts";

export { CimdError };

/** The verified identity of a client: the host of its client ID URL, or null for a registered client. */
export function verifiedHost(clientId: string): string | null {
  return isMetadataClientId(clientId) ? new URL(clientId).host : null;
}

/** The longest a document is cached, whatever its `Cache-Control` says. */
export const MAX_CACHE_MS = 24 * 60 * 60 * 1000;
/** How long past its expiry a cached document may stand in while its host cannot be reached. */
export const STALE_IF_ERROR_MS = 24 * 60 * 60 * 1000;
/** A cached document that does not fit a request is fetched again at most this often. */
export const MIN_REFETCH_MS = 10_000;
/** How long a document without `Cache-Control` is cached. */
export const DEFAULT_CACHE_MS = 5 * 60 * 1000;

/** A cached, validated document. */
interface CachedClient {
  client: Client;
  fetchedAt: number;
  expiresAt: number;
}

/**
 * Whether `clientId` is meant as a client ID metadata document URL (rather than a registered id). Any
 * `https:` (or, for local development, `http:`) id is; whether it is a *valid* one is
 * {@linkcode clientIdUrlProblem}'s question.
 */
export function isMetadataClientId(clientId: string): boolean {
  return clientId.startsWith("https://") || clientId.startsWith("http://");
}

/**
 * Why `clientId` is not a usable client ID URL, or null: https with a path, no fragment, no user info,
 * no `.`/`..` segments (-00 §3). `allowLoopback` also admits `http:` on a loopback host (development).
 *
 * @example
 * ```ts
 * clientIdUrlProblem("https://claude.ai/oauth/claude-code-client-metadata", false); // null
 * clientIdUrlProblem("https://claude.ai/", false); // "must have a path"
 * ```
 */
export function clientIdUrlProblem(clientId: string, allowLoopback: boolean): string | null {
  if (clientId.length > 2000) return "is too long";
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return "is not a URL";
  }
  const loopbackHttp = url.protocol === "http:" && isLoopbackHost(url.hostname);
  if (url.protocol !== "https:" && !(allowLoopback && loopbackHttp)) return "must use https";
  if (url.username || url.password || /^[a-z]+:\/\/[^/]*@/i.test(clientId)) {
    return "must not contain user info";
  }
  if (clientId.includes("#")) return "must not contain a fragment";
  const rawPath = clientId.replace(/^[a-z]+:\/\/[^/?#]*/i, "").split("?")[0]!;
  if (rawPath === "" || rawPath === "/") return "must have a path";
  const dotSegment = (segment: string) => {
    try {
      return [".", ".."].includes(decodeURIComponent(segment));
    } catch {
      return false;
    }
  };
  if (rawPath.split("/").some(dotSegment)) return "must not contain . or .. path segments";
  return null;
}

const httpsUrl = z.string().max(2000).refine((v) => {
  try {
    return new URL(v).protocol === "https:";
  } catch {
    return false;
  }
}, "must be an https URL");

/** The document fields we use; unknown fields are ignored (RFC 7591 §2). */
const documentSchema = z.object({
  client_id: z.string(),
  client_name: z.string().trim().min(1, "must not be empty").max(200),
  redirect_uris: z.array(z.string()).min(1, "must list at least one redirect URI").max(20),
  token_endpoint_auth_method: z.literal("none", {
    error: "must be none: documents describe public clients (no shared secret can be published)",
  }).default("none"),
  grant_types: z.array(z.string()).default(["authorization_code"]),
  response_types: z.array(z.string()).default(["code"]),
  client_uri: httpsUrl.optional(),
  logo_uri: httpsUrl.optional(),
  scope: z.string().max(1000).optional(),
  software_id: z.string().max(200).optional(),
  software_version: z.string().max(200).optional(),
});

/**
 * Validates a fetched document for the client ID URL it was fetched from; resolves to the client.
 * @throws {CimdError} `invalid_document`, naming the field and the rule.
 */
export function validateClientDocument(clientId: string, body: string, now: number): Client {
  const invalid = (message: string) =>
    new CimdError("invalid_document", `Client metadata document ${clientId}: ${message}`);
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw invalid("is not JSON");
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw invalid("is not a JSON object");
  }
  const raw = doc as Record<string, unknown>;
  if (raw.client_id !== clientId) {
    throw invalid(`client_id ${JSON.stringify(raw.client_id)} does not equal the document's URL`);
  }
  for (const secret of ["client_secret", "client_secret_expires_at"]) {
    if (secret in raw) throw invalid(`${secret} must not appear in a public document`);
  }
  const parsed = documentSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(`${issue.path.join(".") || "document"}: ${issue.message}`);
  }
  const m = parsed.data;
  for (const uri of m.redirect_uris) {
    const problem = redirectUriProblem(uri);
    if (problem) throw invalid(`redirect URI ${JSON.stringify(uri)}: ${problem}`);
  }
  if (!m.grant_types.includes("authorization_code")) {
    throw invalid("grant_types: must include authorization_code");
  }
  if (!m.response_types.includes("code")) throw invalid("response_types: must include code");
  // Grant types we do not serve (e.g. device_code, for other servers) are ignored, not refused: one
  // document is read by every authorization server the client talks to.
  const grantTypes = m.grant_types.filter((g) =>
    g === "authorization_code" || g === "refresh_token"
  );
  return {
    clientId,
    clientSecretHash: null,
    clientName: m.client_name,
    clientUri: m.client_uri ?? null,
    logoUri: m.logo_uri ?? null,
    redirectUris: m.redirect_uris,
    grantTypes,
    responseTypes: ["code"],
    tokenEndpointAuthMethod: "none",
    scope: m.scope ?? null,
    softwareId: m.software_id ?? null,
    softwareVersion: m.software_version ?? null,
    createdAt: now,
  };
}

/**
 * How long a response may be cached, from its `Cache-Control`: `no-store`/`no-cache`/`max-age=0` → 0,
 * `max-age=N` → N seconds, absent → {@linkcode DEFAULT_CACHE_MS}; never more than {@linkcode MAX_CACHE_MS}.
 */
export function cacheLifetimeMs(cacheControl: string | null): number {
  if (cacheControl === null) return DEFAULT_CACHE_MS;
  const directives = cacheControl.toLowerCase().split(",").map((d) => d.trim());
  if (directives.some((d) => d === "no-store" || d === "no-cache")) return 0;
  const maxAge = directives.find((d) => d.startsWith("max-age="));
  if (!maxAge) return DEFAULT_CACHE_MS;
  const seconds = Number(maxAge.slice("max-age=".length));
  if (!Number.isFinite(seconds) || seconds <= 0) return 0;
  return Math.min(seconds * 1000, MAX_CACHE_MS);
}

/** Options of {@linkcode MetadataClients}. */
export interface MetadataClientsOptions extends DocumentFetchOptions {
  now?: () => number;
  /** The fetch; replaceable in unit tests of the cache. */
  fetch?: (url: URL, options: DocumentFetchOptions) => Promise<FetchedDocument>;
}

/** Resolves client ID URLs to validated clients, through the KV cache shared by every instance. */
export class MetadataClients {
  #kv: Deno.Kv;
  #options: MetadataClientsOptions;
  #now: () => number;
  /** Fetches in flight on this instance, so simultaneous requests for one document share one. */
  #inFlight = new Map<string, Promise<FetchedDocument>>();

  constructor(kv: Deno.Kv, options: MetadataClientsOptions) {
    this.#kv = kv;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The client behind `clientId`: from the cache while fresh and, when `redirectUri` is given, while it
   * still lists a matching redirect URI; otherwise fetched, validated and (if cacheable) cached.
   *
   * @param fits Whether a cached client suits the request; a cached client that does not is re-fetched.
   * @throws {CimdError} when the URL, the address, the fetch or the document is refused.
   */
  async resolve(clientId: string, fits: (client: Client) => boolean = () => true): Promise<Client> {
    const problem = clientIdUrlProblem(clientId, this.#options.allowLoopback);
    if (problem) {
      throw new CimdError("invalid_client_id", `Client ID URL ${clientId} ${problem}`);
    }
    const key = keys.clientMetadata(await sha256(clientId));
    const cached = (await this.#kv.get<CachedClient>(key)).value;
    const now = this.#now();
    const usable = cached?.client.clientId === clientId ? cached : null;
    if (usable && usable.expiresAt > now) {
      // A document that does not fit is fetched again, but not more often than MIN_REFETCH_MS, so
      // requests naming unknown redirect URIs cannot make us fetch the same document in a loop.
      if (fits(usable.client) || now - usable.fetchedAt < MIN_REFETCH_MS) return usable.client;
    }
    let fetched: FetchedDocument;
    try {
      fetched = await this.#fetchOnce(clientId);
    } catch (err) {
      // The client's host is down: a copy that expired less than STALE_IF_ERROR_MS ago still serves
      // (RFC 5861 stale-if-error), so an outage there does not sign its users out here.
      const transient = err instanceof CimdError && err.code === "unreachable";
      if (
        transient && usable && now - usable.expiresAt < STALE_IF_ERROR_MS && fits(usable.client)
      ) {
        return usable.client;
      }
      throw err;
    }
    let client: Client;
    try {
      client = validateClientDocument(clientId, fetched.body, now);
    } catch (err) {
      if (cached) await this.#kv.delete(key); // the client changed its document: forget the old one
      throw err;
    }
    const ttl = cacheLifetimeMs(fetched.cacheControl);
    if (ttl > 0) {
      const record: CachedClient = { client, fetchedAt: now, expiresAt: now + ttl };
      await this.#kv.set(key, record, { expireIn: ttl + STALE_IF_ERROR_MS });
    } else if (cached) {
      await this.#kv.delete(key);
    }
    return client;
  }

  #fetchOnce(clientId: string): Promise<FetchedDocument> {
    const running = this.#inFlight.get(clientId);
    if (running) return running;
    const fetching = (this.#options.fetch ?? fetchClientDocument)(new URL(clientId), this.#options)
      .finally(() => this.#inFlight.delete(clientId));
    this.#inFlight.set(clientId, fetching);
    return fetching;
  }
}

/**
 * Fetching a client ID metadata document without becoming a proxy into private networks (SSRF). The host
 * is resolved once, by us; every address in the answer must be public (`lib/public_address.ts`), and the
 * connection is made to exactly those checked addresses: `node:https` takes our `lookup` function, so no
 * second DNS lookup happens between check and connect and a rebinding answer cannot slip in. TLS still
 * verifies the certificate against the URL's host name (SNI). `fetch()` cannot do this: Deno's
 * `createHttpClient` has no resolver hook, and its `tcp` proxy transport speaks plain HTTP only.
 *
 * No redirect is followed (`node:https` never follows), the body is capped at 5 KB, the whole exchange
 * at 5 s, and only `application/json` is asked for.
 *
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-00#section-6 (SSRF, size)
 * @module
 */
import http from "node:http";
import https from "node:https";
import type { LookupAddress, LookupOptions } from "node:dns";
import { classifyAddress, isIpLiteral } from "../lib/public_address.ts";

/** Documents larger than this are refused (draft -00 §6.6 suggests 5 KB). */
export const MAX_DOCUMENT_BYTES = 5 * 1024;
/** The whole fetch, connection to last byte, must finish within this. */
export const FETCH_TIMEOUT_MS = 5000;

/** Stable codes of {@linkcode CimdError}. */
export type CimdErrorCode =
  | "invalid_client_id"
  | "address_refused"
  | "unreachable"
  | "redirect"
  | "http_status"
  | "too_large"
  | "invalid_document";

/** Why a client ID metadata document cannot be used. */
export class CimdError extends Error {
  /** A stable code. */
  readonly code: CimdErrorCode;
  constructor(code: CimdErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "CimdError";
    this.code = code;
  }
}

/** Resolves a host name to IP address literals. */
export type Resolver = (host: string) => Promise<string[]>;

/** Options of {@linkcode fetchClientDocument}. */
export interface DocumentFetchOptions {
  /** Development only (CIMD_ALLOW_LOOPBACK): let http URLs and loopback addresses through. */
  allowLoopback: boolean;
  /** DNS resolution; defaults to `Deno.resolveDns` (A and AAAA). Tests inject one to simulate DNS. */
  resolve?: Resolver;
  /** Extra trusted root certificates (PEM), for tests serving documents over local TLS. */
  caCerts?: string[];
  timeoutMs?: number;
  maxBytes?: number;
}

/** A fetched document, before validation. */
export interface FetchedDocument {
  body: string;
  cacheControl: string | null;
}

/** Resolves A and AAAA records with `Deno.resolveDns`; `localhost` names are loopback (RFC 6761 §6.3). */
export const resolveWithDeno: Resolver = async (host) => {
  if (host === "localhost" || host.endsWith(".localhost")) return ["127.0.0.1"];
  const answers = await Promise.allSettled([
    Deno.resolveDns(host, "A"),
    Deno.resolveDns(host, "AAAA"),
  ]);
  return answers.flatMap((a) => (a.status === "fulfilled" ? a.value : []));
};

/**
 * Fetches `url` (already checked to be a client ID URL) under the SSRF rules above.
 * @throws {CimdError} `address_refused`, `unreachable`, `redirect`, `http_status` or `too_large`.
 */
export async function fetchClientDocument(
  url: URL,
  options: DocumentFetchOptions,
): Promise<FetchedDocument> {
  const resolve = options.resolve ?? resolveWithDeno;
  const maxBytes = options.maxBytes ?? MAX_DOCUMENT_BYTES;
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const check = (address: string) => {
    const kind = classifyAddress(address);
    if (kind === "public" || (kind === "loopback" && options.allowLoopback)) return;
    throw new CimdError(
      "address_refused",
      `${url.hostname} resolves to ${address}, a ${kind} address; only public addresses are fetched`,
    );
  };
  if (isIpLiteral(url.hostname)) check(host);
  // Resolved here, checked, and handed to the connection as its only possible destinations.
  const lookup = (
    hostname: string,
    opts: LookupOptions,
    callback: (
      err: Error | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void,
  ) => {
    resolve(hostname).then((addresses) => {
      if (addresses.length === 0) {
        throw new CimdError("unreachable", `${hostname} does not resolve`);
      }
      addresses.forEach(check);
      const all = addresses.map((address) => ({
        address,
        family: address.includes(":") ? 6 : 4,
      }));
      if (opts.all) callback(null, all);
      else callback(null, all[0]!.address, all[0]!.family);
    }).catch((err) => callback(err instanceof Error ? err : new Error(String(err)), []));
  };
  const signal = AbortSignal.timeout(options.timeoutMs ?? FETCH_TIMEOUT_MS);
  const module = url.protocol === "https:" ? https : http;
  return await new Promise<FetchedDocument>((resolvePromise, reject) => {
    const fail = (err: unknown) => {
      if (err instanceof CimdError) return reject(err);
      const reason = signal.aborted
        ? "timed out"
        : err instanceof Error
        ? err.message
        : String(err);
      reject(new CimdError("unreachable", `Cannot fetch ${url.href}: ${reason}`, { cause: err }));
    };
    const req = module.request({
      protocol: url.protocol,
      host,
      port: url.port || (url.protocol === "https:" ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: "GET",
      headers: {
        accept: "application/json",
        "accept-encoding": "identity",
        "user-agent": "mcp-authkit-cimd/1",
      },
      agent: false,
      lookup,
      signal,
      ...(options.caCerts ? { ca: options.caCerts } : {}),
    }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        res.destroy();
        return fail(
          new CimdError("redirect", `${url.href} answered ${status}; redirects are not followed`),
        );
      }
      if (status !== 200) {
        res.destroy();
        // A 5xx is the host's trouble, like a timeout: "unreachable" (transient), not a verdict.
        const code = status >= 500 ? "unreachable" : "http_status";
        return fail(new CimdError(code, `${url.href} answered ${status}, not 200`));
      }
      const declared = Number(res.headers["content-length"] ?? "0");
      if (declared > maxBytes) {
        res.destroy();
        return fail(tooLarge(url, maxBytes));
      }
      const chunks: Uint8Array[] = [];
      let size = 0;
      res.on("data", (chunk: Uint8Array) => {
        size += chunk.byteLength;
        if (size > maxBytes) {
          res.destroy();
          fail(tooLarge(url, maxBytes));
          return;
        }
        chunks.push(chunk);
      });
      res.on("error", fail);
      res.on("end", () => {
        if (size > maxBytes) return;
        const cacheControl = res.headers["cache-control"];
        resolvePromise({
          body: new TextDecoder().decode(concat(chunks, size)),
          cacheControl: typeof cacheControl === "string" ? cacheControl : null,
        });
      });
    });
    req.on("error", fail);
    req.end();
  });
}

function tooLarge(url: URL, maxBytes: number): CimdError {
  return new CimdError("too_large", `${url.href} is larger than ${maxBytes} bytes`);
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

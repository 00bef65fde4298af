/**
 * A local client ID metadata document server for tests: https on loopback with the test certificate in
 * `tests/fixtures/tls/`, serving whatever documents a test puts in it and recording every request.
 *
 * @module
 */

const TLS = new URL("../fixtures/tls/", import.meta.url);
/** The test certificate (PEM), to trust explicitly. */
export const TEST_CA = Deno.readTextFileSync(new URL("cert.pem", TLS));
const TEST_KEY = Deno.readTextFileSync(new URL("key.pem", TLS));

/** What the server answers for one path. */
export interface Served {
  status?: number;
  body: string | Record<string, unknown>;
  headers?: Record<string, string>;
  /** Wait this long before answering (a slow host). */
  delayMs?: number;
}

/** A request the server received. */
export interface Received {
  path: string;
  host: string | null;
  accept: string | null;
}

/** A running metadata server; dispose with `await using`. */
export interface MetadataServer extends AsyncDisposable {
  /** `https://localhost:<port>`. */
  readonly origin: string;
  readonly port: number;
  readonly documents: Map<string, Served>;
  readonly received: Received[];
  /** The URL of `path` on this server (`https://localhost:<port><path>`). */
  url(path: string): string;
  /** Serves a valid public-client document at `path` whose `client_id` is its own URL. */
  serveClient(
    path: string,
    extra?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): string;
}

/** Starts a metadata server on 127.0.0.1 (https, or http when `tls` is false). */
export function startMetadataServer(options: { tls?: boolean } = {}): MetadataServer {
  const tls = options.tls ?? true;
  const documents = new Map<string, Served>();
  const received: Received[] = [];
  const server = Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen() {},
    ...(tls ? { cert: TEST_CA, key: TEST_KEY } : {}),
  }, async (req) => {
    const url = new URL(req.url);
    received.push({
      path: url.pathname + url.search,
      host: req.headers.get("host"),
      accept: req.headers.get("accept"),
    });
    const doc = documents.get(url.pathname + url.search);
    if (!doc) return new Response("not found", { status: 404 });
    if (doc.delayMs) await new Promise((resolve) => setTimeout(resolve, doc.delayMs));
    const body = typeof doc.body === "string" ? doc.body : JSON.stringify(doc.body);
    return new Response(body, {
      status: doc.status ?? 200,
      headers: { "content-type": "application/json", ...doc.headers },
    });
  });
  const port = server.addr.port;
  const origin = `${tls ? "https" : "http"}://localhost:${port}`;
  return {
    origin,
    port,
    documents,
    received,
    url: (path) => `${origin}${path}`,
    serveClient(path, extra = {}, headers = {}) {
      const clientId = `${origin}${path}`;
      documents.set(path, {
        body: {
          client_id: clientId,
          client_name: "Metadata Test Client",
          redirect_uris: ["http://127.0.0.1:9/callback"],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: "none",
          ...extra,
        },
        headers,
      });
      return clientId;
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

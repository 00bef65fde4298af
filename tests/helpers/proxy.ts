/**
 * A small round-robin HTTP proxy on loopback, standing in for Deno Deploy's router: no sticky routing,
 * so consecutive requests of one client land on different instances. Bodies are buffered so a request
 * refused at connect time (the instance is dead) is retried on the next backend, as a load balancer with
 * health checks would; responses stream through, so SSE works. It records which backend served what.
 *
 * @module
 */

/** One proxied request. */
export interface ProxiedRequest {
  method: string;
  path: string;
  /** The query string, with its `?` (empty when none). */
  search: string;
  /** Index of the backend that answered, or -1 while pending or when none could be reached (502). */
  backend: number;
  /** The status, or 0 while the backend has not answered yet. */
  status: number;
  /** The request's `Last-Event-ID` header (a resumed event stream), or null. */
  lastEventId: string | null;
}

/** A running proxy. */
export interface RoundRobinProxy extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order. */
  readonly log: ProxiedRequest[];
  /** Sets the backend origins (e.g. once the instances listen). */
  setBackends(origins: string[]): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "upgrade", "host"];

/** Starts a proxy on a free loopback port (`port` to pick one). */
export function startProxy(options: { port?: number } = {}): RoundRobinProxy {
  let backends: string[] = [];
  let next = 0;
  const log: ProxiedRequest[] = [];
  const server = Deno.serve(
    { port: options.port ?? 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      const body = req.body ? new Uint8Array(await req.arrayBuffer()) : undefined;
      const headers = new Headers(req.headers);
      for (const name of HOP_BY_HOP) headers.delete(name);
      const entry: ProxiedRequest = {
        method: req.method,
        path: url.pathname,
        search: url.search,
        backend: -1,
        status: 0,
        lastEventId: req.headers.get("last-event-id"),
      };
      log.push(entry);
      for (let tries = 0; tries < backends.length; tries++) {
        const index = next++ % backends.length;
        try {
          const res = await fetch(`${backends[index]}${url.pathname}${url.search}`, {
            method: req.method,
            headers,
            ...(body ? { body } : {}),
            redirect: "manual",
          });
          entry.backend = index;
          entry.status = res.status;
          const out = new Headers(res.headers);
          out.delete("content-length");
          out.delete("transfer-encoding");
          return new Response(res.body, { status: res.status, headers: out });
        } catch {
          // Connection refused: the instance is gone; try the next one. (A client that disconnects
          // cancels the response body, which closes the upstream connection too.)
        }
      }
      entry.status = 502;
      return new Response("no backend reachable", { status: 502 });
    },
  );
  const port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    setBackends(origins) {
      backends = [...origins];
    },
    async close() {
      await server.shutdown();
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

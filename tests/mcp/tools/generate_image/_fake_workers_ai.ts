/**
 * A local fake of Cloudflare's Workers AI REST endpoint, served over real HTTP on 127.0.0.1 with an
 * ephemeral port. It records each request and answers with a handler the test chooses. Slow handlers
 * wait with {@linkcode delay} on the `closing` signal, so closing the fake cuts them short and nothing
 * leaks. (The request's own signal is not used: Deno 2.9 warns about its legacy abort behaviour.)
 *
 * @module
 */

/** What the fake saw of one request. */
export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | null;
  contentType: string | null;
  body: unknown;
}

/** A running fake. */
export interface FakeWorkersAi extends AsyncDisposable {
  /** Base URL to pass as `baseUrl` (like `https://api.cloudflare.com/client/v4`). */
  readonly baseUrl: string;
  readonly requests: SeenRequest[];
  /** Aborts pending delays and shuts the server down. */
  close(): Promise<void>;
}

/** Waits `ms`, or less if either signal aborts. */
export function delay(ms: number, ...signals: AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    const signal = AbortSignal.any(signals);
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** A base64 string of minimal JPEG-looking bytes (SOI + APP0 marker start). */
export const JPEG_BYTES = new Uint8Array([
  0xff,
  0xd8,
  0xff,
  0xe0,
  0x00,
  0x10,
  0x4a,
  0x46,
  0x49,
  0x46,
]);

/** Cloudflare's success envelope around `image`. */
export function envelope(image: string): Response {
  return Response.json({ result: { image }, success: true, errors: [], messages: [] });
}

/**
 * Starts the fake.
 *
 * @param handler Answers each request; receives the request and a signal that aborts on close.
 */
export function startFakeWorkersAi(
  handler: (request: Request, closing: AbortSignal) => Response | Promise<Response>,
): FakeWorkersAi {
  const requests: SeenRequest[] = [];
  const closing = new AbortController();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (request) => {
    const text = await request.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep the raw text
    }
    requests.push({
      method: request.method,
      path: new URL(request.url).pathname,
      authorization: request.headers.get("authorization"),
      contentType: request.headers.get("content-type"),
      body,
    });
    return await handler(request, closing.signal);
  });
  const close = async () => {
    closing.abort();
    await server.shutdown();
  };
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}/client/v4`,
    requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * A server-sent-events writer over a web-standard `ReadableStream`: events, keep-alive comments, and one
 * close path whichever side ends the stream (the server calls `close()`, or the client disconnects and the
 * stream is cancelled). Used by the standalone `GET /mcp` stream and the 2024-11-05 `GET /sse` transport.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 * @module
 */

/** Default interval of `: keepalive` comments (the SDK transports use 15 s too). */
export const KEEP_ALIVE_MS = 15_000;

/** Headers of every SSE response we send. */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-type": "text/event-stream",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
});

/** An open event stream. */
export interface SseStream {
  /** The body to answer with. */
  readonly body: ReadableStream<Uint8Array>;
  /** True once closed from either side. */
  readonly closed: boolean;
  /** Writes one event (with an `id:` when given); returns false when the stream is already closed. */
  send(event: string, data: string, id?: string): boolean;
  /**
   * Writes a priming event: an event id with empty data (and `retry:` when given), so a client can
   * resume from here with `Last-Event-ID` (2025-11-25 §Resumability).
   */
  prime(id: string, retryMs?: number): boolean;
  /** Writes a comment line (ignored by clients). */
  comment(text: string): boolean;
  /** Tells the client how long to wait before reconnecting (`retry:`), e.g. before a shutdown. */
  retry(ms: number): boolean;
  /** Ends the stream; idempotent. */
  close(): void;
}

/** Options of {@linkcode createSseStream}. */
export interface SseStreamOptions {
  /** Keep-alive comment interval in ms; 0 disables. Default {@linkcode KEEP_ALIVE_MS}. */
  keepAliveMs?: number;
  /** Called once when the stream ends, from either side. */
  onClose?: () => void;
  /** Called after each keep-alive comment (e.g. to mark a session as still in use). */
  onKeepAlive?: () => void;
}

/**
 * Creates an SSE stream.
 *
 * @example
 * ```ts
 * const stream = createSseStream({ onClose: () => sessions.detach(id) });
 * stream.send("message", JSON.stringify({ jsonrpc: "2.0", method: "notifications/tools/list_changed" }));
 * return new Response(stream.body, { headers: SSE_HEADERS });
 * ```
 */
export function createSseStream(options: SseStreamOptions = {}): SseStream {
  const encoder = new TextEncoder();
  const keepAliveMs = options.keepAliveMs ?? KEEP_ALIVE_MS;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  const finish = (): void => {
    if (closed) return;
    closed = true;
    if (timer !== undefined) clearInterval(timer);
    try {
      options.onClose?.();
    } finally {
      try {
        controller?.close();
      } catch {
        // already closed or errored by a cancel
      }
    }
  };
  const write = (chunk: string): boolean => {
    if (closed || !controller) return false;
    try {
      controller.enqueue(encoder.encode(chunk));
      return true;
    } catch {
      finish();
      return false;
    }
  };

  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      if (keepAliveMs > 0) {
        timer = setInterval(() => {
          if (write(": keepalive\n\n")) options.onKeepAlive?.();
        }, keepAliveMs);
      }
    },
    cancel() {
      finish();
    },
  });

  return {
    body,
    get closed() {
      return closed;
    },
    send(event, data, id) {
      if (/[\r\n]/.test(event)) {
        throw new SyntaxError(`Cannot serialize event name "${event}": it has a newline`);
      }
      const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}`).join("\n");
      return write(`${idLine(id)}event: ${event}\n${lines}\n\n`);
    },
    prime(id, retryMs) {
      const retry = retryMs === undefined ? "" : `retry: ${Math.max(0, Math.round(retryMs))}\n`;
      return write(`${idLine(id)}${retry}data: \n\n`);
    },
    comment(text) {
      return write(`: ${text.replace(/[\r\n]+/g, " ")}\n\n`);
    },
    retry(ms) {
      return write(`retry: ${Math.max(0, Math.round(ms))}\n\n`);
    },
    close: finish,
  };
}

function idLine(id: string | undefined): string {
  if (id === undefined) return "";
  if (/[\r\n\0]/.test(id)) {
    throw new SyntaxError(`Cannot serialize event id "${id}": it has a newline`);
  }
  return `id: ${id}\n`;
}

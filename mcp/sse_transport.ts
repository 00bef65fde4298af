/**
 * The 2024-11-05 HTTP+SSE server transport over web-standard streams (the SDK's own is Node-only). The
 * `GET` response is an event stream whose first event is `endpoint` (where to POST); server messages
 * follow as `message` events, with keep-alive comments between. Client messages arrive through
 * {@linkcode SseServerTransport.handlePostMessage} and are answered 202; their replies go on the stream.
 *
 * @see 2024-11-05 basic/transports.mdx §HTTP with SSE (mcp-spec.md §3 T18); platform.md §5.5
 * @module
 */
import {
  type AuthInfo,
  type JSONRPCMessage,
  parseJSONRPCMessage,
  type Transport,
} from "@modelcontextprotocol/server";
import { randomToken } from "../auth/crypto.ts";
import { ERROR_CODES, jsonRpcError, readJsonBody } from "./jsonrpc.ts";
import { createSseStream, SSE_HEADERS, type SseStream } from "./sse_stream.ts";

/** One SSE connection; implements the SDK's `Transport`. */
export class SseServerTransport implements Transport {
  /** The session id clients echo as `?sessionId=`. */
  readonly sessionId: string = randomToken(32);
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?:
    | ((message: JSONRPCMessage, extra?: { authInfo?: AuthInfo; request?: Request }) => void)
    | undefined;
  #endpoint: string;
  #stream: SseStream;
  #started = false;

  /**
   * @param endpoint Path clients POST to, e.g. `/messages`; `?sessionId=<id>` is appended.
   * @param options.keepAliveMs Keep-alive comment interval (default 15 s).
   * @param options.onClose Called once when the stream ends, before `onclose` (which the SDK owns).
   */
  constructor(endpoint: string, options: { keepAliveMs?: number; onClose?: () => void } = {}) {
    this.#endpoint = endpoint;
    this.#stream = createSseStream({
      ...(options.keepAliveMs === undefined ? {} : { keepAliveMs: options.keepAliveMs }),
      onClose: () => {
        try {
          options.onClose?.();
        } finally {
          this.onclose?.();
        }
      },
    });
  }

  /** True once the stream has ended. */
  get closed(): boolean {
    return this.#stream.closed;
  }

  /** The `GET` response carrying the stream. */
  response(): Response {
    return new Response(this.#stream.body, { headers: SSE_HEADERS });
  }

  /** Sends the `endpoint` event; called by `server.connect()`. */
  start(): Promise<void> {
    if (this.#started) {
      return Promise.reject(new Error("Cannot start SSE transport: already started"));
    }
    this.#started = true;
    this.#stream.send(
      "endpoint",
      `${this.#endpoint}?sessionId=${encodeURIComponent(this.sessionId)}`,
    );
    return Promise.resolve();
  }

  /** Writes one message to the stream. */
  send(message: JSONRPCMessage): Promise<void> {
    if (!this.#stream.send("message", JSON.stringify(message))) {
      return Promise.reject(new Error("Cannot send on SSE transport: the stream is closed"));
    }
    return Promise.resolve();
  }

  /** Ends the stream (which calls `onclose`). */
  close(): Promise<void> {
    this.#stream.close();
    return Promise.resolve();
  }

  /**
   * Accepts one POSTed message: 415 for a non-JSON content type, 413 for a large body, 400 for an
   * unparseable or invalid JSON-RPC message, else dispatches it with `authInfo` and answers 202. When `refuse` returns a reply
   * for the message, that reply goes on the stream instead and the message is not dispatched.
   */
  async handlePostMessage(
    request: Request,
    authInfo: AuthInfo,
    refuse?: (message: JSONRPCMessage) => JSONRPCMessage | null,
  ): Promise<Response> {
    if (this.closed) return jsonRpcError(404, ERROR_CODES.sessionNotFound, "Session not found");
    const read = await readJsonBody(request);
    if ("error" in read) return read.error;
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(read.body);
    } catch {
      return jsonRpcError(
        400,
        ERROR_CODES.invalidRequest,
        "Invalid Request: not a JSON-RPC message",
      );
    }
    const reply = refuse?.(message) ?? null;
    if (reply) await this.send(reply);
    else this.onmessage?.(message, { authInfo });
    return new Response(null, { status: 202 });
  }
}

/**
 * The 2024-11-05 HTTP+SSE transport as plain web-standard functions behind the runtime's `openSse` and
 * `sseMessage` actions: opening a session's event stream (first event `endpoint`, naming
 * {@linkcode MESSAGES_PATH}), and taking one client message for it (202; replies go on the stream). A
 * message is accepted only from the user, client and grant that opened the stream; it may land on any
 * instance, is served there, and its reply reaches the stream wherever it is held (`sse_sessions.ts`).
 *
 * @see https://modelcontextprotocol.io/specification/2024-11-05/basic/transports §HTTP with SSE
 * @module
 */
import { type JSONRPCMessage, parseJSONRPCMessage } from "@modelcontextprotocol/server";
import type { Identity } from "../auth/identity.ts";
import type { MessageDispatcher } from "./dispatch.ts";
import { type GrantLimits, releaseOnEnd } from "./grant_limits.ts";
import {
  ERROR_CODES,
  forbiddenCallReply,
  McpHttpError,
  readJsonBody,
  sessionNotFound,
  shuttingDown,
} from "./jsonrpc.ts";
import { authInfoFor, reportRefusal } from "./server.ts";
import type { SseSessions } from "./sse_sessions.ts";
import { SSE_HEADERS } from "./sse_stream.ts";
import type { Caller } from "./streamable_http.ts";
import type { ToolServices } from "./tool.ts";

/** Where SSE clients POST their messages (the `endpoint` event names it). */
export const MESSAGES_PATH = "/messages";

/** The runtime parts {@linkcode createSseTransport} serves with. */
export interface SseTransportParts {
  readonly services: ToolServices;
  readonly sse: SseSessions;
  /** Serves one client message with a fresh server. */
  readonly dispatch: MessageDispatcher;
  readonly limits: GrantLimits;
  /** True once shutdown began: new streams are refused with 503. */
  draining(): boolean;
}

/** The two halves of the 2024-11-05 transport. */
export interface SseTransport {
  /** Opens a session's event stream for `identity` (`GET /sse`). */
  open(identity: Identity): Promise<Response>;
  /** Takes one client message for session `sessionId` (`POST /messages?sessionId=…`). */
  message(sessionId: string | undefined, caller: Caller, request: Request): Promise<Response>;
}

/** The 2024-11-05 transport over `parts`. */
export function createSseTransport(parts: SseTransportParts): SseTransport {
  const { sse, limits } = parts;
  return {
    async open(identity) {
      if (parts.draining()) throw shuttingDown();
      await limits.assertRoomForSession(identity);
      const release = limits.acquireStream(identity.grantId);
      const stream = await sse.open(identity, MESSAGES_PATH).catch((err) => {
        release();
        throw err;
      });
      if (parts.draining()) { // shutdown began while the record was written
        stream.close();
        release();
        throw shuttingDown();
      }
      return new Response(releaseOnEnd(stream.body, release), { headers: SSE_HEADERS });
    },

    async message(sessionId, caller, request) {
      if (!sessionId) {
        throw new McpHttpError(
          400,
          ERROR_CODES.badRequest,
          "Bad Request: sessionId query parameter is required",
        );
      }
      const { identity, accessToken } = caller;
      const session = await sse.find(identity, sessionId);
      if (!session) throw sessionNotFound();
      const body = await readJsonBody(request);
      let message: JSONRPCMessage;
      try {
        message = parseJSONRPCMessage(body);
      } catch {
        throw new McpHttpError(
          400,
          ERROR_CODES.invalidRequest,
          "Invalid Request: not a JSON-RPC message",
        );
      }
      const onRefused = reportRefusal(parts.services, identity);
      const refused = forbiddenCallReply(message, identity, onRefused);
      const output = refused
        ? [refused]
        : await parts.dispatch(message, authInfoFor(identity, accessToken), request.signal);
      const delivered = await sse.deliver(session, output);
      if (!delivered) throw sessionNotFound();
      return new Response(null, { status: 202 });
    },
  };
}

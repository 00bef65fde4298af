/**
 * Serves one 2024-11-05 SSE client message with a fresh per-request server, exactly as a 2025 POST is
 * served: through the SDK's stateless legacy leg. The answer (the response, and any notification the
 * handler sent before it, such as progress) comes back as a list of JSON-RPC messages for the stream.
 *
 * So no SDK server lives per SSE stream, and the instance that received the POST (whose bearer check
 * just passed) runs the request; only the output travels to the instance holding the stream.
 *
 * @module
 */
import type { AuthInfo, JSONRPCMessage, LegacyHttpHandler } from "@modelcontextprotocol/server";

/**
 * Serves one message; resolves to what goes on the stream (empty for a notification). `signal` (the
 * POST's) aborts the handler when the client goes away.
 */
export type MessageDispatcher = (
  message: JSONRPCMessage,
  authInfo: AuthInfo,
  signal?: AbortSignal,
) => Promise<JSONRPCMessage[]>;

/** A dispatcher over the legacy leg `legacy`, addressing synthetic requests to `url`. */
export function createDispatcher(legacy: LegacyHttpHandler, url: string): MessageDispatcher {
  return async (message, authInfo, signal) => {
    const request = new Request(url, {
      method: "POST",
      ...(signal ? { signal } : {}),
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      // No body: the leg takes the message from `parsedBody` and never reads the request's.
    });
    const response = await legacy(request, { authInfo, parsedBody: message });
    const messages = await readMessages(response);
    const id = "id" in message ? message.id : undefined;
    // A refusal before dispatch carries `id: null`; give it the request's id so the client's call ends.
    return messages.map((m) =>
      id !== undefined && "error" in m && (m as { id?: unknown }).id === null
        ? { ...m, id } as JSONRPCMessage
        : m
    );
  };
}

/** The JSON-RPC messages of a legacy-leg response: a JSON body, an SSE stream, or none (202). */
export async function readMessages(response: Response): Promise<JSONRPCMessage[]> {
  const text = await response.text();
  if (!text.trim()) return [];
  const type = response.headers.get("content-type") ?? "";
  if (!type.startsWith("text/event-stream")) {
    const parsed = JSON.parse(text);
    return Array.isArray(parsed) ? parsed : [parsed];
  }
  const messages: JSONRPCMessage[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block.split(/\r?\n/)
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5));
    // A priming event (2025-11-25 §Resumability) has an id and empty data: no message.
    if (data.join("") !== "") messages.push(JSON.parse(data.join("\n")));
  }
  return messages;
}

/**
 * Ties a 2026-07-28 `subscriptions/listen` stream to the caller's grant: while the stream is open the
 * grant is watched; a permission change publishes `tools_list_changed` on the handler's bus (events carry
 * no user, so every open listen stream of this instance re-lists under its own token), and revoking the
 * grant ends the stream.
 *
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/utilities/subscriptions
 * @see https://github.com/modelcontextprotocol/typescript-sdk (`ServerEventBus` in `@modelcontextprotocol/server`)
 * @module
 */
import type { Identity } from "../auth/identity.ts";
import type { GrantWatcher } from "./cluster/grant_watcher.ts";

/**
 * Wraps `response` (the SDK's listen stream) so the grant is watched while it is open, and registers
 * a way to end it in `open` (shutdown ends them all). Other responses are returned unchanged.
 */
export function watchListen(
  response: Response,
  identity: Identity,
  watcher: GrantWatcher,
  open: Set<() => void>,
  toolsChanged: () => void,
): Response {
  const type = response.headers.get("content-type") ?? "";
  if (!response.body || !type.startsWith("text/event-stream")) return response;
  const reader = response.body.getReader();
  let done = false;
  let unwatch = (): void => {};
  let end = (): void => {};
  const finish = (): void => {
    done = true;
    unwatch();
    open.delete(end);
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      end = () => {
        finish();
        reader.cancel().catch(() => {});
        try {
          controller.close();
        } catch {
          // already closed
        }
      };
      open.add(end);
      unwatch = watcher.watch(identity.grantId, identity.permissions, (change) => {
        if (change.kind === "permissions") return toolsChanged();
        end();
      });
    },
    async pull(controller) {
      try {
        const chunk = await reader.read();
        if (done) return;
        if (chunk.done) {
          finish();
          controller.close();
        } else {
          controller.enqueue(chunk.value);
        }
      } catch (err) {
        finish();
        controller.error(err);
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}

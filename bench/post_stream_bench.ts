/**
 * What resumable POST streams (`mcp/cluster/post_streams.ts`) add to a 2025 `tools/call`: the same `add` call
 * in a 2025-06-18 session (baseline: the SDK's SSE response as is) and in a 2025-11-25 session (priming
 * event, ids, each event written to KV). Real server over loopback HTTP, in-memory KV.
 * `deno bench -A bench/post_stream_bench.ts`.
 *
 * @module
 */
import { INITIALIZE, postMcp } from "../tests/helpers/mcp_clients.ts";
import { signIn } from "../tests/helpers/oauth.ts";
import { startTestServer } from "../tests/helpers/server.ts";

const server = await startTestServer();
const { accessToken } = await signIn(server.url, "alice@example.com");

async function session(protocolVersion: string): Promise<string> {
  const init = await postMcp(server.url, accessToken, {
    ...INITIALIZE,
    params: { ...INITIALIZE.params, protocolVersion },
  });
  return init.headers.get("mcp-session-id")!;
}
const sessions = { old: await session("2025-06-18"), resumable: await session("2025-11-25") };
globalThis.addEventListener("unload", () => void server[Symbol.asyncDispose]());

let id = 0;
async function call(sessionId: string, version: string): Promise<void> {
  const reply = await postMcp(server.url, accessToken, {
    jsonrpc: "2.0",
    id: ++id,
    method: "tools/call",
    params: { name: "add", arguments: { a: 1, b: 2 } },
  }, { "mcp-session-id": sessionId, "mcp-protocol-version": version });
  if (!JSON.stringify(reply.message).includes('"text":"3"')) throw new Error("no result");
}

Deno.bench("tools/call, 2025-06-18 session", { group: "post", baseline: true }, async () => {
  await call(sessions.old, "2025-06-18");
});
Deno.bench("tools/call, 2025-11-25 session (resumable)", { group: "post" }, async () => {
  await call(sessions.resumable, "2025-11-25");
});

/**
 * Measures the memory an idle 2025 session costs: opens N sessions through the real app (in process,
 * `app.fetch`, so no sockets), forces GC, and compares `Deno.memoryUsage()`. An idle session is a KV
 * record plus a small cache entry; no SDK server is kept. Optionally also holds each session's GET stream.
 *
 * Run: `deno run -A --v8-flags=--expose-gc tests/mcp/session_memory.ts [N] [--streams]`
 *
 * @module
 */
import { INITIALIZE } from "../helpers/mcp_clients.ts";
import { signIn } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

const n = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 2000);
const withStreams = Deno.args.includes("--streams");
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("Run with --v8-flags=--expose-gc");

await using server = await startTestServer();
const { accessToken } = await signIn(server.url, "alice@example.com");
const headers = {
  authorization: `Bearer ${accessToken}`,
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
};
const initialize = async (): Promise<string> => {
  const res = await server.app.fetch(
    new Request(`${server.url}/mcp`, { method: "POST", headers, body: JSON.stringify(INITIALIZE) }),
  );
  await res.body?.cancel();
  return res.headers.get("mcp-session-id")!;
};
// Warm up every code path once so JIT and module state do not count.
for (let i = 0; i < 50; i++) await initialize();

const measure = () => {
  for (let i = 0; i < 5; i++) gc();
  return Deno.memoryUsage();
};
const before = measure();
const streams: ReadableStream<Uint8Array>[] = [];
for (let i = 0; i < n; i++) {
  const id = await initialize();
  if (withStreams) {
    const res = await server.app.fetch(
      new Request(`${server.url}/mcp`, {
        headers: {
          ...headers,
          accept: "text/event-stream",
          "mcp-session-id": id,
          "mcp-protocol-version": "2025-11-25",
        },
      }),
    );
    streams.push(res.body!);
  }
}
const after = measure();
const perHeap = (after.heapUsed - before.heapUsed) / n;
const perRss = (after.rss - before.rss) / n;
// deno-lint-ignore no-console
console.log(JSON.stringify({
  sessions: n,
  streams: withStreams,
  heapUsedPerSessionBytes: Math.round(perHeap),
  rssPerSessionBytes: Math.round(perRss),
  heapUsedDeltaMiB: +((after.heapUsed - before.heapUsed) / 2 ** 20).toFixed(2),
}));
await Promise.all(streams.map((s) => s.cancel()));

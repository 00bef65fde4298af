/**
 * What the cross-instance SSE relay adds to a reply's delivery, end to end with real processes: two
 * server instances over one KV file (the cluster harness, default KV_POLL_MS=100), one `GET /sse` stream
 * held by instance 0, and a `ping` POSTed straight to instance 0 (baseline: the reply is written to the
 * stream directly) or to instance 1 (the reply travels through instance 0's KV outbox and doorbell).
 * Each iteration is the time from sending the POST to reading the reply on the stream (then the POST's
 * 202 is awaited too, so iterations do not overlap). `KV_POLL_MS=25 deno task bench` shows the knob.
 *
 * @module
 */
import { setQuiet } from "../lib/log.ts";
import { startCluster } from "../tests/helpers/cluster.ts";
import { sdkSignIn } from "../tests/helpers/oauth.ts";

setQuiet(true);
const pollMs = Number(Deno.env.get("KV_POLL_MS") ?? "100");
const cluster = await startCluster({ instances: 2, env: { KV_POLL_MS: String(pollMs) } });
const token = (await sdkSignIn(`${cluster.url}/sse`, "alice@example.com")).saved!.access_token;
const [holder, other] = cluster.instances.map((i) => i.origin) as [string, string];
const stream = await fetch(`${holder}/sse`, {
  headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
});
const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
let buffer = "";
while (!buffer.includes("\n\n")) buffer += (await reader.read()).value ?? "";
const endpoint = /data: (\/messages\?sessionId=\S+)/.exec(buffer)![1]!;
buffer = "";

let id = 0;
/**
 * One timed ping. A random pause first puts the POST at a random point of the holder's poll cycle, as
 * real traffic is (back-to-back iterations would lock onto the cycle and always wait a whole one).
 */
async function ping(b: Deno.BenchContext, origin: string): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, Math.random() * pollMs));
  b.start();
  const want = new RegExp(`"id":${++id}[,}]`);
  // As the SDK client does, the reply is taken from the stream whenever it comes; the POST's 202
  // (sent once the holder took the reply) is checked after.
  const posted = fetch(`${origin}${endpoint}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id, method: "ping" }),
  });
  let match: RegExpExecArray | null;
  while (!(match = want.exec(buffer))) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error("the stream ended");
    buffer += chunk.value;
  }
  b.end();
  buffer = buffer.slice(match.index + match[0].length);
  const res = await posted;
  await res.body?.cancel();
  if (res.status !== 202) throw new Error(`POST answered ${res.status}`);
}

Deno.bench(
  { name: "POST on the holder (baseline)", group: "sse reply", baseline: true, n: 60, warmup: 5 },
  async (b) => await ping(b, holder),
);
Deno.bench(
  { name: "POST on another instance (KV relay)", group: "sse reply", n: 60, warmup: 5 },
  async (b) => await ping(b, other),
);

globalThis.addEventListener("unload", () => {
  void reader.cancel();
  void cluster.close();
});

/**
 * How long a real `main.ts` process takes from SIGTERM to exit: with no open stream (baseline) and
 * holding 10 SSE streams plus 10 2025 `GET /mcp` streams, which it must end (with `retry:`) first.
 * Each iteration starts a fresh process; only the SIGTERM → exit span is timed.
 *
 * @module
 */
import { setQuiet } from "../lib/log.ts";
import { spawnServer } from "../tests/helpers/cluster.ts";
import { openSession } from "../tests/helpers/mcp_clients.ts";
import { sdkSignIn } from "../tests/helpers/oauth.ts";

setQuiet(true);
const dir = await Deno.makeTempDir({ prefix: "shutdown-bench-" });
let run = 0;

async function stop(b: Deno.BenchContext, streamsEach: number): Promise<void> {
  const server = await spawnServer({ PORT: "0", KV_PATH: `${dir}/kv-${run++}.sqlite3` });
  const base = server.publicUrl;
  const open: Response[] = [];
  if (streamsEach > 0) {
    const sse = (await sdkSignIn(`${base}/sse`, "bob@example.com")).saved!.access_token;
    const mcp = (await sdkSignIn(`${base}/mcp`, "bob@example.com")).saved!.access_token;
    for (let i = 0; i < streamsEach; i++) {
      open.push(
        await fetch(`${base}/sse`, {
          headers: { authorization: `Bearer ${sse}`, accept: "text/event-stream" },
        }),
      );
      const id = await openSession(base, mcp);
      open.push(
        await fetch(`${base}/mcp`, {
          headers: {
            authorization: `Bearer ${mcp}`,
            accept: "text/event-stream",
            "mcp-session-id": id,
          },
        }),
      );
    }
  }
  b.start();
  server.process.kill("SIGTERM");
  const [status] = await Promise.all([server.exited, ...open.map((r) => r.text())]);
  b.end();
  if (status.code !== 0) throw new Error(`exited with ${status.code}`);
}

Deno.bench(
  { name: "SIGTERM → exit, idle (baseline)", group: "shutdown", baseline: true, n: 5, warmup: 1 },
  async (b) => await stop(b, 0),
);
Deno.bench(
  { name: "SIGTERM → exit, 20 open streams", group: "shutdown", n: 5, warmup: 1 },
  async (b) => await stop(b, 10),
);

globalThis.addEventListener("unload", () => {
  Deno.removeSync(dir, { recursive: true });
});

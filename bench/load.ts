// deno-lint-ignore-file no-console
/**
 * The load run: the layer table of issue 12, as ratios to a bare `Deno.serve` measured in the same run.
 *
 * Starts two real processes on loopback: a bare `Deno.serve` answering a fixed JSON-RPC body (the
 * ceiling) and `main.ts` in emulator mode over a fresh KV file (request log on, written to /dev/null;
 * audit trail on). Signs alice in through the real OAuth flow, opens a 2025 session, then drives each
 * path with C concurrent keep-alive connections and prints req/s, p50 and the share of the ceiling.
 *
 * The load generator is `wrk` when installed (`apt-get install wrk`), else an in-process Deno client
 * (`--client=deno`) that sends a fixed count per path. Either way it shares the machine's CPUs with the
 * servers, so absolute figures are lower than on separate machines; compare ratios within one run.
 *
 * ```sh
 * deno run -A bench/load.ts                     # wrk if present, c=10, 5 s per path
 * deno run -A bench/load.ts --connections=10 --seconds=5 --runs=3
 * deno run -A bench/load.ts --client=deno --count=20000
 * deno run -A bench/load.ts --fast-path=off    # every MCP request through the SDK
 * deno run -A bench/load.ts --paired=off       # one ceiling per run instead of one before each path
 * deno run -A bench/load.ts --only="2025 session tools" --v8-flags=--prof  # profile the app
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { setQuiet } from "../lib/log.ts";
import { openSession } from "../tests/helpers/mcp_clients.ts";
import { signIn } from "../tests/helpers/oauth.ts";

setQuiet(true);

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    connections: { type: "string", default: "10" },
    seconds: { type: "string", default: "5" },
    count: { type: "string", default: "20000" },
    runs: { type: "string", default: "1" },
    client: { type: "string" },
    only: { type: "string" },
    "fast-path": { type: "string", default: "on" },
    "v8-flags": { type: "string" },
    paired: { type: "string", default: "on" },
  },
});
const CONNECTIONS = Number(args.connections);
const SECONDS = Number(args.seconds);
const COUNT = Number(args.count);
const RUNS = Number(args.runs);
/** Whether each path's share is taken against a ceiling measured right before it (default). */
const PAIRED = args.paired !== "off";

/** One path under load: a request template, and what a correct answer contains. */
interface Scenario {
  name: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Status of a correct answer. */
  status: number;
  /** A substring every correct answer's body holds. */
  expect: string;
}

/** A measured path. */
interface Figures {
  name: string;
  rps: number;
  p50Ms: number;
  errors: number;
}

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const CEILING_BODY = '{"jsonrpc":"2.0","id":1,"result":{}}';
const CEILING_SRC =
  `Deno.serve({ port: Number(Deno.args[0]), hostname: "127.0.0.1", onListen() {} }, () =>
  new Response(${
    JSON.stringify(CEILING_BODY)
  }, { headers: { "content-type": "application/json" } }));`;

/**
 * A reference beside the ceiling: a bare `Deno.serve` that also does what any JSON-RPC server must,
 * reading three headers and the JSON body before answering. The ceiling does neither, and each costs
 * the runtime work (headers and the body come from Rust through ops); the gap between the two rows is
 * the share of the ceiling no server of this kind can have.
 */
const READING_SRC =
  `Deno.serve({ port: Number(Deno.args[0]), hostname: "127.0.0.1", onListen() {} }, async (req) => {
  req.headers.get("authorization"); req.headers.get("content-type"); req.headers.get("accept");
  const { id } = JSON.parse(await req.text());
  return new Response(JSON.stringify({ jsonrpc: "2.0", id, result: {} }), {
    headers: { "content-type": "application/json" },
  });
});`;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

async function waitFor(url: string, init?: RequestInit): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const res = await fetch(url, init);
      await res.body?.cancel();
      if (res.status !== 503) return; // 503: listening, still starting
      await new Promise((r) => setTimeout(r, 100));
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`Cannot reach ${url}: the server did not start`);
}

function spawn(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
}

/** Starts both servers and builds the scenarios. */
async function setUp(): Promise<{ scenarios: Scenario[]; stop: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "mcp-load-" });
  const ceilingPort = freePort();
  const ceilingFile = `${dir}/ceiling.ts`;
  await Deno.writeTextFile(ceilingFile, CEILING_SRC);
  const ceiling = spawn(["run", "--allow-net", ceilingFile, String(ceilingPort)]);
  const readingPort = freePort();
  const readingFile = `${dir}/reading.ts`;
  await Deno.writeTextFile(readingFile, READING_SRC);
  const reading = spawn(["run", "--allow-net", readingFile, String(readingPort)]);
  const appPort = freePort();
  const base = `http://127.0.0.1:${appPort}`;
  const v8 = args["v8-flags"] ? [`--v8-flags=${args["v8-flags"]}`] : [];
  const app = spawn(["run", "-A", ...v8, MAIN], {
    PORT: String(appPort),
    HOSTNAME: "127.0.0.1",
    PUBLIC_URL: base,
    KV_PATH: `${dir}/kv.sqlite3`,
    MCP_FAST_PATH: String(args["fast-path"]),
  });
  await waitFor(`http://127.0.0.1:${ceilingPort}/`);
  await waitFor(`http://127.0.0.1:${readingPort}/`, { method: "POST", body: CEILING_BODY });
  await waitFor(`${base}/health`);

  const session = await signIn(base, "alice@example.com");
  const mcp = `${base}/mcp`;
  const json = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
  const bearer = { ...json, authorization: `Bearer ${session.accessToken}` };
  const meta = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": { name: "load", version: "1" },
    "io.modelcontextprotocol/clientCapabilities": {},
  };
  const modern = (method: string, params: Record<string, unknown>, name?: string) => ({
    url: mcp,
    headers: {
      ...bearer,
      "mcp-protocol-version": "2026-07-28",
      "mcp-method": method,
      ...(name ? { "mcp-name": name } : {}),
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: { ...params, _meta: meta } }),
  });

  const sessionId = await openSession(base, session.accessToken);
  const legacyHeaders = {
    ...bearer,
    "mcp-session-id": sessionId,
    "mcp-protocol-version": "2025-11-25",
  };
  const legacy = (method: string, params?: Record<string, unknown>) => ({
    url: mcp,
    headers: legacyHeaders,
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, ...(params ? { params } : {}) }),
  });

  const add = { name: "add", arguments: { a: 1, b: 2 } };
  const scenarios: Scenario[] = [
    {
      name: "bare Deno.serve (ceiling)",
      url: `http://127.0.0.1:${ceilingPort}/`,
      headers: json,
      body: CEILING_BODY,
      status: 200,
      expect: '"result"',
    },
    {
      name: "Deno.serve reading headers and JSON body (reference)",
      url: `http://127.0.0.1:${readingPort}/`,
      headers: json,
      body: CEILING_BODY,
      status: 200,
      expect: '"result"',
    },
    {
      name: "/mcp 401 without a token",
      ...legacy("ping"),
      headers: json,
      status: 401,
      expect: "unauthorized",
    },
    {
      name: "2026-07-28 server/discover",
      ...modern("server/discover", {}),
      status: 200,
      expect: "workos-authkit-mcp",
    },
    {
      name: "2026-07-28 tools/call add",
      ...modern("tools/call", add, "add"),
      status: 200,
      expect: '"text":"3"',
    },
    { name: "2025 session ping", ...legacy("ping"), status: 200, expect: '"result":{}' },
    {
      name: "2025 session tools/call add",
      ...legacy("tools/call", add),
      status: 200,
      expect: '"text":"3"',
    },
  ];
  for (const s of scenarios) {
    const res = await fetch(s.url, { method: "POST", headers: s.headers, body: s.body });
    const text = await res.text();
    if (res.status !== s.status || !text.includes(s.expect)) {
      throw new Error(`${s.name}: unexpected answer ${res.status} ${text.slice(0, 300)}`);
    }
  }
  return {
    scenarios,
    async stop() {
      for (const child of [ceiling, reading, app]) {
        child.kill("SIGTERM");
        await child.status;
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

async function hasWrk(): Promise<boolean> {
  try {
    const out = await new Deno.Command("wrk", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return out.code === 0 || out.code === 1;
  } catch {
    return false;
  }
}

function lua(s: Scenario): string {
  const q = (v: string) => JSON.stringify(v); // a JSON string is a valid Lua string here (ASCII)
  return [
    `wrk.method = "POST"`,
    `wrk.body = ${q(s.body)}`,
    ...Object.entries(s.headers).map(([k, v]) => `wrk.headers[${q(k)}] = ${q(v)}`),
  ].join("\n");
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === "us" ? n / 1000 : unit === "ms" ? n : unit === "s" ? n * 1000 : NaN;
}

/** Runs wrk against `s` for SECONDS (after a 1 s warm-up). */
async function runWrk(s: Scenario, dir: string): Promise<Figures> {
  const script = `${dir}/${crypto.randomUUID()}.lua`;
  await Deno.writeTextFile(script, lua(s));
  const wrk = (seconds: number) =>
    new Deno.Command("wrk", {
      args: ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency", "-s", script, s.url],
      stdout: "piped",
      stderr: "piped",
    }).output();
  await wrk(1);
  const out = new TextDecoder().decode((await wrk(SECONDS)).stdout);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p50 = /50%\s+([\d.]+)(us|ms|s)/.exec(out);
  const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: (.*)/.exec(out)?.[1];
  const errors = (s.status === 200 ? non2xx : total - non2xx) + (socket ? 1 : 0);
  return { name: s.name, rps, p50Ms: p50 ? toMs(p50[1]!, p50[2]!) : NaN, errors };
}

/** Sends COUNT requests over CONNECTIONS concurrent keep-alive workers (after a short warm-up). */
async function runDeno(s: Scenario): Promise<Figures> {
  const once = async (): Promise<boolean> => {
    const res = await fetch(s.url, { method: "POST", headers: s.headers, body: s.body });
    await res.arrayBuffer();
    return res.status === s.status;
  };
  const drive = async (count: number, latencies?: number[]) => {
    let next = 0;
    let errors = 0;
    const worker = async () => {
      while (next++ < count) {
        const t = performance.now();
        if (!(await once())) errors++;
        latencies?.push(performance.now() - t);
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, worker));
    return errors;
  };
  await drive(Math.min(2000, COUNT));
  const latencies: number[] = [];
  const started = performance.now();
  const errors = await drive(COUNT, latencies);
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name: s.name,
    rps: COUNT / seconds,
    p50Ms: latencies[Math.floor(latencies.length / 2)] ?? NaN,
    errors,
  };
}

const useWrk = args.client ? args.client === "wrk" : await hasWrk();
const generator = useWrk
  ? `wrk -t1 -c${CONNECTIONS} -d${SECONDS}s`
  : `deno fetch, ${CONNECTIONS} workers, ${COUNT} requests`;
console.log(
  `load generator: ${generator} (shares the machine's ${navigator.hardwareConcurrency} CPUs)`,
);
/** A measured path with the ceiling its share is taken against. */
interface Row extends Figures {
  ceiling: number;
}

for (let run = 1; run <= RUNS; run++) {
  const { scenarios, stop } = await setUp();
  const dir = await Deno.makeTempDir({ prefix: "mcp-load-wrk-" });
  const measure = (s: Scenario) => useWrk ? runWrk(s, dir) : runDeno(s);
  const rows: Row[] = [];
  try {
    const [bare, ...paths] = scenarios;
    const first = await measure(bare!);
    rows.push({ ...first, ceiling: first.rps });
    for (const s of paths) {
      if (args.only && !s.name.includes(args.only)) continue;
      // Paired: the ceiling is measured again right before each path, so a machine that speeds up or
      // slows down during the run (shared CPUs) moves both figures of a pair together.
      const ceiling = PAIRED ? (await measure(bare!)).rps : first.rps;
      rows.push({ ...await measure(s), ceiling });
    }
  } finally {
    await stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  console.log(`\nrun ${run}/${RUNS}`);
  console.log("| path | req/s | p50 ms | ceiling req/s | share of ceiling | errors |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${Math.round(r.rps)} | ${r.p50Ms.toFixed(2)} | ${Math.round(r.ceiling)} | ${
        (r.rps / r.ceiling).toFixed(3)
      } | ${r.errors} |`,
    );
  }
}

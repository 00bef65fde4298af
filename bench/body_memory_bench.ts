/**
 * Memory under oversized bodies: 8 clients at once each POST a 20 MB body to `/register`, against a
 * real `main.ts` process of this tree (body limits on) and of the tree before them (`BEFORE_REF`,
 * default the commit before the limits; exported with `git archive`). The figure is the process's RSS
 * peak (`VmHWM` in /proc) minus its RSS before the burst; the time of the burst is what `deno bench`
 * reports. Linux only (reads /proc).
 *
 * Run: `deno bench -A bench/body_memory_bench.ts` (the RSS figures are printed at the end).
 *
 * @module
 */

const BEFORE_REF = Deno.env.get("BEFORE_REF") ?? "9e5cc7c";
const CLIENTS = 8;
const BODY_BYTES = 20_000_000;
const dir = await Deno.makeTempDir({ prefix: "body-memory-bench-" });
const figures: Record<string, { baselineMb: number; peakMb: number; growthMb: number }[]> = {};

/** Exports `ref` of this repository into a directory, so the old server runs beside the new one. */
async function exportTree(ref: string): Promise<string> {
  const root = new TextDecoder().decode(
    (await new Deno.Command("git", { args: ["rev-parse", "--show-toplevel"] }).output()).stdout,
  ).trim();
  const target = `${dir}/tree-${ref}`;
  await Deno.mkdir(target);
  const archive = new Deno.Command("git", {
    args: ["-C", root, "archive", "--format=tar", ref],
    stdout: "piped",
  }).spawn();
  const untar = new Deno.Command("tar", { args: ["-x", "-C", target], stdin: "piped" }).spawn();
  await archive.stdout.pipeTo(untar.stdin);
  if (!(await archive.status).success || !(await untar.status).success) {
    throw new Error(`Cannot export ${ref}`);
  }
  return target;
}

interface Server {
  origin: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `main.ts` of `tree` on a free port; resolves once it listens. */
async function start(tree: string, name: string): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: tree,
    env: { PORT: "0", HOSTNAME: "127.0.0.1", KV_PATH: `${dir}/${name}.sqlite3`, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${name} exited before listening`);
    buffer += value;
    const line = buffer.split("\n").find((l) => l.includes("MCP server listening"));
    if (line) {
      reader.releaseLock();
      child.stdout.cancel().catch(() => {});
      return {
        origin: `http://${JSON.parse(line).listen}`,
        pid: child.pid,
        async stop() {
          child.kill("SIGKILL");
          await child.status;
        },
      };
    }
  }
}

/** `VmRSS` or `VmHWM` (peak) of `pid`, in MB. */
async function rss(pid: number, field: "VmRSS" | "VmHWM"): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]);
  return Math.round(kb / 1024);
}

/** One 20 MB registration body, sent with its length declared. */
function bigBody(): Uint8Array<ArrayBuffer> {
  const text = `{"redirect_uris":["http://127.0.0.1:9/cb"],"client_name":"${
    "x".repeat(BODY_BYTES)
  }"}`;
  return new TextEncoder().encode(text);
}

async function burst(server: Server): Promise<void> {
  const body = bigBody();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      try {
        const res = await fetch(`${server.origin}/register`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        await res.body?.cancel();
      } catch {
        // A server refusing early may reset the upload; that is the point.
      }
    }),
  );
}

async function measure(b: Deno.BenchContext, tree: string, label: string): Promise<void> {
  const server = await start(tree, `${label}-${crypto.randomUUID()}`);
  try {
    await new Promise((r) => setTimeout(r, 300)); // let start-up allocations settle
    const baselineMb = await rss(server.pid, "VmRSS");
    b.start();
    await burst(server);
    b.end();
    const peakMb = await rss(server.pid, "VmHWM");
    (figures[label] ??= []).push({ baselineMb, peakMb, growthMb: peakMb - baselineMb });
  } finally {
    await server.stop();
  }
}

const before = await exportTree(BEFORE_REF);
const after = new URL("..", import.meta.url).pathname;

Deno.bench(
  {
    name: `8 × 20 MB POST /register, before the limits (${BEFORE_REF})`,
    group: "body-memory",
    baseline: true,
    n: 3,
    warmup: 0,
  },
  async (b) => await measure(b, before, "before"),
);
Deno.bench(
  { name: "8 × 20 MB POST /register, with body limits", group: "body-memory", n: 3, warmup: 0 },
  async (b) => await measure(b, after, "after"),
);

globalThis.addEventListener("unload", () => {
  // deno-lint-ignore no-console
  console.log(JSON.stringify({ rssMb: figures }, null, 2));
  Deno.removeSync(dir, { recursive: true });
});

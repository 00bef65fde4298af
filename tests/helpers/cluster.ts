/**
 * Several instances of the real server, as separate `deno run main.ts` processes sharing one KV file,
 * behind the round-robin proxy (all on loopback): what Deno Deploy does with one app, minus the cloud.
 * The AuthKit emulator runs once, in the test process, standing in for WorkOS (one identity provider
 * for all instances), and the instances talk to it in `workos` mode over real HTTP.
 *
 * @module
 */
import { type AuthKitEmulator, createAuthKitEmulator } from "../../emulator/app.ts";

import { KvEventBus } from "../../mcp/cluster/bus.ts";
import { KvPoller } from "../../mcp/cluster/kv_poller.ts";
import { type RoundRobinProxy, startProxy } from "./proxy.ts";

/** One server process. */
export interface Instance {
  readonly index: number;
  /** Its own origin (in a cluster the proxy's is the public one). */
  readonly origin: string;
  /** The PUBLIC_URL it reported. */
  readonly publicUrl: string;
  readonly process: Deno.ChildProcess;
  /** Every JSON log line it printed so far. */
  readonly logs: Record<string, unknown>[];
  /** Resolves with the exit status. */
  readonly exited: Promise<Deno.CommandStatus>;
  alive: boolean;
}

/** A running cluster. */
export interface Cluster extends AsyncDisposable {
  /** The public URL (the proxy). */
  readonly url: string;
  readonly proxy: RoundRobinProxy;
  readonly instances: Instance[];
  /** The shared KV file. */
  readonly kvPath: string;
  /** The one WorkOS all instances talk to (for faults and counts). */
  readonly emulator: AuthKitEmulator;
  /** Kills instance `index` with `signal` (default SIGKILL: a crash) and waits for it to exit. */
  stop(index: number, signal?: Deno.Signal): Promise<Deno.CommandStatus>;
  close(): Promise<void>;
}

/** Options of {@linkcode startCluster}. */
export interface ClusterOptions {
  /** How many server processes (default 3). */
  instances?: number;
  /** Extra environment for every instance. */
  env?: Record<string, string>;
}

const CLIENT_ID = "client_cluster";
const API_KEY = "sk_test_cluster";
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Starts the emulator, the proxy and the instances; dispose with `await using`. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const dir = await Deno.makeTempDir({ prefix: "mcp-cluster-" });
  const kvPath = `${dir}/kv.sqlite3`;
  const emulator = await createAuthKitEmulator({ clientId: CLIENT_ID, apiKey: API_KEY });
  const emulatorServer = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (req, info) => emulator.app.fetch(req, info),
  );
  const proxy = startProxy();
  const key = Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16))
    .join("").padEnd(64, "0");
  const env: Record<string, string> = {
    WORKOS_CLIENT_ID: CLIENT_ID,
    WORKOS_API_KEY: API_KEY,
    WORKOS_API_HOSTNAME: "127.0.0.1",
    WORKOS_API_PORT: String(emulatorServer.addr.port),
    WORKOS_API_HTTPS: "false",
    COOKIE_ENCRYPTION_KEY: key,
    PUBLIC_URL: proxy.url,
    PORT: "0",
    HOSTNAME: "127.0.0.1",
    KV_PATH: kvPath,
    KV_POLL_MS: "50",
    ...options.env,
  };
  const instances = await Promise.all(
    Array.from({ length: options.instances ?? 3 }, (_, index) => spawnServer(env, index)),
  );
  proxy.setBackends(instances.map((i) => i.origin));

  const stop = async (index: number, signal: Deno.Signal = "SIGKILL") => {
    const instance = instances[index]!;
    if (instance.alive) instance.process.kill(signal);
    const status = await instance.exited;
    instance.alive = false;
    return status;
  };
  const close = async () => {
    await Promise.all(instances.map((i) => i.alive ? stop(i.index, "SIGKILL") : i.exited));
    await proxy.close();
    await emulatorServer.shutdown();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  return {
    url: proxy.url,
    proxy,
    instances,
    kvPath,
    emulator,
    stop,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** What a child needs from our environment to find Deno's cache. */
export function inherited(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["HOME", "PATH", "DENO_DIR", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * Starts `deno run -A main.ts` with exactly `env` (plus what Deno needs to find its cache); resolves
 * once it logged that it listens. Give it `PORT=0`.
 */
export async function spawnServer(env: Record<string, string>, index = 0): Promise<Instance> {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN],
    env: { ...inherited(), NO_COLOR: "1", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs: Record<string, unknown>[] = [];
  let listening: (banner: { origin: string; publicUrl: string }) => void = () => {};
  let failed: (err: Error) => void = () => {};
  const ready = new Promise<{ origin: string; publicUrl: string }>((resolve, reject) => {
    listening = resolve;
    failed = reject;
  });
  const read = async (stream: ReadableStream<Uint8Array>) => {
    let buffer = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      buffer += text;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line);
        } catch {
          entry = { text: line };
        }
        logs.push(entry);
        if (entry.msg === "MCP server listening") {
          listening({ origin: `http://${entry.listen}`, publicUrl: String(entry.url) });
        }
      }
    }
  };
  const output = Promise.all([read(process.stdout), read(process.stderr)]);
  const exited = output.then(() => process.status);
  exited.then((status) => failed(new Error(`instance ${index} exited (${status.code}) early`)));
  const timer = setTimeout(() => failed(new Error(`instance ${index} did not start`)), 30_000);
  try {
    const { origin, publicUrl } = await ready;
    return { index, origin, publicUrl, process, logs, exited, alive: true };
  } catch (err) {
    process.kill("SIGKILL");
    throw new Error(`${(err as Error).message}: ${JSON.stringify(logs.slice(-5))}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Publishes `tools_list_changed` from the test process, a further "instance" on the cluster's KV file. */
export async function publishToolsChanged(cluster: Pick<Cluster, "kvPath">): Promise<void> {
  using kv = await Deno.openKv(cluster.kvPath);
  const poller = new KvPoller(kv);
  const bus = new KvEventBus(kv, poller, "test-process");
  bus.publish({ kind: "tools_list_changed" });
  await bus.flush();
  await poller.close();
}

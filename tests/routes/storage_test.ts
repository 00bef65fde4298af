/**
 * Storage trouble seen from outside: a real `main.ts` process on a real KV file that becomes
 * unwritable, or is locked by another process, or is unwritable from the start. Needs root (`chattr`
 * makes a file immutable even for root) and Python's sqlite3 for the lock; skipped without them.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { spawnServer } from "../helpers/cluster.ts";

const ROOT = Deno.uid() === 0;

async function chattr(flag: "+i" | "-i", ...paths: string[]): Promise<void> {
  const out = await new Deno.Command("chattr", { args: [flag, ...paths] }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
}

async function register(base: string): Promise<Response> {
  return await fetch(`${base}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      redirect_uris: ["http://127.0.0.1:9/cb"],
      token_endpoint_auth_method: "none",
    }),
  });
}

async function withKvDir(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kv-storage-" });
  try {
    await fn(`${dir}/kv.sqlite3`);
  } finally {
    for await (const e of Deno.readDir(dir)) await chattr("-i", `${dir}/${e.name}`).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "main.ts answers 503 with Retry-After while the KV file's WAL is unwritable, and recovers",
  ignore: !ROOT,
  async fn() {
    await withKvDir(async (path) => {
      const server = await spawnServer({ PORT: "0", HOSTNAME: "127.0.0.1", KV_PATH: path });
      try {
        const base = server.publicUrl;
        assertEquals((await register(base)).status, 201);
        await chattr("+i", `${path}-wal`);

        const refused = await register(base);
        assertEquals(refused.status, 503);
        assertEquals(refused.headers.get("retry-after"), "5");
        assertEquals((await refused.json()).error, "temporarily_unavailable");
        const health = await fetch(`${base}/healthz`);
        assertEquals(health.status, 503);
        const body = await health.json();
        assertEquals([body.status, body.kv.read, body.kv.write], ["kv_unavailable", true, false]);
        // The browser sees a page, the MCP client a JSON-RPC error; neither a 500.
        const page = await fetch(`${base}/account`, { headers: { accept: "text/html" } });
        assertEquals(page.status, 503);
        assertStringIncludes(await page.text(), "storage");

        await chattr("-i", `${path}-wal`);
        assertEquals((await register(base)).status, 201);
        assertEquals((await fetch(`${base}/healthz`).then((r) => r.json())).status, "ok");
        assert(!server.logs.some((l) => l.msg === "unhandled error"), "no 500 was logged");
      } finally {
        server.process.kill("SIGTERM");
        await server.exited;
      }
    });
  },
});

Deno.test({
  name: "main.ts refuses to start on an unwritable KV file, naming KV_PATH (exit 1)",
  ignore: !ROOT,
  async fn() {
    await withKvDir(async (path) => {
      const kv = await Deno.openKv(path);
      await kv.set(["x"], 1);
      kv.close();
      await chattr("+i", path);
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname],
        env: { PORT: "0", HOSTNAME: "127.0.0.1", KV_PATH: path, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(out.code, 1);
      const stderr = new TextDecoder().decode(out.stderr);
      assertStringIncludes(stderr, "KV_PATH");
      assertStringIncludes(stderr, "cannot be written");
      assertEquals(new TextDecoder().decode(out.stdout).includes("MCP server listening"), false);
    });
  },
});

Deno.test({
  name: "main.ts answers 503 instead of hanging while another process holds the KV file locked",
  ignore: !ROOT,
  async fn() {
    await withKvDir(async (path) => {
      const server = await spawnServer({ PORT: "0", HOSTNAME: "127.0.0.1", KV_PATH: path });
      const locker = new Deno.Command("python3", {
        args: [
          "-c",
          `import sqlite3,sys
c=sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('BEGIN EXCLUSIVE')
print('locked', flush=True)
sys.stdin.read()
c.execute('COMMIT')`,
          path,
        ],
        stdin: "piped",
        stdout: "piped",
      }).spawn();
      try {
        const reader = locker.stdout.pipeThrough(new TextDecoderStream()).getReader();
        assertStringIncludes((await reader.read()).value ?? "", "locked");
        reader.releaseLock();
        const refused = await register(server.publicUrl);
        assertEquals(refused.status, 503);
        assertEquals(refused.headers.get("retry-after"), "5");
        assertEquals((await fetch(`${server.publicUrl}/healthz`)).status, 503);
        await locker.stdin.close();
        assertEquals((await locker.status).success, true);
        await locker.stdout.cancel().catch(() => {});
        assertEquals((await register(server.publicUrl)).status, 201);
      } finally {
        try {
          locker.kill();
        } catch { /* already ended */ }
        server.process.kill("SIGTERM");
        await server.exited;
      }
    });
  },
});

Deno.test("a process killed outright (as by a KV panic) restarts on the same file with nothing lost", async () => {
  await withKvDir(async (path) => {
    const env = { PORT: "0", HOSTNAME: "127.0.0.1", KV_PATH: path };
    const first = await spawnServer(env);
    const res = await register(first.publicUrl);
    assertEquals(res.status, 201);
    const { client_id } = await res.json();
    first.process.kill("SIGKILL"); // no shutdown path runs, as when the runtime aborts
    await first.exited;

    const second = await spawnServer(env, 1);
    try {
      assertEquals((await fetch(`${second.publicUrl}/healthz`).then((r) => r.json())).status, "ok");
      const url = new URL(`${second.publicUrl}/authorize`);
      url.search = new URLSearchParams({
        response_type: "code",
        client_id,
        redirect_uri: "http://127.0.0.1:9/cb",
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method: "S256",
      }).toString();
      const consent = await fetch(url);
      assertEquals(consent.status, 200, "the registration survived the kill");
      await consent.body?.cancel();
    } finally {
      second.process.kill("SIGTERM");
      await second.exited;
    }
  });
});

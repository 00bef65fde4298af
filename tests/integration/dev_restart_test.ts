/**
 * `deno task dev` restarts on every save. With no COOKIE_ENCRYPTION_KEY set, emulator mode keeps its key
 * (and the emulator its sessions) beside the KV file, so a connected client stays signed in through
 * restarts: its tools keep working and its refresh token keeps refreshing, with no new sign-in.
 */
import { assert, assertEquals } from "@std/assert";
import { DEV_KEY_FILE } from "../../app/dev_key.ts";
import { postForm, sdkSignIn } from "../helpers/oauth.ts";
import { Client, StreamableHTTPClientTransport } from "../helpers/sdk_v1.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The dev task's command, watching `watched` instead of the source folders, from `cwd`. */
async function devCommand(watched: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  // The task may check the configuration first (`… --preflight && …`): take the watching command.
  const watching = String(config.tasks.dev).split("&&").find((part) => part.includes("--watch"));
  assert(watching, "the dev task watches files");
  const words = watching.trim().split(/\s+/);
  assertEquals(words.slice(0, 2), ["deno", "run"], "the dev task is a deno run");
  return [
    "run",
    `--config=${ROOT}deno.json`,
    ...words.slice(2).map((w) =>
      w.startsWith("--watch") ? `--watch=${watched}/` : w === "main.ts" ? `${ROOT}main.ts` : w
    ),
  ];
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("deno task dev restarted twice keeps a connected v1 SDK client signed in", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mcp-dev-" });
  const watched = `${dir}/watched`;
  await Deno.mkdir(watched);
  const port = freePort();
  const env: Record<string, string> = { PORT: String(port), NO_COLOR: "1" };
  for (const name of ["HOME", "PATH", "DENO_DIR", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: await devCommand(watched),
    cwd: dir,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let starts = 0;
  const lines: string[] = [];
  const read = async (stream: ReadableStream<Uint8Array>) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      for (const line of text.split("\n")) {
        lines.push(line);
        if (line.includes('"MCP server listening"')) starts++;
      }
    }
  };
  const output = Promise.all([read(child.stdout), read(child.stderr)]);
  const until = async (n: number) => {
    for (let i = 0; i < 600 && starts < n; i++) await new Promise((r) => setTimeout(r, 50));
    assert(starts >= n, `start ${n} not seen: ${lines.slice(-5).join("\n")}`);
  };
  const url = `http://localhost:${port}`;
  try {
    await until(1);
    const provider = await sdkSignIn(`${url}/mcp`, "alice@example.com");
    provider.authorizationUrl = undefined;
    const client = new Client({ name: "dev-restart", version: "1" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { authProvider: provider }),
    );
    const add = async () =>
      (await client.callTool({ name: "add", arguments: { a: 2, b: 3 } })).content;
    assertEquals(await add(), [{ type: "text", text: "5" }]);

    for (const restart of [1, 2]) {
      await Deno.writeTextFile(`${watched}/save-${restart}.txt`, "saved");
      await until(restart + 1);
      assertEquals(
        await add(),
        [{ type: "text", text: "5" }],
        `tools work after restart ${restart}`,
      );
      // A refresh needs the sealed WorkOS session: the key and the emulator's sessions survived.
      const refreshed = await postForm(url, "/token", {
        grant_type: "refresh_token",
        refresh_token: provider.saved!.refresh_token!,
        client_id: provider.client!.client_id,
      });
      assertEquals(refreshed.status, 200, JSON.stringify(refreshed.body));
      provider.saveTokens(refreshed.body as never);
      assertEquals(await add(), [{ type: "text", text: "5" }]);
    }
    assertEquals(provider.authorizationUrl, undefined, "no new sign-in");
    await client.close();
    const key = await Deno.readTextFile(`${dir}/.data/${DEV_KEY_FILE}`);
    assertEquals(key.trim().length, 64, "the kept key is in the data folder");
    assert(lines.some((l) => l.includes(DEV_KEY_FILE)), "the startup line says where it lives");
  } finally {
    child.kill("SIGKILL");
    await output;
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});

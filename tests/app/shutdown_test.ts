/**
 * A clean stop loses nothing: a tool call still running when the server is told to stop finishes, and
 * what it queued (its audit event, its kept answer) is written before KV is closed.
 */
import { assert, assertEquals } from "@std/assert";
import { setQuiet } from "../../lib/log.ts";
import { startServer } from "../../app/serve.ts";
import { signIn } from "../helpers/oauth.ts";
import { openSession, postMcp } from "../helpers/mcp_clients.ts";
import { createLocalImageGenerator } from "../../mcp/tools/generate_image/local.ts";
import { envelope, startFakeWorkersAi } from "../mcp/tools/generate_image/_fake_workers_ai.ts";

setQuiet(true);

Deno.test("a tool call running at shutdown is answered, and its audit event and kept answer are written", async () => {
  using kv = await Deno.openKv(":memory:");
  const png = await createLocalImageGenerator().generate({ prompt: "fixture", steps: 4 });
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  let started = () => {};
  const reached = new Promise<void>((resolve) => (started = resolve));
  // The image backend holds its answer until the stop has begun.
  const backend = startFakeWorkersAi(async () => {
    started();
    await held;
    return envelope(png.bytes.toBase64());
  });
  const server = await startServer({
    env: {
      PORT: "0",
      HOSTNAME: "127.0.0.1",
      CLOUDFLARE_ACCOUNT_ID: "acct_test",
      CLOUDFLARE_API_TOKEN: "cf_test_token",
      CLOUDFLARE_API_BASE_URL: backend.baseUrl,
    },
    kv,
  });
  try {
    const { accessToken } = await signIn(server.url, "alice@example.com");
    const sessionId = await openSession(server.url, accessToken);
    const calls = async () =>
      (await server.service.audit.listForUser("user_alice", { limit: 500 }))
        .filter((e) => e.action === "mcp.tool_called" && e.tool === "generateImage").length;
    const call = postMcp(server.url, accessToken, {
      jsonrpc: "2.0",
      id: 7,
      method: "tools/call",
      params: { name: "generateImage", arguments: { prompt: "a lighthouse" } },
    }, { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" });
    await reached;
    const closing = server.close();
    // Only then does the tool's backend answer: after the first flush of the shutdown.
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    const reply = await call;
    assertEquals(reply.status, 200);
    assertEquals(reply.message?.id, 7);
    await closing;
    assertEquals(await calls(), 1, "the call's audit event was written");
    const answers = await Array.fromAsync(kv.list({ prefix: ["mcp", "answer_batch"] }));
    const posts = await Array.fromAsync(kv.list({ prefix: ["mcp", "post_stream"] }));
    assert(answers.length + posts.length > 0, "the call's answer was kept for resumption");
  } finally {
    release();
    await server.close().catch(() => {});
    await backend.close();
  }
});

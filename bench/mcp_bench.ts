/**
 * Hot-path benchmarks, each against a baseline measured in the same run (`deno task bench`):
 * - the bearer check's token lookup vs a bare KV read;
 * - a full in-process 2026-07-28 `tools/call add` (origin, bearer, fast path) vs `server/discover`;
 * - over real loopback HTTP, one request at a time: a bare `Deno.serve` answering a fixed JSON-RPC body
 *   (the ceiling) vs an authenticated `tools/call add`, 2026-07-28 stateless and in a 2025-11-25
 *   session (request log and audit trail on). `bench/load.ts` measures the same under 10 concurrent
 *   connections.
 *
 * @module
 */
import { deriveKeys } from "../auth/crypto.ts";
import { GrantStore } from "../auth/grants.ts";
import { TokenStore } from "../auth/tokens.ts";
import { keys } from "../lib/kv_keys.ts";
import { setQuiet } from "../lib/log.ts";
import { startServer } from "../app/serve.ts";
import { signIn } from "../tests/helpers/oauth.ts";
import { openSession } from "../tests/helpers/mcp_clients.ts";

setQuiet(true);
const kv = await Deno.openKv(":memory:");
const server = await startServer({ env: { PORT: "0", HOSTNAME: "127.0.0.1" }, kv });
const session = await signIn(server.url, "alice@example.com");
const { sealer } = await deriveKeys(server.config.cookieEncryptionKey);
const store = new TokenStore(server.kv, new GrantStore(server.kv, sealer), { sealer });
const grantKey = keys.grant(session.accessToken.split(".")[0]!);

const meta = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientInfo": { name: "bench", version: "1" },
  "io.modelcontextprotocol/clientCapabilities": {},
};
function mcpRequest(method: string, params: Record<string, unknown>, name?: string): Request {
  return new Request(`${server.url}/mcp`, {
    method: "POST",
    headers: {
      host: new URL(server.url).host,
      authorization: `Bearer ${session.accessToken}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2026-07-28",
      "mcp-method": method,
      ...(name ? { "mcp-name": name } : {}),
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: { ...params, _meta: meta } }),
  });
}

Deno.bench(
  { name: "kv.get(grant) (baseline)", group: "token lookup", baseline: true },
  async () => {
    await server.kv.get(grantKey);
  },
);
Deno.bench({ name: "TokenStore.verifyAccessToken()", group: "token lookup" }, async () => {
  if (!(await store.verifyAccessToken(session.accessToken))) throw new Error("token refused");
});

Deno.bench(
  { name: "server/discover (baseline)", group: "mcp request", baseline: true },
  async () => {
    const res = await server.app.fetch(mcpRequest("server/discover", {}));
    if (res.status !== 200) throw new Error(`discover ${res.status}`);
    await res.body?.cancel();
  },
);
Deno.bench({ name: "tools/call add", group: "mcp request" }, async () => {
  const res = await server.app.fetch(
    mcpRequest("tools/call", { name: "add", arguments: { a: 1, b: 2 } }, "add"),
  );
  if (res.status !== 200) throw new Error(`tools/call ${res.status}`);
  await res.text();
});
Deno.bench({ name: "tools/list", group: "mcp request" }, async () => {
  const res = await server.app.fetch(mcpRequest("tools/list", {}));
  if (res.status !== 200) throw new Error(`tools/list ${res.status}`);
  await res.text();
});

const CEILING_BODY = '{"jsonrpc":"2.0","id":1,"result":{}}';
const ceiling = Deno.serve(
  { port: 0, hostname: "127.0.0.1", onListen() {} },
  () => new Response(CEILING_BODY, { headers: { "content-type": "application/json" } }),
);
const ceilingUrl = `http://127.0.0.1:${ceiling.addr.port}/`;
const sessionId = await openSession(server.url, session.accessToken);
const CALL = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: { name: "add", arguments: { a: 1, b: 2 } },
});

async function expect(res: Response, status: number, text: string): Promise<void> {
  const body = await res.text();
  if (res.status !== status || !body.includes(text)) throw new Error(`${res.status} ${body}`);
}

Deno.bench(
  { name: "bare Deno.serve (ceiling)", group: "share of the ceiling", baseline: true },
  async () => {
    await expect(
      await fetch(ceilingUrl, { method: "POST", body: CEILING_BODY }),
      200,
      '"result"',
    );
  },
);
Deno.bench(
  { name: "2026-07-28 tools/call add over HTTP", group: "share of the ceiling" },
  async () => {
    const req = mcpRequest("tools/call", { name: "add", arguments: { a: 1, b: 2 } }, "add");
    await expect(await fetch(req), 200, '"text":"3"');
  },
);
Deno.bench(
  { name: "2025-11-25 session tools/call add over HTTP", group: "share of the ceiling" },
  async () => {
    const res = await fetch(`${server.url}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${session.accessToken}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2025-11-25",
        "mcp-session-id": sessionId,
      },
      body: CALL,
    });
    await expect(res, 200, '"text":"3"');
  },
);

globalThis.addEventListener("unload", () => {
  void ceiling.shutdown();
  void server.close();
});

/**
 * The fast path answers exactly as the SDK does. Two instances on one KV: `a` with the fast path (the
 * default), `b` with MCP_FAST_PATH=off (every request through the SDK). A corpus of requests (valid,
 * invalid arguments, unknown tool, refused tool, every era, both users) goes to both; the HTTP status
 * and the JSON-RPC messages must be identical.
 */
import { assertEquals } from "@std/assert";
import { readMessages } from "../../mcp/dispatch.ts";
import { FastPath } from "../../mcp/fast_path.ts";
import { openSession } from "../helpers/mcp_clients.ts";
import { signIn } from "../helpers/oauth.ts";
import { startTwins, type Twins } from "../helpers/twins.ts";

const META = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientInfo": { name: "differential", version: "1.0.0" },
  "io.modelcontextprotocol/clientCapabilities": { roots: { listChanged: true } },
};

type Body = {
  jsonrpc: "2.0";
  id?: string | number;
  method: string;
  params?: Record<string, unknown>;
};

const call = (id: string | number, name: string, args?: unknown): Body => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, ...(args === undefined ? {} : { arguments: args }) },
});

/** Requests the fast path takes (in both eras, except `ping` in 2026-07-28, which has none). */
const CORPUS: Body[] = [
  { jsonrpc: "2.0", id: 1, method: "ping" },
  { jsonrpc: "2.0", id: "list", method: "tools/list" },
  { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} },
  call(3, "add", { a: 1, b: 2 }),
  call("four", "add", { a: -1.5, b: 1e300 }),
  call(5, "add", { a: 1, b: 2, c: "extra keys are dropped" }),
  call(6, "add", { a: "1", b: 2 }),
  call(7, "add", {}),
  call(8, "add"),
  call(9, "add", { a: null, b: [] }),
  call(10, "nope", {}),
  call(11, "whoami", {}),
  call(12, "whoami", { unexpected: true }),
  call(13, "generateImage", { prompt: "a red fox", steps: 2 }),
  call(14, "generateImage", { prompt: "" }),
  call(15, "generateImage", {}),
  call(16, "generateImage", { prompt: "x", steps: 99 }),
];

/** Requests the fast path leaves to the SDK (sent anyway: the answers must still agree). */
const SDK_ONLY: Body[] = [
  call(20, "add", [1, 2]),
  call(21, "add", "a=1"),
  { jsonrpc: "2.0", id: 22, method: "tools/call", params: { name: 42 } },
  { jsonrpc: "2.0", id: 23, method: "tools/list", params: { cursor: "x" } },
  { jsonrpc: "2.0", id: 1.5, method: "ping" },
  { jsonrpc: "2.0", id: 24, method: "resources/list" },
];

interface Era {
  name: "2025-11-25" | "2026-07-28";
  headers(body: Body): Record<string, string>;
  body(body: Body): Body;
}

function eras(token: string, sessionId: string): Era[] {
  const base = {
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
  return [
    {
      name: "2025-11-25",
      headers: () => ({
        ...base,
        "mcp-session-id": sessionId,
        "mcp-protocol-version": "2025-11-25",
      }),
      body: (b) => b,
    },
    {
      name: "2026-07-28",
      headers: (b) => ({
        ...base,
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": b.method,
        ...(typeof b.params?.name === "string" ? { "mcp-name": b.params.name } : {}),
      }),
      body: (b) => ({ ...b, params: { ...b.params, _meta: META } }),
    },
  ];
}

async function both(twins: Twins, era: Era, body: Body) {
  const init = () => ({
    method: "POST",
    headers: era.headers(body),
    body: JSON.stringify(era.body(body)),
  });
  const fast = await fetch(`${twins.url}/mcp`, init());
  const sdk = await twins.fetchB(new Request(`${twins.url}/mcp`, init()));
  return {
    fast: {
      status: fast.status,
      type: fast.headers.get("content-type"),
      messages: await readMessages(fast),
    },
    sdk: {
      status: sdk.status,
      type: sdk.headers.get("content-type"),
      messages: await readMessages(sdk),
    },
  };
}

for (const email of ["alice@example.com", "bob@example.com"]) {
  Deno.test(`fast path and SDK give identical answers to ${email} in every era`, async () => {
    await using twins = await startTwins({}, { MCP_FAST_PATH: "off" });
    const { accessToken } = await signIn(twins.url, email);
    const sessionId = await openSession(twins.url, accessToken);
    for (const era of eras(accessToken, sessionId)) {
      // The first 2026-07-28 request with an envelope goes through the SDK, which validates it.
      await both(twins, era, { jsonrpc: "2.0", id: 0, method: "tools/list" });
      for (const body of [...CORPUS, ...SDK_ONLY]) {
        const label = `${era.name} ${JSON.stringify(body)}`;
        const headers = new Headers(era.headers(body));
        const taken = twins.a.service.mcp.takesFastPath(headers, era.body(body));
        const expectFast = CORPUS.includes(body) &&
          !(era.name === "2026-07-28" && body.method === "ping");
        assertEquals(taken, expectFast, `fast path takes ${label}`);
        assertEquals(
          twins.b.service.mcp.takesFastPath(headers, era.body(body)),
          false,
          `MCP_FAST_PATH=off takes nothing: ${label}`,
        );
        const { fast, sdk } = await both(twins, era, body);
        assertEquals(fast.status, sdk.status, `status of ${label}`);
        assertEquals(fast.messages, sdk.messages, label);
        const bare = (type: string | null) => type?.split(";")[0];
        // In a session that resumes, a tool's result comes as a resumable stream, as from the SDK;
        // everything else the fast path answers as JSON.
        const resumable = era.name === "2025-11-25" && body.method === "tools/call";
        if (expectFast && resumable) {
          assertEquals(bare(fast.type), bare(sdk.type), `content type of ${label}`);
        }
        if (expectFast && !resumable) {
          assertEquals(fast.type, "application/json", `content type of ${label}`);
        }
      }
    }
  });
}

Deno.test("fast path leaves a 2026-07-28 request to the SDK until the SDK accepted its envelope", () => {
  const fast = new FastPath({ image: { name: "none", generate: () => Promise.reject() } });
  const body = {
    jsonrpc: "2.0",
    id: 1,
    method: "tools/list",
    params: { _meta: META },
  };
  const headers = new Headers({
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "tools/list",
  });
  assertEquals(fast.accept(headers, body), null);
  fast.learn(body, 400);
  assertEquals(fast.accept(headers, body), null, "a refused envelope is not learned");
  fast.learn(body, 200);
  assertEquals(fast.accept(headers, body)?.era, "modern");
  const other = { ...body, params: { _meta: { ...META, extra: 1 } } };
  assertEquals(fast.accept(headers, other), null, "another envelope is not taken");
  headers.set("mcp-method", "tools/call");
  assertEquals(fast.accept(headers, body), null, "a method header that differs goes to the SDK");
});

Deno.test("fast path leaves a 2025 request with _meta, a notification or a narrow Accept to the SDK", () => {
  const fast = new FastPath({ image: { name: "none", generate: () => Promise.reject() } });
  const headers = new Headers({ accept: "application/json, text/event-stream" });
  const ping = { jsonrpc: "2.0", id: 1, method: "ping" };
  assertEquals(fast.accept(headers, ping)?.era, "legacy");
  assertEquals(fast.accept(headers, { ...ping, params: { _meta: { progressToken: 1 } } }), null);
  assertEquals(fast.accept(headers, { jsonrpc: "2.0", method: "ping" }), null);
  assertEquals(fast.accept(headers, [ping]), null);
  assertEquals(fast.accept(new Headers({ accept: "application/json" }), ping), null);
  assertEquals(
    fast.accept(
      new Headers({ ...Object.fromEntries(headers), "mcp-protocol-version": "2026-07-28" }),
      ping,
    ),
    null,
  );
});

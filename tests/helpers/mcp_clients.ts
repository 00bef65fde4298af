/**
 * Helpers for MCP tests: a counting fake image backend (Workers AI over real HTTP, answering a PNG),
 * raw JSON-RPC requests to `/mcp` that read both JSON and SSE-framed replies, and small waits.
 *
 * @module
 */
import { Sealer } from "../../auth/crypto.ts";
import { GrantStore } from "../../auth/grants.ts";
import { createLocalImageGenerator } from "../../mcp/tools/generate_image/local.ts";
import {
  envelope,
  type FakeWorkersAi,
  startFakeWorkersAi,
} from "../mcp/tools/generate_image/_fake_workers_ai.ts";

/** The PNG file signature. */
export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The `initialize` params of raw 2025 requests. */
export const INITIALIZE = {
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: {
    protocolVersion: "2025-11-25",
    capabilities: {},
    clientInfo: { name: "raw-test", version: "1.0.0" },
  },
} as const;

/** A fake Workers AI answering every request with a PNG; `requests` counts the generator's calls. */
export async function startPngBackend(): Promise<FakeWorkersAi & { env: Record<string, string> }> {
  const png = await createLocalImageGenerator().generate({ prompt: "fixture", steps: 4 });
  const fake = startFakeWorkersAi(() => envelope(png.bytes.toBase64()));
  return Object.assign(fake, {
    env: {
      CLOUDFLARE_ACCOUNT_ID: "acct_test",
      CLOUDFLARE_API_TOKEN: "cf_test_token",
      CLOUDFLARE_API_BASE_URL: fake.baseUrl,
    },
  });
}

/** A reply to a raw request. */
export interface RawReply {
  status: number;
  headers: Headers;
  /** The JSON-RPC message (from a JSON body or the first SSE `message` event), or null. */
  message: Record<string, unknown> | null;
}

/** POSTs `body` to `<base>/mcp` as a 2025 client would; reads the reply whichever framing it has. */
export async function postMcp(
  base: string,
  token: string | null,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<RawReply> {
  const res = await fetch(`${base}/mcp`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, message: await readMessage(res) };
}

/** Sends a bodiless `method` request (GET, DELETE) to `<base>/mcp`; cancels any body. */
export async function requestMcp(
  base: string,
  method: string,
  token: string | null,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(`${base}/mcp`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
  const streaming = res.headers.get("content-type")?.startsWith("text/event-stream");
  if (streaming) await res.body?.cancel();
  return { status: res.status, headers: res.headers, text: streaming ? "" : await res.text() };
}

/** Opens a 2025 session with a raw `initialize` (+ `initialized`); resolves to its id. */
export async function openSession(base: string, token: string): Promise<string> {
  const init = await postMcp(base, token, INITIALIZE);
  if (init.status !== 200) {
    throw new Error(`initialize answered ${init.status}: ${JSON.stringify(init.message)}`);
  }
  const id = init.headers.get("mcp-session-id");
  if (!id) throw new Error("initialize answered without Mcp-Session-Id");
  const done = await postMcp(base, token, { jsonrpc: "2.0", method: "notifications/initialized" }, {
    "mcp-session-id": id,
    "mcp-protocol-version": "2025-11-25",
  });
  if (done.status !== 202) throw new Error(`notifications/initialized answered ${done.status}`);
  return id;
}

async function readMessage(res: Response): Promise<Record<string, unknown> | null> {
  const text = await res.text();
  if (!text) return null;
  if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
    const data = text.split("\n").find((line) => line.startsWith("data: ") && line.length > 6);
    return data ? JSON.parse(data.slice(6)) : null;
  }
  try {
    return JSON.parse(text);
  } catch {
    return { text };
  }
}

/** Resolves when `check()` is truthy; rejects after `timeoutMs`. Clears its own timers. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The grant id inside one of our access tokens (`<grantId>.<secret>`). */
export function grantIdOf(token: string): string {
  return token.slice(0, token.indexOf("."));
}

/** A `GrantStore` over the test server's KV, for changing or revoking grants as WorkOS would. */
export async function grantStore(kv: Deno.Kv): Promise<GrantStore> {
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
  return new GrantStore(kv, new Sealer([key]));
}

/**
 * A 2026-07-28 `server/discover` POST to `<base>/mcp` with `token`: the cheapest authenticated MCP
 * request (stateless, no session). Resolves to the status and the parsed body (null when not JSON).
 */
export async function discover(
  base: string,
  token: string | null,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> | null }> {
  const meta = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": { name: "probe", version: "1.0.0" },
    "io.modelcontextprotocol/clientCapabilities": {},
  };
  const res = await fetch(`${base}/mcp`, {
    method: "POST",
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2026-07-28",
      "mcp-method": "server/discover",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "server/discover",
      params: { _meta: meta },
    }),
  });
  const text = await res.text();
  let body: Record<string, unknown> | null = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  return { status: res.status, headers: res.headers, body };
}

/**
 * Calls tool `name` with a single stateless 2026-07-28 request; resolves to the JSON-RPC reply.
 */
export async function callTool(
  base: string,
  token: string,
  name: string,
  args: Record<string, unknown> = {},
): Promise<RawReply> {
  return await postMcp(base, token, {
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: {
      name,
      arguments: args,
      _meta: {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": { name: "probe", version: "1.0.0" },
        "io.modelcontextprotocol/clientCapabilities": {},
      },
    },
  }, { "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": name });
}

/** The `whoami` tool's answer for `token`, parsed. */
export async function whoami(base: string, token: string): Promise<Record<string, unknown>> {
  const reply = await callTool(base, token, "whoami");
  const result = reply.message?.result as { content: Array<{ text: string }> } | undefined;
  if (!result) throw new Error(`whoami failed: ${reply.status} ${JSON.stringify(reply.message)}`);
  return JSON.parse(result.content[0]!.text);
}

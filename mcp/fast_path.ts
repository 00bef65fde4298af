/**
 * The fast path: `tools/call`, `tools/list` and `ping` in a 2025 session, and `tools/call` and
 * `tools/list` in their 2026-07-28 stateless form, answered as one JSON response without building an
 * SDK server, transport and validation per request (that costs more than the call itself).
 *
 * The SDK stays the authority. The fast path takes only requests of an exact, common shape and leaves
 * everything else (another method, a notification, a batch, an unknown key, `_meta` in a 2025 request,
 * a header that is missing, differs or is encoded, an Accept without both types) to the SDK, which
 * answers it or refuses it as before. A 2026-07-28 `_meta` envelope is taken only once the SDK has
 * accepted that exact envelope (see {@linkcode FastPath.learn}), so the envelope's validation stays the
 * SDK's. The answers are the SDK's, field for field: `tests/mcp/fast_path_test.ts` sends a corpus through
 * both and compares.
 *
 * Written here rather than taken from the SDK because its per-request server is what costs: a tool call
 * through it took ~330 µs of main-thread time against ~20 µs here (issue 12's profile).
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports (a POST may be answered
 *   with `application/json`)
 * @module
 */
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import type { Identity } from "../auth/identity.ts";
import { ERROR_CODES, LEGACY_PROTOCOL_VERSIONS } from "./jsonrpc.ts";
import { runTool, SERVER_INFO } from "./server.ts";
import { inputSchemaOf, type ToolDefinition, type ToolResult, type ToolServices } from "./tool.ts";
import { toolsFor } from "./tools/mod.ts";

/** The stateless revision the fast path serves besides the 2025 sessions. */
export const MODERN_VERSION = "2026-07-28";
/** How many distinct accepted 2026-07-28 envelopes are remembered (then the memory starts over). */
const MAX_ENVELOPES = 256;

const PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion";
const SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo";

/** Which era a fast request belongs to: a 2025 session, or 2026-07-28 stateless. */
export type FastEra = "legacy" | "modern";

/** A request the fast path takes: its era, and its checked parts. */
export interface FastRequest {
  readonly era: FastEra;
  readonly id: string | number;
  readonly method: "tools/call" | "tools/list" | "ping";
  /** `tools/call` only. */
  readonly name?: string;
  readonly arguments?: Record<string, unknown>;
}

type Params = Record<string, unknown>;

const ALLOWED_PARAMS: Readonly<Record<FastRequest["method"], readonly string[]>> = {
  "tools/call": ["name", "arguments", "_meta"],
  "tools/list": ["_meta"],
  ping: ["_meta"],
};

/** A tool as `tools/list` shows it (what the SDK's `McpServer` lists). */
interface ListedTool {
  name: string;
  title?: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

const LISTED = new WeakMap<ToolDefinition, ListedTool>();

/**
 * `tool` as listed, built once: the input schema converted as the SDK converts it (Standard JSON Schema,
 * draft 2020-12, input side, `type: "object"` first).
 */
function listed(tool: ToolDefinition): ListedTool {
  let entry = LISTED.get(tool);
  if (!entry) {
    const schema = inputSchemaOf(tool)["~standard"].jsonSchema.input({ target: "draft-2020-12" });
    entry = {
      name: tool.name,
      ...(tool.title === undefined ? {} : { title: tool.title }),
      description: tool.description,
      inputSchema: { type: "object", ...schema },
    };
    LISTED.set(tool, entry);
  }
  return entry;
}

/** What the 2026-07-28 SDK adds to every result it sends. */
const MODERN_RESULT_META = Object.freeze({ [SERVER_INFO_KEY]: { ...SERVER_INFO } });

/** Serves the fast requests; one per app instance. */
export class FastPath {
  #services: ToolServices;
  #envelopes = new Set<string>();

  constructor(services: ToolServices) {
    this.#services = services;
  }

  /**
   * The request in `body` (with `headers`) when the fast path takes it, else null (the SDK answers).
   * Synchronous and allocation-light: it runs before the SDK's era classifier, which it replaces for
   * the requests it takes.
   */
  accept(headers: Headers, body: unknown): FastRequest | null {
    if (!isObject(body) || body.jsonrpc !== "2.0") return null;
    const { id, method } = body;
    if (typeof id !== "string" && !Number.isSafeInteger(id)) return null;
    if (method !== "tools/call" && method !== "tools/list" && method !== "ping") return null;
    for (const key in body) {
      if (key !== "jsonrpc" && key !== "id" && key !== "method" && key !== "params") return null;
    }
    const params = body.params;
    if (params !== undefined && !isObject(params)) return null;
    const allowed = ALLOWED_PARAMS[method];
    for (const key in params) if (!allowed.includes(key)) return null;
    const accept = headers.get("accept") ?? "";
    if (!accept.includes("application/json") || !accept.includes("text/event-stream")) return null;

    let name: string | undefined;
    let args: Record<string, unknown> | undefined;
    if (method === "tools/call") {
      if (typeof params?.name !== "string") return null;
      name = params.name;
      if (params.arguments !== undefined) {
        if (!isObject(params.arguments)) return null;
        args = params.arguments;
      }
    }
    const era = this.#eraOf(headers, method, name, params);
    if (!era) return null;
    return {
      era,
      id: id as string | number,
      method,
      ...(name === undefined ? {} : { name }),
      ...(args === undefined ? {} : { arguments: args }),
    };
  }

  /**
   * Remembers the 2026-07-28 envelope of `body` after the SDK answered it with `status` 200: the SDK
   * validated that exact envelope, so later requests carrying it may take the fast path.
   */
  learn(body: unknown, status: number): void {
    if (status !== 200 || !isObject(body) || !isObject(body.params)) return;
    const meta = body.params._meta;
    if (!isObject(meta) || meta[PROTOCOL_VERSION_KEY] !== MODERN_VERSION) return;
    if (this.#envelopes.size >= MAX_ENVELOPES) this.#envelopes.clear();
    this.#envelopes.add(JSON.stringify(meta));
  }

  /** The JSON-RPC response to `request` for `identity`; `signal` aborts a running tool. */
  async answer(
    request: FastRequest,
    identity: Identity,
    signal: AbortSignal,
  ): Promise<JSONRPCMessage> {
    const { id } = request;
    if (request.method === "ping") return { jsonrpc: "2.0", id, result: {} };
    const tools = toolsFor(identity.permissions);
    if (request.method === "tools/list") {
      const result = { tools: tools.map(listed) };
      return { jsonrpc: "2.0", id, result: this.#stamp(request, result, true) };
    }
    const tool = tools.find((t) => t.name === request.name);
    if (!tool) {
      return {
        jsonrpc: "2.0",
        id,
        error: { code: ERROR_CODES.invalidParams, message: `Tool ${request.name} not found` },
      };
    }
    const parsed = inputSchemaOf(tool).safeParse(request.arguments ?? {});
    let result: ToolResult;
    if (!parsed.success) {
      // The SDK's wording (`McpServer.validateToolInput`), so clients see one message either way.
      result = toolError(
        `Input validation error: Invalid arguments for tool ${tool.name}: ${
          parsed.error.issues.map(formatIssue).join(", ")
        }`,
      );
    } else {
      try {
        result = await runTool(tool, parsed.data, identity, this.#services, signal);
      } catch (err) {
        result = toolError(err instanceof Error ? err.message : String(err));
      }
    }
    return { jsonrpc: "2.0", id, result: this.#stamp(request, result, false) };
  }

  #eraOf(
    headers: Headers,
    method: string,
    name: string | undefined,
    params: Params | undefined,
  ): FastEra | null {
    const version = headers.get("mcp-protocol-version");
    const meta = params?._meta;
    if (meta === undefined) {
      // 2025: no envelope, and no header naming a modern revision.
      if (version !== null && !LEGACY_PROTOCOL_VERSIONS.includes(version)) return null;
      const header = headers.get("mcp-method");
      return header === null || header === method ? "legacy" : null;
    }
    if (version !== MODERN_VERSION || method === "ping" || !isObject(meta)) return null;
    if (meta[PROTOCOL_VERSION_KEY] !== MODERN_VERSION) return null;
    if (headers.get("mcp-method") !== method) return null;
    if (headers.get("mcp-name") !== (method === "tools/call" ? name : null)) return null;
    return this.#envelopes.has(JSON.stringify(meta)) ? "modern" : null;
  }

  /** The result as the SDK's codec of the request's era sends it. */
  #stamp(request: FastRequest, result: object, list: boolean): Record<string, unknown> {
    if (request.era === "legacy") return { ...result };
    return {
      ...result,
      resultType: "complete",
      ...(list ? { ttlMs: 0, cacheScope: "private" } : {}),
      _meta: MODERN_RESULT_META,
    };
  }
}

/** An `isError` result carrying `message` (the SDK's `createToolError`). */
function toolError(message: string): ToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

/** One validation issue as the SDK words it: `path.to.key: message`. */
function formatIssue(issue: { path: readonly PropertyKey[]; message: string }): string {
  if (issue.path.length === 0) return issue.message;
  return `${issue.path.map(String).join(".")}: ${issue.message}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

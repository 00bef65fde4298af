/**
 * What a tool is: a name, the AuthKit permissions it requires, a zod input shape and a handler. Tool
 * files in `mcp/tools/` each export one definition made with {@linkcode defineTool}; `mcp/tools/mod.ts`
 * lists them. The server registers for a caller only the tools whose `requires` the caller holds, and
 * checks again on every call.
 *
 * @module
 */
import { z } from "zod";
import type { Identity } from "../auth/identity.ts";

/** A content block a tool returns (the MCP `text` and `image` shapes). */
export type ToolContent =
  | { type: "text"; text: string }
  | { type: "image"; data: string; mimeType: string };

/** A tool's result, as MCP's `CallToolResult`. */
export type ToolResult = {
  content: ToolContent[];
  isError?: boolean;
};

/** An image generator backend (Workers AI, or the local placeholder). */
export interface ImageGenerator {
  /** A short label for results and logs, e.g. `workers-ai` or `local-placeholder`. */
  readonly name: string;
  /** Renders `prompt`; resolves to PNG or JPEG bytes, rejects with a clear message on failure. */
  generate(
    request: { prompt: string; steps: number },
    signal?: AbortSignal,
  ): Promise<{ bytes: Uint8Array; mimeType: string; note?: string }>;
}

/** One tool call, for the audit trail. */
export interface ToolCallRecord {
  readonly identity: Identity;
  readonly tool: string;
  readonly outcome: "success" | "failure" | "refused";
  readonly durationMs: number;
  readonly detail?: string;
}

/** Services tools may use; built once per instance by the MCP runtime (`runtime.ts`). */
export interface ToolServices {
  readonly image: ImageGenerator;
  /** Told about every call, allowed or refused (the audit trail); must not throw. */
  readonly onToolCall?: (record: ToolCallRecord) => void;
}

/** What a tool handler receives besides its arguments. */
export interface ToolContext {
  readonly identity: Identity;
  readonly services: ToolServices;
  readonly signal: AbortSignal;
}

/** A tool, generic over its zod input shape. */
export interface ToolDefinition<Shape extends z.ZodRawShape = z.ZodRawShape> {
  readonly name: string;
  readonly title?: string;
  readonly description: string;
  /** AuthKit permission slugs, all of which the caller must hold. Empty: everyone signed in. */
  readonly requires: readonly string[];
  readonly inputSchema: Shape;
  run(args: z.infer<z.ZodObject<Shape>>, ctx: ToolContext): Promise<ToolResult>;
}

/** Declares a tool with its argument types inferred from `inputSchema`. */
export function defineTool<Shape extends z.ZodRawShape>(
  def: ToolDefinition<Shape>,
): ToolDefinition<Shape> {
  return def;
}

const INPUT_SCHEMAS = new WeakMap<ToolDefinition, z.ZodObject>();

/**
 * The zod object of `tool`'s input shape, built once per tool and shared by every server and the fast
 * path: zod compiles a parser on an object's first parse, so a fresh `z.object()` per request would
 * compile again on every call.
 */
export function inputSchemaOf(tool: ToolDefinition): z.ZodObject {
  let schema = INPUT_SCHEMAS.get(tool);
  if (!schema) {
    schema = z.object(tool.inputSchema);
    INPUT_SCHEMAS.set(tool, schema);
  }
  return schema;
}

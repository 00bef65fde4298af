/**
 * `GET /healthz`: whether this instance can serve. 200 when KV answers a read and takes a write (of a
 * key of this instance's own), 503 when either fails (or the instance is shutting down, so a load balancer stops sending it traffic). The body says which
 * instance answered, its version and uptime, how long the KV probe took and how many streams it holds.
 * Unauthenticated on purpose, so it names nothing about users.
 *
 * @module
 */
import { Hono } from "hono";
import { probeKv } from "../lib/kv_probe.ts";
import type { McpRuntime } from "../mcp/runtime.ts";
import { SERVER_INFO } from "../mcp/server.ts";

/** Options of {@linkcode healthRoutes}. */
export interface HealthOptions {
  kv: Deno.Kv;
  /** What `/healthz` reports of the MCP runtime. */
  mcp: Pick<McpRuntime, "instanceId" | "draining" | "openStreams">;
  /** When this instance started (ms since the epoch). */
  startedAt: number;
  /** DENO_DEPLOYMENT_ID on Deno Deploy. */
  deploymentId: string | undefined;
  now?: () => number;
}

/** `/healthz`. */
export function healthRoutes(options: HealthOptions): Hono {
  const app = new Hono();
  const now = options.now ?? Date.now;
  app.get("/healthz", async (c) => {
    const kv = await probeKv(options.kv, options.mcp.instanceId);
    const draining = options.mcp.draining;
    const status = !kv.ok ? "kv_unavailable" : draining ? "draining" : "ok";
    return c.json(
      {
        status,
        version: SERVER_INFO.version,
        deno: Deno.version.deno,
        ...(options.deploymentId ? { deployment: options.deploymentId } : {}),
        instance: options.mcp.instanceId,
        uptimeSeconds: Math.round((now() - options.startedAt) / 1000),
        kv,
        streams: options.mcp.openStreams(),
      },
      status === "ok" ? 200 : 503,
      { "cache-control": "no-store" },
    );
  });
  return app;
}

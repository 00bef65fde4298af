import { assertEquals, assertMatch } from "@std/assert";
import { Hono } from "hono";
import { healthRoutes } from "../../routes/health.ts";
import type { McpRuntime } from "../../mcp/runtime.ts";
import { sdkSignIn } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

Deno.test("GET /healthz answers 200 with the instance, version, uptime and a KV round trip", async () => {
  await using server = await startTestServer();
  const res = await fetch(`${server.url}/healthz`);
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("cache-control"), "no-store");
  const body = await res.json();
  assertEquals(body.status, "ok");
  assertEquals(body.kv.ok, true);
  assertEquals(typeof body.kv.latencyMs, "number");
  assertMatch(body.version, /^\d+\.\d+\.\d+$/);
  assertEquals(body.instance, server.service.mcp.instanceId);
  assertEquals(typeof body.uptimeSeconds, "number");
  assertEquals(body.streams, { sse: 0, mcp: 0, listen: 0 });
});

Deno.test("GET /healthz answers 503 kv_unavailable when KV does not answer", async () => {
  const kv = await Deno.openKv(":memory:");
  kv.close(); // every read now fails
  const mcp = { draining: false, instanceId: "i", openStreams: () => ({ sse: 0, mcp: 0 }) };
  const app = new Hono().route(
    "/",
    healthRoutes({ kv, mcp: mcp as unknown as McpRuntime, startedAt: 0, deploymentId: "dep_1" }),
  );
  const res = await app.request("/healthz");
  assertEquals(res.status, 503);
  const body = await res.json();
  assertEquals(body.status, "kv_unavailable");
  assertEquals(body.kv.ok, false);
  assertEquals(body.deployment, "dep_1");
});

Deno.test("a draining instance ends its SSE stream with retry:, refuses new streams with 503, reports draining", async () => {
  await using server = await startTestServer();
  const sse = `${server.url}/sse`;
  const token = (await sdkSignIn(sse, "bob@example.com")).saved!.access_token;
  const headers = { authorization: `Bearer ${token}`, accept: "text/event-stream" };
  const open = await fetch(sse, { headers });
  assertEquals(open.status, 200);
  assertEquals((await (await fetch(`${server.url}/healthz`)).json()).streams.sse, 1);

  await server.service.mcp.close();
  const text = await open.text();
  assertMatch(text, /^event: endpoint\n.*\n\nretry: 1000\n\n$/s);
  const refused = await fetch(sse, { headers });
  assertEquals(refused.status, 503);
  assertEquals(refused.headers.get("retry-after"), "1");
  assertEquals((await refused.json()).error.code, -32000);
  const health = await fetch(`${server.url}/healthz`);
  assertEquals(health.status, 503);
  assertEquals((await health.json()).status, "draining");
});

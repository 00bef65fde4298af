import { assertEquals, assertThrows } from "@std/assert";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { allowedOrigins, checkOrigin } from "../../mcp/origin.ts";

function app() {
  const hono = new Hono();
  hono.onError((
    err,
  ) => (err instanceof HTTPException ? err.getResponse() : new Response("bug", { status: 500 })));
  hono.use("*", checkOrigin({ allowed: ["https://mcp.example.com", "http://localhost:8788"] }));
  hono.post("/mcp", (c) => c.text("ok"));
  return hono;
}

const post = (origin?: string) =>
  app().request("http://localhost/mcp", { method: "POST", headers: origin ? { origin } : {} });

Deno.test("checkOrigin() passes requests without Origin and with an allowed one", async () => {
  assertEquals((await post()).status, 200);
  assertEquals((await post("https://mcp.example.com")).status, 200);
  assertEquals((await post("https://MCP.example.com:443")).status, 200);
  assertEquals((await post("http://localhost:8788")).status, 200);
});

Deno.test("checkOrigin() answers 403 with a JSON-RPC error for other origins", async () => {
  for (
    const origin of [
      "https://evil.example",
      "null",
      "http://mcp.example.com",
      "http://localhost:9999",
      "garbage",
    ]
  ) {
    const res = await post(origin);
    assertEquals(res.status, 403, origin);
    assertEquals((await res.json()).error.code, -32000);
  }
});

Deno.test("checkOrigin() throws at setup for an empty or malformed list", () => {
  assertThrows(() => checkOrigin({ allowed: [] }), TypeError);
  assertThrows(() => checkOrigin({ allowed: ["not an origin"] }), TypeError, "not an origin");
});

Deno.test("allowedOrigins() is PUBLIC_URL plus ALLOWED_ORIGINS", () => {
  assertEquals(
    allowedOrigins({
      publicUrl: "https://a.example",
      mcp: {
        sessionIdleSeconds: 1,
        allowedOrigins: ["https://b.example"],
        pollMs: 100,
        fastPath: true,
      },
    }),
    ["https://a.example", "https://b.example"],
  );
});

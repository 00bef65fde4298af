/**
 * CORS on `/mcp`, `/sse` and `/messages` against the real server: allowed origins (PUBLIC_URL plus
 * ALLOWED_ORIGINS) get their preflight answered without a token and can read the MCP headers; other
 * origins get nothing a browser would accept.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { INITIALIZE } from "../helpers/mcp_clients.ts";
import { signIn } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

const APP = "https://app.example";
const EVIL = "https://evil.example";

async function preflight(url: string, origin: string, method: string): Promise<Response> {
  const res = await fetch(url, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers":
        "authorization,content-type,mcp-protocol-version,mcp-session-id,mcp-method,mcp-name,last-event-id",
    },
  });
  await res.body?.cancel();
  return res;
}

Deno.test("preflight on /mcp, /sse and /messages is answered for allowed origins without a token", async () => {
  await using server = await startTestServer({ ALLOWED_ORIGINS: APP });
  const cases: Array<[string, string]> = [["/mcp", "POST"], ["/mcp", "GET"], ["/mcp", "DELETE"], [
    "/sse",
    "GET",
  ], ["/messages?sessionId=x", "POST"]];
  for (const origin of [APP, server.url]) {
    for (const [path, method] of cases) {
      const res = await preflight(`${server.url}${path}`, origin, method);
      assertEquals(res.status, 204, `${origin} ${method} ${path}`);
      assertEquals(res.headers.get("access-control-allow-origin"), origin);
      assertStringIncludes(res.headers.get("access-control-allow-methods")!, method);
      const allowed = res.headers.get("access-control-allow-headers")!.toLowerCase();
      for (
        const h of [
          "authorization",
          "mcp-session-id",
          "mcp-protocol-version",
          "mcp-method",
          "mcp-name",
          "last-event-id",
        ]
      ) assertStringIncludes(allowed, h);
      assertEquals(res.headers.get("access-control-allow-credentials"), null);
    }
  }
});

Deno.test("preflight from another origin is refused and carries no CORS grant", async () => {
  await using server = await startTestServer({ ALLOWED_ORIGINS: APP });
  for (const path of ["/mcp", "/sse", "/messages"]) {
    const res = await preflight(`${server.url}${path}`, EVIL, "POST");
    assertEquals(res.status, 403, path);
    assertEquals(res.headers.get("access-control-allow-origin"), null, path);
  }
});

Deno.test("responses to an allowed origin expose Mcp-Session-Id and WWW-Authenticate, a 401 included", async () => {
  await using server = await startTestServer({ ALLOWED_ORIGINS: APP });
  const challenge = await fetch(`${server.url}/mcp`, { method: "POST", headers: { origin: APP } });
  await challenge.body?.cancel();
  assertEquals(challenge.status, 401);
  assertEquals(challenge.headers.get("access-control-allow-origin"), APP);
  const exposed = challenge.headers.get("access-control-expose-headers")!.toLowerCase();
  assertStringIncludes(exposed, "mcp-session-id");
  assertStringIncludes(exposed, "www-authenticate");
  assert(challenge.headers.get("www-authenticate"));

  const { accessToken } = await signIn(server.url, "alice@example.com");
  const init = await fetch(`${server.url}/mcp`, {
    method: "POST",
    headers: {
      origin: APP,
      authorization: `Bearer ${accessToken}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify(INITIALIZE),
  });
  await init.body?.cancel();
  assertEquals(init.status, 200);
  assertEquals(init.headers.get("access-control-allow-origin"), APP);
  assert(init.headers.get("mcp-session-id"));
});

Deno.test("a request without Origin (no browser) gets no CORS headers, and responses to an Origin vary by it", async () => {
  await using server = await startTestServer({ ALLOWED_ORIGINS: APP });
  const { accessToken } = await signIn(server.url, "alice@example.com");
  for (const token of [undefined, accessToken]) {
    const res = await fetch(`${server.url}/mcp`, {
      method: "POST",
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify(INITIALIZE),
    });
    await res.body?.cancel();
    assertEquals(res.status, token ? 200 : 401);
    const cors = [...res.headers.keys()].filter((name) => name.startsWith("access-control-"));
    assertEquals(cors, []);
  }
  const fromApp = await fetch(`${server.url}/mcp`, { method: "POST", headers: { origin: APP } });
  await fromApp.body?.cancel();
  assertStringIncludes(fromApp.headers.get("vary") ?? "", "Origin");
});

import { assertEquals } from "@std/assert";
import { startTestServer } from "../helpers/server.ts";

Deno.test("GET /.well-known/oauth-authorization-server describes the AS with the exact issuer", async () => {
  await using server = await startTestServer();
  const res = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
  const meta = await res.json();
  assertEquals(meta.issuer, server.url);
  assertEquals(meta.issuer.endsWith("/"), false);
  assertEquals(meta.code_challenge_methods_supported, ["S256"]);
  assertEquals(meta.authorization_response_iss_parameter_supported, true);
  assertEquals(meta.registration_endpoint, `${server.url}/register`);
  assertEquals(meta.token_endpoint, `${server.url}/token`);
  assertEquals(meta.revocation_endpoint, `${server.url}/revoke`);
  assertEquals(meta.authorization_endpoint, `${server.url}/authorize`);
  assertEquals(meta.response_types_supported, ["code"]);
});

Deno.test("GET /.well-known/oauth-protected-resource names each MCP endpoint and our issuer", async () => {
  await using server = await startTestServer();
  for (
    const [path, resource] of [
      ["/.well-known/oauth-protected-resource/mcp", `${server.url}/mcp`],
      ["/.well-known/oauth-protected-resource", `${server.url}/mcp`],
      ["/.well-known/oauth-protected-resource/sse", `${server.url}/sse`],
    ]
  ) {
    const meta = await (await fetch(`${server.url}${path}`)).json();
    assertEquals(meta.resource, resource, path);
    assertEquals(meta.authorization_servers, [server.url], path);
    assertEquals(JSON.stringify(meta).includes("offline_access"), false);
  }
});

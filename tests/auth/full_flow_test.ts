import {
  assert,
  assertEquals,
  assertExists,
  assertNotEquals,
  assertStringIncludes,
} from "@std/assert";
import { postForm, sdkSignIn } from "../helpers/oauth.ts";
import { discover, whoami } from "../helpers/mcp_clients.ts";
import { auth } from "../helpers/sdk_v1.ts";
import { startTestServer } from "../helpers/server.ts";

Deno.test("sign-in flow: discovery → registration → consent → AuthKit → code → tokens → bearer → refresh", async () => {
  await using server = await startTestServer();
  const mcp = `${server.url}/mcp`;

  // Discovery starts from the 401 challenge, as MCP clients do.
  const challenge = await fetch(mcp, { method: "POST" });
  await challenge.body?.cancel();
  assertEquals(challenge.status, 401);
  assertEquals(
    challenge.headers.get("www-authenticate"),
    `Bearer resource_metadata="${server.url}/.well-known/oauth-protected-resource/mcp"`,
  );

  const provider = await sdkSignIn(mcp, "alice@example.com");
  const tokens = provider.saved!;
  assertExists(tokens.refresh_token);
  assertEquals(tokens.token_type, "Bearer");
  assertEquals(tokens.expires_in, 600);
  assert((provider.client as { client_id: string }).client_id.startsWith("mcp_"));

  // The bearer check accepts the token and knows who is calling.
  const identity = await whoami(server.url, tokens.access_token);
  assertEquals(identity.email, "alice@example.com");
  assertEquals(identity.clientId, (provider.client as { client_id: string }).client_id);
  assertEquals(identity.permissions, ["image_generation"]);
  assertEquals(identity.resource, mcp);

  // Refresh through the SDK: auth() uses the stored refresh token first; rotation gives a new one.
  const first = tokens.refresh_token!;
  assertEquals(await auth(provider, { serverUrl: mcp }), "AUTHORIZED");
  const second = provider.saved!.refresh_token!;
  assertNotEquals(second, first);
  assertEquals((await discover(server.url, provider.saved!.access_token)).status, 200);

  // The old refresh token is refused, and its use revokes the whole grant.
  const clientId = (provider.client as { client_id: string }).client_id;
  const reuse = await postForm(server.url, "/token", {
    grant_type: "refresh_token",
    refresh_token: first,
    client_id: clientId,
  });
  assertEquals(reuse.status, 400);
  assertEquals(reuse.body.error, "invalid_grant");
  assertStringIncludes(String(reuse.body.error_description), "already used");
  assertEquals((await discover(server.url, provider.saved!.access_token)).status, 401);
  const newest = await postForm(server.url, "/token", {
    grant_type: "refresh_token",
    refresh_token: second,
    client_id: clientId,
  });
  assertEquals(newest.body.error, "invalid_grant");
});

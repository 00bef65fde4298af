import { assertEquals } from "@std/assert";
import { sdkSignIn } from "../helpers/oauth.ts";
import { Client, StreamableHTTPClientTransport } from "../helpers/sdk_v1.ts";
import { startTestServer } from "../helpers/server.ts";

Deno.test("serverInfo carries SERVER_NAME as name and title when one is configured", async () => {
  await using server = await startTestServer({ SERVER_NAME: "Acme tools" });
  const mcp = `${server.url}/mcp`;
  const provider = await sdkSignIn(mcp, "bob@example.com");
  const client = new Client({ name: "v1-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcp), { authProvider: provider }));
  try {
    const info = client.getServerVersion();
    assertEquals([info?.name, info?.title], ["Acme tools", "Acme tools"]);
  } finally {
    await client.close();
  }
});

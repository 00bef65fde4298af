/**
 * Client ID metadata documents end to end: a real server (emulator mode, CIMD_ALLOW_LOOPBACK=true so the
 * document can live on loopback), a real https document server, the v1 SDK's own OAuth (`auth()` with
 * `clientMetadataUrl`) and the scripted browser.
 */
import {
  assert,
  assertEquals,
  assertNotEquals,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { ScriptedBrowser } from "../helpers/browser.ts";
import { startMetadataServer, TEST_CA } from "../helpers/metadata_server.ts";
import { whoami } from "../helpers/mcp_clients.ts";
import {
  authorizeUrl,
  browserSignIn,
  postForm,
  REDIRECT_URI,
  sdkSignIn,
  TestOAuthProvider,
} from "../helpers/oauth.ts";
import { auth } from "../helpers/sdk_v1.ts";
import {
  Client as ClientV2,
  type OAuthClientProvider as OAuthClientProviderV2,
  StreamableHTTPClientTransport as TransportV2,
} from "../helpers/sdk_v2.ts";
import { startTestServer } from "../helpers/server.ts";

const DEV = { CIMD_ALLOW_LOOPBACK: "true" };
const TRUST = { cimd: { caCerts: [TEST_CA] } };

/** The SDK provider of a client that identifies itself by a metadata document URL. */
class MetadataProvider extends TestOAuthProvider {
  constructor(readonly clientMetadataUrl: string) {
    super();
  }
}

async function page(
  url: string,
): Promise<{ status: number; location: string | null; body: string }> {
  const res = await fetch(url, { redirect: "manual" });
  return { status: res.status, location: res.headers.get("location"), body: await res.text() };
}

Deno.test("AS metadata advertises client ID metadata documents and the none auth method", async () => {
  await using server = await startTestServer();
  const meta = await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json();
  assertEquals(meta.client_id_metadata_document_supported, true);
  assert(meta.token_endpoint_auth_methods_supported.includes("none"));
});

Deno.test("the v1 SDK signs in with a client ID metadata document: no registration, tokens, tool call, refresh", async () => {
  await using docs = startMetadataServer();
  const clientId = docs.serveClient("/oauth/client.json", { client_name: "SDK Metadata Client" }, {
    "cache-control": "max-age=600",
  });
  await using server = await startTestServer(DEV, TRUST);
  const provider = await sdkSignIn(
    `${server.url}/mcp`,
    "alice@example.com",
    new MetadataProvider(clientId),
  );
  assertEquals((provider.client as { client_id: string }).client_id, clientId);
  const registered = [];
  for await (const e of server.kv.list({ prefix: ["oauth", "client"] })) registered.push(e.key);
  assertEquals(registered, []); // nothing was dynamically registered
  const identity = await whoami(server.url, provider.saved!.access_token);
  assertEquals(identity.email, "alice@example.com");
  assertEquals(identity.clientId, clientId);
  const first = provider.saved!.refresh_token;
  assertEquals(await auth(provider, { serverUrl: `${server.url}/mcp` }), "AUTHORIZED");
  assertNotEquals(provider.saved!.refresh_token, first);
  // /authorize and both /token calls were served from one fetch of the document.
  assertEquals(docs.received.filter((r) => r.path === "/oauth/client.json").length, 1);
});

Deno.test("GET /authorize shows a local page, never a redirect, for each refused metadata document", async () => {
  await using docs = startMetadataServer();
  await using server = await startTestServer(DEV, TRUST);
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ client_id: docs.url("/elsewhere.json") }, "does not equal the document"],
    [{ client_name: undefined }, "client_name"],
    [{ redirect_uris: undefined }, "redirect_uris"],
    [{ token_endpoint_auth_method: "client_secret_basic" }, "must be none"],
    [{ client_secret: "published-secret" }, "client_secret must not appear"],
    [{ redirect_uris: ["http://evil.example/cb"] }, "http is allowed only on a loopback host"],
  ];
  for (const [i, [extra, message]] of cases.entries()) {
    const clientId = docs.serveClient(`/bad${i}.json`, extra);
    const res = await page((await authorizeUrl(server.url, clientId)).url);
    assertEquals(res.status, 400, message);
    assertEquals(res.location, null, message);
    assertStringIncludes(res.body, "invalid_client");
    assertStringIncludes(res.body, message);
  }
  // A document that does not list the redirect URI asked for: refused locally too.
  const clientId = docs.serveClient("/good.json");
  const other = await page(
    (await authorizeUrl(server.url, clientId, { redirect_uri: "https://evil.example/cb" })).url,
  );
  assertEquals(other.status, 400);
  assertEquals(other.location, null);
  assertStringIncludes(other.body, "invalid_redirect_uri");
  // Unreachable documents and redirects are refused the same way.
  docs.documents.set("/moved.json", { status: 301, body: "", headers: { location: clientId } });
  for (const path of ["/missing.json", "/moved.json"]) {
    const res = await page((await authorizeUrl(server.url, docs.url(path))).url);
    assertEquals(res.status, 400, path);
    assertEquals(res.location, null, path);
  }
});

Deno.test("without CIMD_ALLOW_LOOPBACK a document on loopback is refused before any fetch", async () => {
  await using docs = startMetadataServer();
  const clientId = docs.serveClient("/client.json");
  await using server = await startTestServer({}, TRUST);
  const res = await page((await authorizeUrl(server.url, clientId)).url);
  assertEquals(res.status, 400);
  assertEquals(res.location, null);
  assertStringIncludes(res.body, "127.0.0.1, a loopback address");
  for (const literal of ["https://10.0.0.1/c.json", "https://169.254.169.254/latest/meta-data"]) {
    const refused = await page((await authorizeUrl(server.url, literal)).url);
    assertEquals(refused.status, 400, literal);
    assertStringIncludes(refused.body, "only public addresses are fetched");
  }
  assertEquals(docs.received.length, 0);
});

Deno.test("POST /token refuses a metadata client presenting a secret, and a document gone bad", async () => {
  await using docs = startMetadataServer();
  const clientId = docs.serveClient("/client.json", {}, { "cache-control": "no-store" });
  await using server = await startTestServer(DEV, TRUST);
  const { url, verifier } = await authorizeUrl(server.url, clientId);
  const back = await browserSignIn(new ScriptedBrowser(), url, "alice@example.com");
  const secret = await postForm(server.url, "/token", {
    grant_type: "authorization_code",
    code: back.code!,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    client_id: clientId,
    client_secret: "guess",
  });
  assertEquals(secret.status, 401);
  assertEquals(secret.body.error, "invalid_client");
  docs.serveClient("/client.json", { token_endpoint_auth_method: "client_secret_post" });
  const broken = await postForm(server.url, "/token", {
    grant_type: "authorization_code",
    code: back.code!,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    client_id: clientId,
  });
  assertEquals(broken.status, 401);
  assertEquals(broken.body.error, "invalid_client");
  assertStringIncludes(String(broken.body.error_description), "must be none");
});

Deno.test("POST /token answers 503 temporarily_unavailable, not invalid_client, when the document's host is down", async () => {
  await using docs = startMetadataServer();
  const clientId = docs.serveClient("/client.json", {}, { "cache-control": "no-store" });
  await using server = await startTestServer(DEV, TRUST);
  const { url, verifier } = await authorizeUrl(server.url, clientId);
  const back = await browserSignIn(new ScriptedBrowser(), url, "alice@example.com");
  docs.documents.set("/client.json", { status: 502, body: "bad gateway" });
  const form = {
    grant_type: "authorization_code",
    code: back.code!,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    client_id: clientId,
  };
  const down = await postForm(server.url, "/token", form);
  assertEquals(down.status, 503);
  assertEquals(down.body.error, "temporarily_unavailable");
  docs.serveClient("/client.json", {}, { "cache-control": "no-store" });
  const ok = await postForm(server.url, "/token", form); // the code was not spent by the outage
  assertEquals(ok.status, 200, JSON.stringify(ok.body));
  const page503 = await page((await authorizeUrl(server.url, docs.url("/down.json"))).url);
  assertEquals(page503.status, 400); // 404: the client's own answer
  docs.documents.set("/down.json", { status: 500, body: "" });
  const outage = await page((await authorizeUrl(server.url, docs.url("/down.json"))).url);
  assertEquals(outage.status, 503);
  assertEquals(outage.location, null);
});

Deno.test("the v2 SDK signs in with a client ID metadata document and calls a tool over 2026-07-28", async () => {
  await using docs = startMetadataServer();
  const clientId = docs.serveClient("/v2/client.json", { client_name: "SDK v2 Metadata Client" });
  await using server = await startTestServer(DEV, TRUST);
  const mcp = `${server.url}/mcp`;
  const provider = new MetadataProvider(clientId);
  const v2 = provider as unknown as OAuthClientProviderV2;
  // The first connection is refused (401): the SDK resolves the client (CIMD) and sends the user off.
  const first = new TransportV2(new URL(mcp), { authProvider: v2 });
  await assertRejects(() => new ClientV2({ name: "v2-cimd", version: "1.0.0" }).connect(first));
  assertEquals(provider.authorizationUrl!.searchParams.get("client_id"), clientId);
  const back = await browserSignIn(
    new ScriptedBrowser(),
    provider.authorizationUrl!.href,
    "bob@example.com",
  );
  await first.finishAuth(back.url.searchParams); // checks `iss` (RFC 9207), exchanges the code
  await first.close();
  const client = new ClientV2({ name: "v2-cimd", version: "1.0.0" });
  await client.connect(new TransportV2(new URL(mcp), { authProvider: v2 }));
  try {
    const result = await client.callTool({ name: "whoami", arguments: {} }) as {
      content: Array<{ text: string }>;
    };
    const identity = JSON.parse(result.content[0]!.text);
    assertEquals(identity.email, "bob@example.com");
    assertEquals(identity.clientId, clientId);
  } finally {
    await client.close();
  }
});

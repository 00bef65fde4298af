import { assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import {
  cacheLifetimeMs,
  CimdError,
  clientIdUrlProblem,
  MAX_CACHE_MS,
  MetadataClients,
  MIN_REFETCH_MS,
  STALE_IF_ERROR_MS,
  validateClientDocument,
} from "../../auth/cimd.ts";
import { sharedKv } from "../helpers/kv.ts";
import { startMetadataServer, TEST_CA } from "../helpers/metadata_server.ts";

const ID = "https://app.example/oauth/client.json";
const VALID = {
  client_id: ID,
  client_name: "Example",
  redirect_uris: ["http://127.0.0.1/callback", "https://app.example/cb"],
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  token_endpoint_auth_method: "none",
};

function invalid(doc: Record<string, unknown>, id = ID): CimdError {
  try {
    validateClientDocument(id, JSON.stringify(doc), 0);
  } catch (err) {
    if (err instanceof CimdError) return err;
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(doc)}`);
}

Deno.test("clientIdUrlProblem() accepts https URLs with a path and refuses the rest (-00 §3)", () => {
  assertEquals(
    clientIdUrlProblem("https://claude.ai/oauth/claude-code-client-metadata", false),
    null,
  );
  assertEquals(clientIdUrlProblem("https://app.example:8443/c.json?v=1", false), null);
  const cases: Array<[string, string]> = [
    ["http://app.example/c.json", "must use https"],
    ["https://app.example", "must have a path"],
    ["https://app.example/", "must have a path"],
    ["https://app.example/c.json#x", "must not contain a fragment"],
    ["https://user:pw@app.example/c.json", "must not contain user info"],
    ["https://app.example/a/../c.json", "must not contain . or .. path segments"],
    ["https://app.example/./c.json", "must not contain . or .. path segments"],
    ["https://app.example/a/%2e%2e/c.json", "must not contain . or .. path segments"],
    ["not a url", "is not a URL"],
  ];
  for (const [id, problem] of cases) assertEquals(clientIdUrlProblem(id, false), problem, id);
  assertEquals(clientIdUrlProblem("http://localhost:8080/c.json", false), "must use https");
  assertEquals(clientIdUrlProblem("http://localhost:8080/c.json", true), null);
  assertEquals(clientIdUrlProblem("http://app.example/c.json", true), "must use https");
});

Deno.test("validateClientDocument() accepts a -00 document and a -02 one with extra fields", () => {
  const client = validateClientDocument(ID, JSON.stringify(VALID), 5);
  assertEquals(client.clientId, ID);
  assertEquals(client.clientName, "Example");
  assertEquals(client.tokenEndpointAuthMethod, "none");
  assertEquals(client.clientSecretHash, null);
  assertEquals(client.grantTypes, ["authorization_code", "refresh_token"]);
  const draft02 = validateClientDocument(
    ID,
    JSON.stringify({
      ...VALID,
      grant_types: [
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
      ],
      post_logout_redirect_uris: ["https://app.example/bye"],
      software_statement: "eyJ...",
      tos_uri: "https://app.example/tos",
    }),
    5,
  );
  assertEquals(draft02.grantTypes, ["authorization_code", "refresh_token"]);
});

Deno.test("validateClientDocument() refuses every rule broken", () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [
      { ...VALID, client_id: "https://app.example/other.json" },
      "does not equal the document's URL",
    ],
    [{ ...VALID, client_id: `${ID}/` }, "does not equal the document's URL"],
    [{ ...VALID, client_id: ID.toUpperCase() }, "does not equal the document's URL"],
    [{ ...VALID, client_name: undefined }, "client_name"],
    [{ ...VALID, client_name: "  " }, "client_name: must not be empty"],
    [{ ...VALID, redirect_uris: undefined }, "redirect_uris"],
    [{ ...VALID, redirect_uris: [] }, "redirect_uris: must list at least one redirect URI"],
    [
      { ...VALID, redirect_uris: ["http://evil.example/cb"] },
      "http is allowed only on a loopback host",
    ],
    [{ ...VALID, redirect_uris: ["javascript:alert(1)"] }, "scheme is not allowed"],
    [{ ...VALID, redirect_uris: ["https://app.example/cb#f"] }, "must not contain a fragment"],
    [
      { ...VALID, token_endpoint_auth_method: "client_secret_basic" },
      "token_endpoint_auth_method: must be none",
    ],
    [
      { ...VALID, token_endpoint_auth_method: "client_secret_post" },
      "token_endpoint_auth_method: must be none",
    ],
    [
      { ...VALID, token_endpoint_auth_method: "private_key_jwt" },
      "token_endpoint_auth_method: must be none",
    ],
    [{ ...VALID, client_secret: "s3cret" }, "client_secret must not appear"],
    [{ ...VALID, client_secret_expires_at: 0 }, "client_secret_expires_at must not appear"],
    [{ ...VALID, grant_types: ["refresh_token"] }, "grant_types: must include authorization_code"],
    [{ ...VALID, response_types: ["token"] }, "response_types: must include code"],
    [{ ...VALID, logo_uri: "http://app.example/logo.png" }, "logo_uri: must be an https URL"],
  ];
  for (const [doc, message] of cases) {
    const err = invalid(doc);
    assertEquals(err.code, "invalid_document");
    assertStringIncludes(err.message, message, JSON.stringify(doc));
  }
  for (const body of ["not json", "[1]", "null"]) {
    try {
      validateClientDocument(ID, body, 0);
      throw new Error("accepted");
    } catch (err) {
      assertEquals((err as CimdError).code, "invalid_document");
    }
  }
});

Deno.test("cacheLifetimeMs() follows Cache-Control, capped at 24 hours", () => {
  assertEquals(cacheLifetimeMs("max-age=60"), 60_000);
  assertEquals(cacheLifetimeMs("public, max-age=604800"), MAX_CACHE_MS);
  assertEquals(cacheLifetimeMs("no-store"), 0);
  assertEquals(cacheLifetimeMs("no-cache, max-age=60"), 0);
  assertEquals(cacheLifetimeMs("max-age=0"), 0);
  assertEquals(cacheLifetimeMs("max-age=abc"), 0);
  assertEquals(cacheLifetimeMs(null), 5 * 60_000);
});

Deno.test("MetadataClients caches a document per Cache-Control in KV shared by two instances", async () => {
  await using kv = await sharedKv();
  await using docs = startMetadataServer();
  const id = docs.serveClient("/c.json", {}, { "cache-control": "max-age=60" });
  let now = 1_000_000;
  const options = { allowLoopback: true, caCerts: [TEST_CA], now: () => now };
  const a = new MetadataClients(kv.a, options);
  const b = new MetadataClients(kv.b, options);
  assertEquals((await a.resolve(id)).clientName, "Metadata Test Client");
  assertEquals((await b.resolve(id)).clientName, "Metadata Test Client"); // the other instance
  assertEquals(docs.received.length, 1);
  now += 61_000; // past max-age
  await b.resolve(id);
  assertEquals(docs.received.length, 2);
});

Deno.test("MetadataClients never caches an invalid or no-store document", async () => {
  await using kv = await sharedKv();
  await using docs = startMetadataServer();
  const id = docs.serveClient("/c.json", { client_name: "" }, { "cache-control": "max-age=600" });
  const clients = new MetadataClients(kv.a, { allowLoopback: true, caCerts: [TEST_CA] });
  await assertRejects(() => clients.resolve(id), CimdError, "client_name");
  docs.serveClient("/c.json", {}, { "cache-control": "max-age=600" });
  assertEquals((await clients.resolve(id)).clientName, "Metadata Test Client"); // fetched again
  assertEquals(docs.received.length, 2);
  const fresh = docs.serveClient("/nostore.json", {}, { "cache-control": "no-store" });
  await clients.resolve(fresh);
  await clients.resolve(fresh);
  assertEquals(docs.received.filter((r) => r.path === "/nostore.json").length, 2);
});

Deno.test("MetadataClients re-fetches a cached document that no longer fits the request, at most every 10 s", async () => {
  await using kv = await sharedKv();
  await using docs = startMetadataServer();
  const id = docs.serveClient("/c.json", {}, { "cache-control": "max-age=600" });
  let now = 1_000_000;
  const clients = new MetadataClients(kv.a, {
    allowLoopback: true,
    caCerts: [TEST_CA],
    now: () => now,
  });
  await clients.resolve(id);
  docs.serveClient("/c.json", {
    redirect_uris: ["http://127.0.0.1:9/callback", "https://new.example/cb"],
  }, { "cache-control": "max-age=600" });
  const wantsNew = (c: { redirectUris: string[] }) =>
    c.redirectUris.includes("https://new.example/cb");
  // Within MIN_REFETCH_MS of the last fetch the cached copy answers, fitting or not.
  assertEquals((await clients.resolve(id, wantsNew)).redirectUris.length, 1);
  assertEquals(docs.received.length, 1);
  now += MIN_REFETCH_MS;
  assertEquals((await clients.resolve(id, wantsNew)).redirectUris.length, 2);
  assertEquals(docs.received.length, 2);
  assertEquals((await clients.resolve(id, wantsNew)).redirectUris.length, 2); // now cached
  assertEquals(docs.received.length, 2);
  // The client breaks its document: the re-fetch refuses it and forgets the cached copy.
  docs.serveClient("/c.json", { client_secret: "x" });
  now += MIN_REFETCH_MS;
  await assertRejects(() => clients.resolve(id, () => false), CimdError, "client_secret");
  await assertRejects(() => clients.resolve(id), CimdError, "client_secret");
});

Deno.test("MetadataClients serves an expired copy while the client's host is down (stale-if-error), not a 404", async () => {
  await using kv = await sharedKv();
  await using docs = startMetadataServer();
  const id = docs.serveClient("/c.json", {}, { "cache-control": "max-age=60" });
  let now = 1_000_000;
  const clients = new MetadataClients(kv.a, {
    allowLoopback: true,
    caCerts: [TEST_CA],
    now: () => now,
  });
  await clients.resolve(id);
  now += 61_000;
  docs.documents.set("/c.json", { status: 503, body: "down" });
  assertEquals((await clients.resolve(id)).clientName, "Metadata Test Client");
  now += STALE_IF_ERROR_MS;
  const gone = await assertRejects(() => clients.resolve(id), CimdError);
  assertEquals(gone.code, "unreachable");
  // A 404 is the client's answer, not an outage: no stale copy.
  const other = docs.serveClient("/d.json", {}, { "cache-control": "max-age=60" });
  await clients.resolve(other);
  now += 61_000;
  docs.documents.delete("/d.json");
  assertEquals((await assertRejects(() => clients.resolve(other), CimdError)).code, "http_status");
});

Deno.test("MetadataClients refuses a bad client ID URL before fetching anything", async () => {
  await using kv = await sharedKv();
  await using docs = startMetadataServer();
  const clients = new MetadataClients(kv.a, { allowLoopback: false, caCerts: [TEST_CA] });
  const err = await assertRejects(() => clients.resolve(docs.url("/c.json#frag")), CimdError);
  assertEquals(err.code, "invalid_client_id");
  const loop = await assertRejects(
    () => clients.resolve(`http://localhost:${docs.port}/c.json`),
    CimdError,
  );
  assertEquals(loop.code, "invalid_client_id");
  assertEquals(docs.received.length, 0);
});

Deno.test("MetadataClients shares one fetch among simultaneous requests for a document", async () => {
  await using kv = await sharedKv();
  await using docs = startMetadataServer();
  const id = docs.serveClient("/c.json", {}, { "cache-control": "no-store" });
  docs.documents.get("/c.json")!.delayMs = 500; // a slow host: all five ask while one fetch runs
  const clients = new MetadataClients(kv.a, { allowLoopback: true, caCerts: [TEST_CA] });
  const all = await Promise.all(Array.from({ length: 5 }, () => clients.resolve(id)));
  assertEquals(all.map((c) => c.clientId), Array(5).fill(id));
  assertEquals(docs.received.length, 1);
  await clients.resolve(id); // no-store: the next request fetches again
  assertEquals(docs.received.length, 2);
});

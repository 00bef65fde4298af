/**
 * What a client ID metadata document costs a request, against a registered (DCR) client's KV read as
 * the baseline: `ClientStore.find()` for a registered client; for a CIMD client with the document cached
 * in KV (the usual case, one read plus a SHA-256 of the URL); and uncached (`Cache-Control: no-store`:
 * a loopback https fetch (localhost needs no DNS) with its TLS handshake, and validation). `deno task bench bench/cimd_bench.ts`.
 *
 * @module
 */
import { MetadataClients } from "../auth/cimd.ts";
import { ClientStore } from "../auth/clients.ts";
import { setQuiet } from "../lib/log.ts";
import { startMetadataServer, TEST_CA } from "../tests/helpers/metadata_server.ts";

setQuiet(true);
const kv = await Deno.openKv(":memory:");
const docs = startMetadataServer();
const cached = docs.serveClient("/cached.json", {}, { "cache-control": "max-age=3600" });
const uncached = docs.serveClient("/uncached.json", {}, { "cache-control": "no-store" });
const clients = new ClientStore(
  kv,
  Date.now,
  new MetadataClients(kv, { allowLoopback: true, caCerts: [TEST_CA] }),
);
const registered = String(
  (await clients.register({
    redirect_uris: ["http://127.0.0.1:9/callback"],
    token_endpoint_auth_method: "none",
    client_name: "Bench",
  })).client_id,
);
await clients.find(cached); // fill the cache
globalThis.addEventListener("unload", () => {
  kv.close();
  void docs[Symbol.asyncDispose]();
});

Deno.bench("registered client (KV read)", { group: "client lookup", baseline: true }, async () => {
  await clients.find(registered);
});
Deno.bench("CIMD client, document cached in KV", { group: "client lookup" }, async () => {
  await clients.find(cached);
});
Deno.bench("CIMD client, document fetched (no-store)", { group: "client lookup" }, async () => {
  await clients.find(uncached);
});

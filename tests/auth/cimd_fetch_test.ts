import { assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { CimdError, fetchClientDocument, type Resolver } from "../../auth/cimd_fetch.ts";
import { startMetadataServer, TEST_CA } from "../helpers/metadata_server.ts";

/** A resolver answering from a script, one answer per lookup, counting lookups. */
function scriptedDns(...answers: string[][]): Resolver & { lookups: string[] } {
  const lookups: string[] = [];
  const fn = (host: string) => {
    lookups.push(host);
    return Promise.resolve(answers[Math.min(lookups.length, answers.length) - 1] ?? []);
  };
  return Object.assign(fn, { lookups });
}

async function refused(url: string, options: Parameters<typeof fetchClientDocument>[1]) {
  return await assertRejects(() => fetchClientDocument(new URL(url), options), CimdError);
}

Deno.test("fetchClientDocument() fetches over TLS from the address it checked, asking for JSON", async () => {
  await using docs = startMetadataServer();
  docs.serveClient("/client.json", {}, { "cache-control": "max-age=60" });
  const dns = scriptedDns(["127.0.0.1"]);
  const got = await fetchClientDocument(new URL(`https://cimd.test:${docs.port}/client.json`), {
    allowLoopback: true,
    resolve: dns,
    caCerts: [TEST_CA],
  });
  assertEquals(JSON.parse(got.body).client_name, "Metadata Test Client");
  assertEquals(got.cacheControl, "max-age=60");
  assertEquals(dns.lookups, ["cimd.test"]); // resolved by us, once
  assertEquals(docs.received[0]?.host, `cimd.test:${docs.port}`); // TLS and Host name the URL's host
  assertEquals(docs.received[0]?.accept, "application/json");
});

Deno.test("fetchClientDocument() refuses loopback, private, link-local and metadata addresses without the switch", async () => {
  await using docs = startMetadataServer();
  docs.serveClient("/client.json");
  for (
    const address of [
      "127.0.0.1",
      "10.1.2.3",
      "192.168.0.10",
      "169.254.169.254",
      "::1",
      "fd00:ec2::254",
    ]
  ) {
    const err = await refused(`https://cimd.test:${docs.port}/client.json`, {
      allowLoopback: false,
      resolve: scriptedDns([address]),
      caCerts: [TEST_CA],
    });
    assertEquals(err.code, "address_refused", address);
    assertStringIncludes(err.message, address);
  }
  for (
    const literal of [
      "https://127.0.0.1/c",
      "https://10.0.0.8/c",
      "https://169.254.169.254/latest",
      "https://[::1]/c",
    ]
  ) {
    const err = await refused(literal, { allowLoopback: false, resolve: scriptedDns() });
    assertEquals(err.code, "address_refused", literal);
  }
  assertEquals(docs.received.length, 0);
});

Deno.test("fetchClientDocument() with the loopback switch still refuses private and metadata addresses", async () => {
  for (const address of ["10.0.0.1", "169.254.169.254", "172.16.5.5"]) {
    const err = await refused("https://cimd.test/client.json", {
      allowLoopback: true,
      resolve: scriptedDns([address]),
    });
    assertEquals(err.code, "address_refused", address);
  }
});

Deno.test("fetchClientDocument() refuses an answer that mixes a public and a private address", async () => {
  await using docs = startMetadataServer();
  docs.serveClient("/client.json");
  const err = await refused(`https://rebind.test:${docs.port}/client.json`, {
    allowLoopback: false,
    resolve: scriptedDns(["93.184.215.14", "127.0.0.1"]),
    caCerts: [TEST_CA],
  });
  assertEquals(err.code, "address_refused");
  assertEquals(docs.received.length, 0);
});

Deno.test("fetchClientDocument() connects only to the checked address: a rebinding second answer never reaches the private server", async () => {
  await using docs = startMetadataServer();
  docs.serveClient("/client.json");
  // First lookup public (passes the check), second private: a fetch that resolved again would land on
  // the local server. Ours connects to the checked public address (unreachable here), then refuses.
  const dns = scriptedDns(["192.88.98.1"], ["127.0.0.1"]);
  const url = `https://rebind.test:${docs.port}/client.json`;
  const options = { allowLoopback: false, resolve: dns, caCerts: [TEST_CA], timeoutMs: 1500 };
  const first = await refused(url, options);
  assertEquals(first.code, "unreachable");
  const second = await refused(url, options);
  assertEquals(second.code, "address_refused");
  assertEquals(dns.lookups.length, 2); // one lookup per fetch, none between check and connect
  assertEquals(docs.received.length, 0);
});

Deno.test("fetchClientDocument() follows no redirect and refuses non-200 answers", async () => {
  await using docs = startMetadataServer();
  docs.serveClient("/target.json");
  docs.documents.set("/moved.json", {
    status: 302,
    body: "",
    headers: { location: docs.url("/target.json") },
  });
  docs.documents.set("/gone.json", { status: 404, body: "{}" });
  const options = { allowLoopback: true, caCerts: [TEST_CA] };
  assertEquals((await refused(docs.url("/moved.json"), options)).code, "redirect");
  assertEquals((await refused(docs.url("/gone.json"), options)).code, "http_status");
  assertEquals(docs.received.map((r) => r.path), ["/moved.json", "/gone.json"]);
});

Deno.test("fetchClientDocument() refuses a document over 5 KB, declared or streamed", async () => {
  await using docs = startMetadataServer();
  docs.serveClient("/big.json", { padding: "x".repeat(6000) });
  const err = await refused(docs.url("/big.json"), { allowLoopback: true, caCerts: [TEST_CA] });
  assertEquals(err.code, "too_large");
  docs.serveClient("/ok.json", { padding: "x".repeat(4000) });
  const ok = await fetchClientDocument(new URL(docs.url("/ok.json")), {
    allowLoopback: true,
    caCerts: [TEST_CA],
  });
  assertEquals(JSON.parse(ok.body).padding.length, 4000);
});

Deno.test("fetchClientDocument() refuses a certificate it does not trust", async () => {
  await using docs = startMetadataServer();
  docs.serveClient("/client.json");
  const err = await refused(docs.url("/client.json"), { allowLoopback: true });
  assertEquals(err.code, "unreachable");
});

Deno.test("fetchClientDocument() gives up after its timeout", async () => {
  const slow = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async () => {
    await new Promise((r) => setTimeout(r, 1500));
    return new Response("{}");
  });
  try {
    const err = await refused(`http://localhost:${slow.addr.port}/slow.json`, {
      allowLoopback: true,
      timeoutMs: 300,
    });
    assertEquals(err.code, "unreachable");
    assertStringIncludes(err.message, "timed out");
  } finally {
    await slow.shutdown();
  }
});

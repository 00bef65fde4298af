/**
 * A seeded, bounded property test of the whole HTTP surface: a few hundred requests mixing every
 * endpoint, method, content type, header and body shape we could think of (broken multipart, invalid
 * UTF-8, deep JSON, oversized fields, repeated parameters, bearer tokens real and forged), against a
 * real server over real HTTP. The properties: no answer is a 5xx, and every error on an API path has a
 * JSON body. FUZZ_SEED and FUZZ_COUNT reproduce or widen a run; FUZZ_SUMMARY=path writes the counts.
 */
import { assert, assertEquals } from "@std/assert";
import { errorFormatFor } from "../routes/error_format.ts";
import { signIn } from "./helpers/oauth.ts";
import { startTestServer } from "./helpers/server.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261207);
const COUNT = Number(Deno.env.get("FUZZ_COUNT") ?? 400);

/** mulberry32: a tiny seeded PRNG, so a failing run can be replayed exactly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PATHS = [
  "/register",
  "/token",
  "/revoke",
  "/authorize",
  "/callback",
  "/callback/organization",
  "/account",
  "/account/revoke",
  "/account/signout",
  "/mcp",
  "/sse",
  "/messages",
  "/healthz",
  "/",
  "/.well-known/oauth-authorization-server",
  "/.well-known/oauth-protected-resource/mcp",
  "/.well-known/nope",
  "/user_management/authenticate",
  "/user_management/sessions/logout",
  "/nope",
  "/%ff%fe",
  "/mcp/../token",
];
const NATURAL: Record<string, string> = {
  "/register": "POST",
  "/token": "POST",
  "/revoke": "POST",
  "/callback/organization": "POST",
  "/account/revoke": "POST",
  "/account/signout": "POST",
  "/mcp": "POST",
  "/messages": "POST",
  "/user_management/authenticate": "POST",
};
const METHODS = ["GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
const TYPES = [
  "application/json",
  "application/x-www-form-urlencoded",
  "multipart/form-data",
  "multipart/form-data; boundary=XYZ",
  "text/plain",
  "application/json; charset=latin1",
  "",
  "garbage/;;;",
];
const PARAMS = [
  "client_id",
  "redirect_uri",
  "response_type",
  "code_challenge",
  "code_challenge_method",
  "state",
  "scope",
  "resource",
  "grant_type",
  "code",
  "code_verifier",
  "refresh_token",
  "token",
  "sessionId",
  "request_id",
  "csrf_token",
  "decision",
  "session_id",
  "return_to",
];

Deno.test("fuzz: hundreds of hostile requests across every endpoint, no 5xx, JSON errors on API paths", async () => {
  await using server = await startTestServer();
  const { accessToken, clientId } = await signIn(server.url, "alice@example.com");
  const random = prng(SEED);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const chance = (p: number) => random() < p;
  const text = (max: number): string => {
    const n = Math.floor(random() * max);
    const alphabet = ["a", "é", "💥", "%", "&", "=", "\u0000", "<", '"', " ", "\n", "ÿ"];
    return Array.from({ length: n }, () => pick(alphabet)).join("");
  };
  // Header values are byte strings: Latin-1 without control characters.
  const headerText = () => pick(["%zz", "ÿé", "a".repeat(5000), '"; ,', "x"]);
  const value = (): string =>
    pick([
      () => text(40),
      () => "x".repeat(pick([100, 3000, 40_000])),
      () => clientId,
      () => "http://127.0.0.1:9/callback",
      () => "https://evil.example/cb",
      () => "javascript:alert(1)",
      () => "code",
      () => "S256",
      () => "authorization_code",
      () => `${server.url}/mcp`,
    ])();
  const json = (depth: number): unknown =>
    depth <= 0 ? value() : pick([
      () => ({ [pick(PARAMS)]: json(depth - 1), jsonrpc: "2.0", id: 1, method: text(10) }),
      () => [json(depth - 1), json(depth - 1)],
      () => value(),
      () => null,
      () => Math.floor(random() * 1e9),
      () => ({
        jsonrpc: "2.0",
        id: 1,
        method: pick(["initialize", "tools/call", "tools/list", "ping", "resources/read"]),
        params: {
          protocolVersion: pick(["2025-06-18", "2024-11-05", "1999-01-01"]),
          clientInfo: { name: value(), version: value() },
          capabilities: chance(0.2) ? { experimental: { x: { y: "z".repeat(70_000) } } } : {},
          name: pick(["add", "generateImage", "nope"]),
          arguments: { a: json(depth - 1), b: 2 },
        },
      }),
      () => ({ redirect_uris: [value(), value()], client_name: value(), scope: value() }),
    ])();
  const deep = (n: number): string => "[".repeat(n) + "]".repeat(n);
  const body = (type: string): BodyInit => {
    if (type.startsWith("multipart") && chance(0.5)) {
      return `--XYZ\r\nContent-Disposition: form-data; name="${
        pick(PARAMS)
      }"\r\n\r\n${value()}\r\n--XYZ--\r\n`;
    }
    return pick<() => BodyInit>([
      () => JSON.stringify(json(3)),
      () => new URLSearchParams(PARAMS.filter(() => chance(0.4)).map((k) => [k, value()])),
      () => `${pick(PARAMS)}=1&${pick(PARAMS)}=2&${pick(PARAMS)}=1&${pick(PARAMS)}=1`,
      () => crypto.getRandomValues(new Uint8Array(Math.floor(random() * 2000))),
      () => new Uint8Array([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28]), // invalid UTF-8
      () => deep(pick([10, 5000])),
      () => "x".repeat(pick([10, 20_000, 70_000])),
      () => "",
    ])();
  };

  const statuses = new Map<number, number>();
  let apiErrors = 0;
  let upstream = 0;
  for (let i = 0; i < COUNT; i++) {
    const path = pick(PATHS);
    // Mostly the method the endpoint serves, so requests get past routing; sometimes any other.
    const method = chance(0.7) ? NATURAL[path] ?? "GET" : pick(METHODS);
    const url = new URL(path, server.url);
    for (const name of PARAMS.filter(() => chance(0.25))) {
      // Query strings stay under the 8 KiB most clients and proxies allow; bodies carry the big values.
      url.searchParams.append(name, value().slice(0, 3000));
      if (chance(0.1)) url.searchParams.append(name, value().slice(0, 100)); // repeated
    }
    const headers = new Headers();
    const type = pick(TYPES);
    if (type) headers.set("content-type", type);
    if (chance(0.5)) {
      headers.set(
        "authorization",
        pick([`Bearer ${accessToken}`, "Bearer forged", "Basic !!!", `Basic ${btoa("a:b")}`]),
      );
    }
    if (chance(0.3)) headers.set("accept", pick(["text/html", "text/event-stream", "*/*"]));
    if (chance(0.2)) headers.set("origin", pick([server.url, "https://evil.example", "null"]));
    if (chance(0.2)) headers.set("mcp-session-id", pick(["x", "a".repeat(40), headerText()]));
    if (chance(0.2)) headers.set("mcp-protocol-version", pick(["2025-06-18", "2099-01-01"]));
    if (chance(0.1)) headers.set("cookie", `__Host-mcp-csrf=${headerText()}; __Host-mcp-consent=x`);
    const hasBody = method !== "GET" && method !== "OPTIONS" && chance(0.9);
    const label = `#${i} seed ${SEED}: ${method} ${url.pathname}${
      url.search.slice(0, 80)
    } (${type})`;
    const sent = hasBody ? body(type) : undefined;
    const controller = new AbortController();
    const res = await fetch(url, {
      method,
      headers,
      redirect: "manual",
      signal: controller.signal,
      ...(sent === undefined ? {} : { body: sent }),
    });
    if (res.status === 503 && namesMetadataDocument(url, sent)) {
      // A client_id that is an https URL names a client metadata document; its host cannot be
      // reached from here, which is answered 503 on purpose (the client's host may be back later),
      // naming the cause. Anything else at 5xx fails below.
      const text = await res.text();
      assert(/upstream_unavailable|temporarily_unavailable/.test(text), `${label}: ${text}`);
      upstream++;
      continue;
    }
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (res.status >= 500) {
      throw new Error(`${label} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    }
    const resType = res.headers.get("content-type") ?? "";
    if (resType.startsWith("text/event-stream")) {
      controller.abort(); // an open stream (GET /sse, GET /mcp): enough that it opened
      await res.body?.cancel().catch(() => {});
      continue;
    }
    const format = errorFormatFor(url.pathname, headers.get("accept"));
    const browserish = url.pathname.startsWith("/user_management/") &&
      (headers.get("accept") ?? "").includes("text/html");
    if (res.status >= 400 && format !== "page" && !browserish) {
      apiErrors++;
      assert(resType.includes("application/json"), `${label} answered ${res.status} as ${resType}`);
      JSON.parse(await res.text()); // throws when the body is not JSON
    } else {
      await res.body?.cancel();
    }
  }
  const summary = {
    seed: SEED,
    requests: COUNT,
    apiErrorsCheckedAsJson: apiErrors,
    unreachableMetadataDocuments: upstream,
    statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
  };
  const out = Deno.env.get("FUZZ_SUMMARY");
  if (out) await Deno.writeTextFile(out, JSON.stringify(summary, null, 2));
  // The run reached more than the front door: successes and several kinds of refusal.
  assert([...statuses.keys()].some((s) => s < 300), JSON.stringify(summary));
  assert(new Set([...statuses.keys()].filter((s) => s >= 400)).size >= 5, JSON.stringify(summary));
  assertEquals([...statuses.keys()].filter((s) => s >= 500), []);
});

/** Whether a request names its client by an https URL (a client ID metadata document). */
function namesMetadataDocument(url: URL, sent: BodyInit | undefined): boolean {
  const ids = url.searchParams.getAll("client_id");
  if (sent instanceof URLSearchParams) ids.push(...sent.getAll("client_id"));
  if (typeof sent === "string") {
    ids.push(...new URLSearchParams(sent).getAll("client_id"));
    if (sent.includes("client_id") && sent.includes("https://")) ids.push("https://");
  }
  return ids.some((id) => id.startsWith("https://"));
}

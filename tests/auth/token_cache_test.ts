/**
 * The verified-token cache: what it remembers, for how long, and that a revocation reaches a second
 * instance within TOKEN_CACHE_MS (and the revoking instance at once).
 *
 * @module
 */
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { Sealer } from "../../auth/crypto.ts";
import { type Grant, GrantStore } from "../../auth/grants.ts";
import {
  forgetOnRevoke,
  TOKEN_CACHE_MAX,
  TOKEN_CACHE_MS,
  TokenCache,
  type VerifiedToken,
} from "../../auth/token_cache.ts";
import { postForm, signIn } from "../helpers/oauth.ts";
import { startTwins } from "../helpers/twins.ts";

const T0 = 1_760_000_000_000;

function testKey(): Promise<CryptoKey> {
  return crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

function verified(grantId = "grant_1", tokenExpiresAt = T0 + 600_000): VerifiedToken {
  return {
    token: { grantId, clientId: "client_1", resource: null, scopes: [], expiresAt: tokenExpiresAt },
    grant: { id: grantId, expiresAt: T0 + 86_400_000 } as Grant,
  };
}

/** A store that answers from `answers` and counts lookups. */
function store(answers: Record<string, VerifiedToken | null>) {
  const calls: string[] = [];
  return {
    calls,
    verifyAccessToken: (token: string) => {
      calls.push(token);
      return Promise.resolve(answers[token] ?? null);
    },
  };
}

Deno.test("TokenCache.verify() reads KV once per TOKEN_CACHE_MS for a good token", async () => {
  let now = T0;
  const tokens = store({ good: verified() });
  const cache = new TokenCache(tokens, { now: () => now });
  assertEquals(await cache.verify("good"), verified());
  now += TOKEN_CACHE_MS - 1;
  assertEquals(await cache.verify("good"), verified());
  assertEquals(tokens.calls, ["good"]);
  now += 1;
  await cache.verify("good");
  assertEquals(tokens.calls, ["good", "good"], "read again once the bound is reached");
});

Deno.test("TokenCache.verify() never remembers a refused token", async () => {
  const tokens = store({});
  const cache = new TokenCache(tokens, { now: () => T0 });
  assertEquals(await cache.verify("bad"), null);
  assertEquals(await cache.verify("bad"), null);
  assertEquals(tokens.calls, ["bad", "bad"]);
  assertEquals(cache.size, 0);
});

Deno.test("TokenCache.verify() never serves a token past its own expiry", async () => {
  let now = T0;
  const tokens = store({ short: verified("grant_1", T0 + 500) });
  const cache = new TokenCache(tokens, { now: () => now });
  await cache.verify("short");
  now = T0 + 500;
  await cache.verify("short");
  assertEquals(tokens.calls, ["short", "short"]);
});

Deno.test("TokenCache forgets a token, a grant's tokens, and the oldest beyond TOKEN_CACHE_MAX", async () => {
  const answers: Record<string, VerifiedToken> = { a: verified("grant_a"), b: verified("grant_b") };
  const tokens = store(answers);
  const cache = new TokenCache(tokens, { now: () => T0 });
  await cache.verify("a");
  await cache.verify("b");
  cache.forgetGrant("grant_a");
  cache.forget("b");
  assertEquals(cache.size, 0);
  for (let i = 0; i <= TOKEN_CACHE_MAX; i++) cache.remember(`t${i}`, verified());
  assertEquals(cache.size, TOKEN_CACHE_MAX);
  tokens.calls.length = 0;
  await cache.verify("t0");
  assertEquals(tokens.calls, ["t0"], "the oldest was forgotten");
});

Deno.test("TokenCache with ttlMs 0 remembers nothing; a bad ttlMs is refused", async () => {
  const tokens = store({ good: verified() });
  const cache = new TokenCache(tokens, { ttlMs: 0, now: () => T0 });
  await cache.verify("good");
  await cache.verify("good");
  assertEquals(tokens.calls.length, 2);
  assertThrows(() => new TokenCache(tokens, { ttlMs: -1 }), RangeError, '"ttlMs"');
});

Deno.test("forgetOnRevoke() forgets before and after a grant revocation, even a failing one", async () => {
  const tokens = store({ good: verified("grant_1") });
  const cache = new TokenCache(tokens, { now: () => T0 });
  // A real GrantStore whose KV fails the deletion.
  using kv = await Deno.openKv(":memory:");
  const failing = {
    get: kv.get.bind(kv),
    list: kv.list.bind(kv),
    atomic: () => {
      const op = kv.atomic();
      op.commit = () => Promise.reject(new Error("KV is down"));
      return op;
    },
  } as unknown as Deno.Kv;
  const grants = new GrantStore(failing, new Sealer([await testKey()]));
  let accessListener: ((token: string) => void) | undefined;
  forgetOnRevoke(cache, grants, { onAccessTokenRevoked: (l) => void (accessListener = l) });
  await cache.verify("good");
  let sizeDuring = -1;
  grants.onRevoke(() => {
    if (sizeDuring === -1) sizeDuring = cache.size;
  });
  await assertRejects(() => grants.revoke("grant_1"), Error, "KV is down");
  assertEquals(sizeDuring, 0, "forgotten before the deletion");
  assertEquals(cache.size, 0);
  await cache.verify("good");
  accessListener!("good");
  assertEquals(cache.size, 0);
});

Deno.test("a token revoked on one instance stops working on another within TOKEN_CACHE_MS", async () => {
  let offset = 0;
  await using twins = await startTwins({}, {}, { nowB: () => Date.now() + offset });
  const { accessToken, refreshToken, clientId } = await signIn(twins.url, "bob@example.com");
  const list = () =>
    new Request(`${twins.url}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${accessToken}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/list",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/list",
        params: {
          _meta: {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": { name: "t", version: "1" },
            "io.modelcontextprotocol/clientCapabilities": {},
          },
        },
      }),
    });
  const status = async (res: Promise<Response>) => {
    const r = await res;
    await r.body?.cancel();
    return r.status;
  };
  assertEquals(await status(twins.fetchB(list())), 200, "b verified and remembered the token");

  // Revoking the refresh token revokes the whole grant (RFC 7009 §2.1), on instance a.
  const revoked = await postForm(twins.url, "/revoke", {
    token: refreshToken,
    client_id: clientId,
  });
  assertEquals(revoked.status, 200);
  assertEquals(await status(fetch(list())), 401, "the revoking instance refuses at once");
  assertEquals(
    await status(twins.fetchB(list())),
    200,
    "b still trusts its memory within the bound",
  );
  offset = TOKEN_CACHE_MS;
  assertEquals(await status(twins.fetchB(list())), 401, "b refuses once the bound has passed");
});

Deno.test("TokenCache.peek() answers from memory only, within the same bounds", async () => {
  let now = T0;
  const tokens = store({ good: verified() });
  const cache = new TokenCache(tokens, { now: () => now });
  assertEquals(cache.peek("good"), undefined);
  await cache.verify("good");
  assertEquals(cache.peek("good"), verified());
  now += TOKEN_CACHE_MS;
  assertEquals(cache.peek("good"), undefined);
  assertEquals(cache.size, 0);
  assertEquals(tokens.calls, ["good"]);
});

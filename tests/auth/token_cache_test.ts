/**
 * The verified-token cache: what it remembers, for how long, that the grant is read on every request,
 * and, across two instances on one KV, that a revoked access token stops working on the other instance
 * within TOKEN_CACHE_MS while a revoked grant stops everywhere at once.
 *
 * @module
 */
import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import type { Grant } from "../../auth/grants.ts";
import {
  forgetOnRevoke,
  TOKEN_CACHE_MAX,
  TOKEN_CACHE_MS,
  TokenCache,
  type VerifiedToken,
} from "../../auth/token_cache.ts";
import { postForm, signIn } from "../helpers/oauth.ts";
import { startTwins, type Twins } from "../helpers/twins.ts";

const T0 = 1_760_000_000_000;

function grant(id: string, permissions: string[] = []): Grant {
  return { id, expiresAt: T0 + 86_400_000, permissions } as unknown as Grant;
}

function verified(grantId = "grant_1", tokenExpiresAt = T0 + 600_000): VerifiedToken {
  return {
    token: { grantId, clientId: "client_1", resource: null, scopes: [], expiresAt: tokenExpiresAt },
    grant: grant(grantId),
  };
}

/** Token and grant stores answering from memory and counting lookups. */
function stores(answers: Record<string, VerifiedToken | null>) {
  const calls: string[] = [];
  const grants = new Map<string, Grant>(
    Object.values(answers).flatMap((v) => (v ? [[v.grant.id, v.grant] as const] : [])),
  );
  return {
    calls,
    grants,
    tokens: {
      verifyAccessToken: (token: string) => {
        calls.push(token);
        return Promise.resolve(answers[token] ?? null);
      },
    },
    grantStore: { get: (id: string) => Promise.resolve(grants.get(id) ?? null) },
  };
}

Deno.test("TokenCache.verify() reads a good token's record once per TOKEN_CACHE_MS", async () => {
  let now = T0;
  const s = stores({ good: verified() });
  const cache = new TokenCache(s.tokens, s.grantStore, { now: () => now });
  assertEquals(await cache.verify("good"), verified());
  now += TOKEN_CACHE_MS - 1;
  assertEquals(await cache.verify("good"), verified());
  assertEquals(s.calls, ["good"]);
  now += 1;
  await cache.verify("good");
  assertEquals(s.calls, ["good", "good"], "read again once the bound is reached");
});

Deno.test("TokenCache.verify() reads the grant every time: changes and revocations show at once", async () => {
  const s = stores({ good: verified() });
  const cache = new TokenCache(s.tokens, s.grantStore, { now: () => T0 });
  await cache.verify("good");
  s.grants.set("grant_1", grant("grant_1", ["image_generation"]));
  assertEquals((await cache.verify("good"))?.grant.permissions, ["image_generation"]);
  s.grants.delete("grant_1");
  assertEquals(await cache.verify("good"), null);
  assertEquals(cache.size, 0, "a token of a revoked grant is forgotten");
});

Deno.test("TokenCache.verify() never remembers a refused token", async () => {
  const s = stores({});
  const cache = new TokenCache(s.tokens, s.grantStore, { now: () => T0 });
  assertEquals(await cache.verify("bad"), null);
  assertEquals(await cache.verify("bad"), null);
  assertEquals(s.calls, ["bad", "bad"]);
  assertEquals(cache.size, 0);
});

Deno.test("TokenCache.verify() never serves a token past its own expiry", async () => {
  let now = T0;
  const s = stores({ short: verified("grant_1", T0 + 500) });
  const cache = new TokenCache(s.tokens, s.grantStore, { now: () => now });
  await cache.verify("short");
  now = T0 + 500;
  await cache.verify("short");
  assertEquals(s.calls, ["short", "short"]);
});

Deno.test("TokenCache forgets a token, a grant's tokens, and the oldest beyond TOKEN_CACHE_MAX", async () => {
  const s = stores({ a: verified("grant_a"), b: verified("grant_b") });
  const cache = new TokenCache(s.tokens, s.grantStore, { now: () => T0 });
  await cache.verify("a");
  await cache.verify("b");
  cache.forgetGrant("grant_a");
  cache.forget("b");
  assertEquals(cache.size, 0);
  for (let i = 0; i <= TOKEN_CACHE_MAX; i++) cache.remember(`t${i}`, verified("grant_a").token);
  assertEquals(cache.size, TOKEN_CACHE_MAX);
  s.calls.length = 0;
  await cache.verify("t0");
  assertEquals(s.calls, ["t0"], "the oldest was forgotten");
});

Deno.test("TokenCache with ttlMs 0 remembers nothing; a bad ttlMs is refused", async () => {
  const s = stores({ good: verified() });
  const cache = new TokenCache(s.tokens, s.grantStore, { ttlMs: 0, now: () => T0 });
  await cache.verify("good");
  await cache.verify("good");
  assertEquals(s.calls.length, 2);
  assertThrows(() => new TokenCache(s.tokens, s.grantStore, { ttlMs: -1 }), RangeError, '"ttlMs"');
});

Deno.test("forgetOnRevoke() forgets before and after a grant revocation, even a failing one", async () => {
  const s = stores({ good: verified("grant_1") });
  const cache = new TokenCache(s.tokens, s.grantStore, { now: () => T0 });
  const grants = { revoke: (_id: string) => Promise.reject(new Error("KV is down")) };
  const tokens = {
    revoke: (_token: string, _clientId: string) => Promise.resolve<"access" | null>("access"),
  };
  forgetOnRevoke(cache, grants, tokens);
  await cache.verify("good");
  await assertRejects(() => grants.revoke("grant_1"), Error, "KV is down");
  assertEquals(cache.size, 0);
  await cache.verify("good");
  await tokens.revoke("good", "client_1");
  assertEquals(cache.size, 0);
});

function toolsList(twins: Twins, token: string): Request {
  return new Request(`${twins.url}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
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
}

async function status(res: Promise<Response>): Promise<number> {
  const r = await res;
  await r.body?.cancel();
  return r.status;
}

Deno.test("an access token revoked on one instance stops working on another within TOKEN_CACHE_MS", async () => {
  let offset = 0;
  await using twins = await startTwins({}, {}, { nowB: () => Date.now() + offset });
  const { accessToken, clientId } = await signIn(twins.url, "bob@example.com");
  assertEquals(await status(twins.fetchB(toolsList(twins, accessToken))), 200, "b remembers it");

  const revoked = await postForm(twins.url, "/revoke", { token: accessToken, client_id: clientId });
  assertEquals(revoked.status, 200);
  assertEquals(await status(fetch(toolsList(twins, accessToken))), 401, "a refuses at once");
  assertEquals(
    await status(twins.fetchB(toolsList(twins, accessToken))),
    200,
    "b may still accept it within the bound",
  );
  offset = TOKEN_CACHE_MS;
  assertEquals(await status(twins.fetchB(toolsList(twins, accessToken))), 401, "b refuses after");
});

Deno.test("a grant revoked on one instance stops working on another at once", async () => {
  await using twins = await startTwins();
  const { accessToken, refreshToken, clientId } = await signIn(twins.url, "bob@example.com");
  assertEquals(await status(twins.fetchB(toolsList(twins, accessToken))), 200, "b remembers it");
  // Revoking the refresh token revokes the whole grant (RFC 7009 §2.1).
  const revoked = await postForm(twins.url, "/revoke", {
    token: refreshToken,
    client_id: clientId,
  });
  assertEquals(revoked.status, 200);
  assertEquals(await status(twins.fetchB(toolsList(twins, accessToken))), 401);
});

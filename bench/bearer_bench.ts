/**
 * The bearer check alone (token lookup + permission check), cache warm, against baselines measured in
 * the same run (`deno task bench`):
 * - `requireBearer` on a Hono route vs the same route without it (what the check adds to a request);
 * - `TokenCache.verify()` + the permission check vs a bare `Map.get` (the lookup itself);
 * - a cold lookup (`TokenStore.verifyAccessToken`: hash and one KV read) for scale.
 *
 * Issue 12's target: the check ≤ 50 µs p50.
 *
 * @module
 */
import { Hono } from "hono";
import { type BearerVariables, requireBearer } from "../auth/bearer.ts";
import { deriveKeys } from "../auth/crypto.ts";
import { GrantStore } from "../auth/grants.ts";
import { TokenCache } from "../auth/token_cache.ts";
import { TokenStore } from "../auth/tokens.ts";
import { setQuiet } from "../lib/log.ts";
import { startServer } from "../app/serve.ts";
import { missingPermissions } from "../mcp/permissions.ts";
import { generateImage } from "../mcp/tools/generate_image.ts";
import { signIn } from "../tests/helpers/oauth.ts";

setQuiet(true);
const kv = await Deno.openKv(":memory:");
const server = await startServer({ env: { PORT: "0", HOSTNAME: "127.0.0.1" }, kv });
const { accessToken } = await signIn(server.url, "alice@example.com");
const { sealer } = await deriveKeys(server.config.cookieEncryptionKey);
const store = new TokenStore(server.kv, new GrantStore(server.kv, sealer), { sealer });
const cache = new TokenCache(store, { ttlMs: 60 * 60 * 1000 }); // warm for the whole run
const mcpUrl = `${server.url}/mcp`;

const bare = new Hono();
bare.get("/mcp", (c) => c.body(null, 204));
const guarded = new Hono<{ Variables: BearerVariables }>();
guarded.use(
  "/mcp",
  requireBearer({
    tokens: store,
    cache,
    resources: [mcpUrl],
    resourceMetadataUrl: `${server.url}/.well-known/oauth-protected-resource/mcp`,
  }),
);
guarded.get(
  "/mcp",
  (c) => c.body(null, missingPermissions(generateImage, c.var.identity).length === 0 ? 204 : 403),
);
const request = () => new Request(mcpUrl, { headers: { authorization: `Bearer ${accessToken}` } });
const warm = await guarded.fetch(request());
if (warm.status !== 204) throw new Error(`bearer check refused the token: ${warm.status}`);

Deno.bench(
  { name: "route without bearer check (baseline)", group: "route", baseline: true },
  async () => {
    await bare.fetch(request());
  },
);
Deno.bench({ name: "route with bearer check, cache warm", group: "route" }, async () => {
  const res = await guarded.fetch(request());
  if (res.status !== 204) throw new Error(`status ${res.status}`);
});

const map = new Map([[accessToken, 1]]);
Deno.bench({ name: "Map.get (baseline)", group: "lookup", baseline: true }, () => {
  if (map.get(accessToken) !== 1) throw new Error("missing");
});
Deno.bench({ name: "TokenCache.verify() + permission check, warm", group: "lookup" }, async () => {
  const found = await cache.verify(accessToken);
  if (!found || missingPermissions(generateImage, found.grant).length > 0) {
    throw new Error("refused");
  }
});
Deno.bench(
  { name: "TokenStore.verifyAccessToken() (cold: hash + KV)", group: "lookup" },
  async () => {
    if (!(await store.verifyAccessToken(accessToken))) throw new Error("refused");
  },
);

globalThis.addEventListener("unload", () => {
  void server.close();
});

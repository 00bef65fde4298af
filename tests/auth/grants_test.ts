/**
 * GrantStore is the one writer and reader of grant records: issuing tokens extends a grant inside the
 * caller's atomic operation, updates retry on concurrent writes, and no module outside auth/grants.ts
 * builds a grant key.
 */
import { assert, assertEquals, assertRejects } from "@std/assert";
import { deriveKeys } from "../../auth/crypto.ts";
import { type Grant, GRANT_TTL_MS, GrantStore, readGrants } from "../../auth/grants.ts";
import { keys } from "../../lib/kv_keys.ts";

const UPSTREAM = {
  userId: "user_1",
  email: "alice@example.com",
  name: null,
  organizationId: null,
  role: null,
  roles: [],
  permissions: ["a"],
  sessionId: "session_1",
};

/** A one-minute grant of client `mcp_1`. */
function newGrant(grants: GrantStore) {
  return grants.create(
    {
      upstream: UPSTREAM,
      upstreamRefreshToken: "rt",
      clientId: "mcp_1",
      scopes: [],
      resource: null,
    },
    60_000,
  );
}

async function store(now: () => number) {
  const kv = await Deno.openKv(":memory:");
  const { sealer } = await deriveKeys("g".repeat(64));
  const grants = new GrantStore(kv, sealer, now);
  const grant = await newGrant(grants);
  return { kv, grants, grant };
}

Deno.test("GrantStore.extendIn() extends the grant and its user index in the caller's commit", async () => {
  let now = 1_000_000;
  const { kv, grants, grant } = await store(() => now);
  try {
    now += 5_000;
    const entry = await grants.getEntry(grant.id) as Deno.KvEntry<Grant>;
    const op = kv.atomic().set(["other"], 1);
    const extended = grants.extendIn(op, entry, now);
    assertEquals((await grants.get(grant.id))!.expiresAt, grant.expiresAt); // nothing before commit
    assert((await op.commit()).ok);
    assertEquals([extended.expiresAt, extended.lastUsedAt], [now + GRANT_TTL_MS, now]);
    assertEquals(await grants.get(grant.id), extended);
    assertEquals((await grants.listForUser("user_1")).map((g) => g.id), [grant.id]);
    assertEquals((await kv.get(["other"])).value, 1);
  } finally {
    kv.close();
  }
});

Deno.test("GrantStore.extendIn() fails the whole commit when the grant changed or was revoked", async () => {
  const now = 1_000_000;
  const { kv, grants, grant } = await store(() => now);
  try {
    const stale = await grants.getEntry(grant.id) as Deno.KvEntry<Grant>;
    await grants.updatePermissions(grant.id, ["b"]);
    const op = kv.atomic().set(["other"], 1);
    grants.extendIn(op, stale, now);
    assertEquals((await op.commit()).ok, false);
    assertEquals((await kv.get(["other"])).value, null);

    const fresh = await grants.getEntry(grant.id) as Deno.KvEntry<Grant>;
    await grants.revoke(grant.id);
    const after = kv.atomic();
    grants.extendIn(after, fresh, now);
    assertEquals((await after.commit()).ok, false);
    assertEquals(await grants.get(grant.id), null);
  } finally {
    kv.close();
  }
});

/**
 * A KV handle whose next `interfere` commits are each preceded by another writer changing grant `id`,
 * so the versionstamp the committer read is stale by the time it commits.
 */
function interfering(kv: Deno.Kv, state: { id: string; interfere: number }): Deno.Kv {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = async () => {
            if (state.interfere > 0) {
              state.interfere--;
              const current = await target.get<Grant>(keys.grant(state.id));
              await target.set(keys.grant(state.id), {
                ...current.value!,
                name: crypto.randomUUID(),
              });
            }
            return await commit();
          };
          return op;
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function interferedStore(now: () => number) {
  const kv = await Deno.openKv(":memory:");
  const { sealer } = await deriveKeys("g".repeat(64));
  const state = { id: "", interfere: 0 };
  const grants = new GrantStore(interfering(kv, state), sealer, now);
  const grant = await newGrant(grants);
  state.id = grant.id;
  return { kv, grants, grant, state };
}

Deno.test("GrantStore.update() retries over a concurrent write and keeps both changes", async () => {
  const { kv, grants, grant, state } = await interferedStore(() => 1_000_000);
  try {
    state.interfere = 2;
    let calls = 0;
    const updated = await grants.update(grant.id, (g) => {
      calls++;
      return { ...g, role: "admin" };
    });
    assertEquals(calls, 3);
    const stored = await grants.get(grant.id);
    assertEquals(stored, updated);
    assertEquals(stored?.role, "admin");
    assert(stored?.name !== null); // the other writer's change survived
  } finally {
    kv.close();
  }
});

Deno.test("GrantStore.update() answers null for a revoked or expired grant and writes nothing", async () => {
  let now = 1_000_000;
  const { kv, grants, grant } = await store(() => now);
  try {
    now += 60_000; // the grant's 60 s are over
    assertEquals(await grants.update(grant.id, (g) => ({ ...g, role: "x" })), null);
    assertEquals((await grants.getEntry(grant.id)).value?.role, null);
    now -= 60_000;
    await grants.revoke(grant.id);
    assertEquals(await grants.update(grant.id, (g) => ({ ...g, role: "x" })), null);
    assertEquals((await grants.getEntry(grant.id)).value, null);
  } finally {
    kv.close();
  }
});

Deno.test("GrantStore.update() gives up after its attempts when the grant keeps changing", async () => {
  const { kv, grants, grant, state } = await interferedStore(() => 1_000_000);
  try {
    state.interfere = 2;
    await assertRejects(
      () => grants.update(grant.id, (g) => ({ ...g, role: "admin" }), 2),
      Error,
      "kept changing concurrently",
    );
    assertEquals((await grants.get(grant.id))?.role, null);
  } finally {
    kv.close();
  }
});

Deno.test("GrantStore.readWith() reads a record and the live grant together", async () => {
  let now = 1_000_000;
  const { kv, grants, grant } = await store(() => now);
  try {
    await kv.set(["token"], "t");
    const [entry, live] = await grants.readWith<string>(["token"], grant.id);
    assertEquals([entry.value, live?.id], ["t", grant.id]);
    now += 60_000;
    assertEquals((await grants.readWith<string>(["token"], grant.id))[1], null);
    assertEquals((await readGrants(kv, [grant.id, "grant_none"])).map((g) => g?.id ?? null), [
      grant.id,
      null,
    ]);
  } finally {
    kv.close();
  }
});

Deno.test("no module outside auth/grants.ts builds a grant key (tests and benches may read)", async () => {
  const output = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.ts"],
    cwd: new URL("../../", import.meta.url),
    stdout: "piped",
  }).output();
  const files = new TextDecoder().decode(output.stdout).split("\0").filter((path) =>
    path.endsWith(".ts") && !/^(tests|bench)\//.test(path) &&
    !["auth/grants.ts", "lib/kv_keys.ts"].includes(path)
  );
  assert(files.includes("auth/tokens.ts")); // not vacuous
  const offenders: string[] = [];
  for (const path of files) {
    let text: string;
    try {
      text = await Deno.readTextFile(new URL(`../../${path}`, import.meta.url));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    if (/keys\.(grant|userGrant|grants|userGrants)\(/.test(text)) offenders.push(path);
  }
  assertEquals(offenders, []);
});

/**
 * Noticing a changed COOKIE_ENCRYPTION_KEY at start. A fingerprint of the key is kept in KV; when it
 * differs, every grant's sealed WorkOS refresh token is tried: grants that no configured key opens are
 * ended now (their clients get `invalid_grant`/401 and sign in again, instead of an outage that never
 * ends), and grants sealed with a previous key (COOKIE_ENCRYPTION_KEY_PREVIOUS) are sealed again with the
 * current one, so the previous key can be dropped after the scan. One log line says what happened.
 *
 * @module
 */
import { keys } from "../lib/kv_keys.ts";
import { log } from "../lib/log.ts";
import { type DerivedKeys, SealedValueError, Sealer, sha256 } from "./crypto.ts";
import type { Grant, GrantStore } from "./grants.ts";

/** What a key-change scan did. */
export interface KeyChangeReport {
  /** Whether the key differed from the one KV last saw (false on the first start too). */
  changed: boolean;
  /** Grants ended because no configured key opens them. */
  ended: number;
  /** Grants sealed again with the current key. */
  resealed: number;
}

/** Runs the scan when the key changed since the last start; cheap (one read) when it did not. */
export async function checkKeyChange(
  kv: Deno.Kv,
  grants: GrantStore,
  derived: Pick<DerivedKeys, "cookieSecret" | "sealer" | "encryptionKey">,
): Promise<KeyChangeReport> {
  const fingerprint = await sha256(`key-fingerprint-v1:${derived.cookieSecret}`);
  const stored = await kv.get<string>(keys.keyFingerprint());
  if (stored.value === fingerprint) return { changed: false, ended: 0, resealed: 0 };
  const report = { changed: stored.value !== null, ended: 0, resealed: 0 };
  if (stored.value !== null) {
    const currentOnly = new Sealer([derived.encryptionKey]);
    for await (const id of grants.allIds()) {
      const entry = await grants.getEntry(id);
      const grant = entry.value;
      if (!grant) continue;
      if (await opens(currentOnly, grant)) continue;
      if (await opens(derived.sealer, grant)) {
        if (await grants.reseal(entry as Deno.KvEntry<Grant>)) report.resealed++;
        continue;
      }
      await grants.revoke(id);
      report.ended++;
    }
    if (report.ended > 0) {
      log(
        "warn",
        `${report.ended} grant(s) ended: COOKIE_ENCRYPTION_KEY changed and their sealed WorkOS sessions cannot be opened; their clients will sign in again`,
        {
          ended: report.ended,
          fix:
            "to rotate without logging anyone out, keep the old key in COOKIE_ENCRYPTION_KEY_PREVIOUS",
        },
      );
    }
    if (report.resealed > 0) {
      log("info", `${report.resealed} grant(s) sealed again with the new COOKIE_ENCRYPTION_KEY`, {
        resealed: report.resealed,
      });
    }
  }
  await kv.atomic().check(stored).set(keys.keyFingerprint(), fingerprint).commit();
  return report;
}

async function opens(sealer: Sealer, grant: Grant): Promise<boolean> {
  try {
    await sealer.open(grant.upstreamRefreshToken, grant.id);
    return true;
  } catch (err) {
    if (err instanceof SealedValueError) return false;
    throw err;
  }
}

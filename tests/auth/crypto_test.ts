import { assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import {
  decrypt,
  deriveKeys,
  deriveLogKeyBytes,
  encrypt,
  pseudonym,
  pseudonymSync,
  sha256,
  sha256Sync,
} from "../../auth/crypto.ts";
import { s256, verifyPkce } from "../../auth/pkce.ts";

Deno.test("encrypt() round-trips and refuses a record bound to another id", async () => {
  const { encryptionKey } = await deriveKeys("k".repeat(64));
  const sealed = await encrypt(encryptionKey, "secret-refresh-token", "grant_a");
  assertEquals(await decrypt(encryptionKey, sealed, "grant_a"), "secret-refresh-token");
  await assertRejects(() => decrypt(encryptionKey, sealed, "grant_b"));
  const flipped = sealed.slice(0, -2) + (sealed.endsWith("A") ? "BB" : "AA");
  await assertRejects(() => decrypt(encryptionKey, flipped, "grant_a"));
  assertNotEquals(await encrypt(encryptionKey, "x", "g"), await encrypt(encryptionKey, "x", "g"));
});

Deno.test("deriveKeys() gives a different cookie secret per configured key", async () => {
  const a = await deriveKeys("a".repeat(32));
  const b = await deriveKeys("b".repeat(32));
  assertNotEquals(a.cookieSecret, b.cookieSecret);
  assertEquals(a.cookieSecret, (await deriveKeys("a".repeat(32))).cookieSecret);
  const { encryptionKey } = a;
  const sealed = await encrypt(encryptionKey, "x", "g");
  await assertRejects(() => decrypt(b.encryptionKey, sealed, "g"));
});

Deno.test("verifyPkce() accepts the RFC 7636 example and rejects others", async () => {
  // RFC 7636 Appendix B.
  const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  assertEquals(await s256(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  assertEquals(await verifyPkce(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"), true);
  assertEquals(
    await verifyPkce(verifier + "x", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
    false,
  );
  assertEquals(await verifyPkce("short", await sha256("short")), false);
});

Deno.test("sha256() and sha256Sync() give WebCrypto's SHA-256, base64url without padding", async () => {
  for (const value of ["", "abc", "grant_x.secret", "é✓"]) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
    const expected = new Uint8Array(digest).toBase64({ alphabet: "base64url", omitPadding: true });
    assertEquals(await sha256(value), expected);
    assertEquals(sha256Sync(value), expected);
  }
});

Deno.test("pseudonymSync() with deriveLogKeyBytes() gives the same pseudonyms as pseudonym()", async () => {
  const secret = "a".repeat(64);
  const { logKey } = await deriveKeys(secret);
  const bytes = deriveLogKeyBytes(secret);
  for (const value of ["user_01", "session-abc", ""]) {
    assertEquals(pseudonymSync(bytes, value), await pseudonym(logKey, value));
    assertEquals(pseudonymSync(bytes, value).length, 12);
  }
  assertNotEquals(
    pseudonymSync(deriveLogKeyBytes("b".repeat(64)), "user_01"),
    pseudonymSync(bytes, "user_01"),
  );
});

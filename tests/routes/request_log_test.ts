import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { pseudonymSync } from "../../auth/crypto.ts";
import { MAX_REMEMBERED, Pseudonyms } from "../../routes/request_log.ts";

const KEY = new Uint8Array(32).fill(7);

Deno.test("Pseudonyms gives each id its keyed pseudonym, computed once", () => {
  const pseudonyms = new Pseudonyms(KEY);
  const alice = pseudonyms.of("user_alice");
  assertEquals(alice, pseudonymSync(KEY, "user_alice"));
  assertEquals(pseudonyms.of("user_alice"), alice);
  assertNotEquals(pseudonyms.of("user_bob"), alice);
  assertEquals(pseudonyms.size, 2);
  assert(!alice.includes("alice"));
});

Deno.test("Pseudonyms does not remember client-sent values of another shape (no memory to fill)", () => {
  const pseudonyms = new Pseudonyms(KEY);
  for (let i = 0; i < 100; i++) pseudonyms.of(`${"x".repeat(60_000)}${i}`);
  pseudonyms.of("has spaces and ünïcode");
  pseudonyms.of("a".repeat(65));
  assertEquals(pseudonyms.size, 0);
  // Still a stable pseudonym, of the value's first 256 characters.
  assertEquals(pseudonyms.of("y".repeat(300)), pseudonymSync(KEY, "y".repeat(256)));
});

Deno.test("Pseudonyms holds at most MAX_REMEMBERED ids, then starts over", () => {
  const pseudonyms = new Pseudonyms(KEY);
  for (let i = 0; i < MAX_REMEMBERED; i++) pseudonyms.of(`s${i}`);
  assertEquals(pseudonyms.size, MAX_REMEMBERED);
  pseudonyms.of("one_more");
  assertEquals(pseudonyms.size, 1);
});

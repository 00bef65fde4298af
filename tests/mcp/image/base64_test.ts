import { assertEquals, assertThrows } from "@std/assert";
import { decodeBase64, encodeBase64 } from "../../../mcp/image/_base64.ts";

Deno.test("encodeBase64() matches btoa and round-trips large inputs", () => {
  assertEquals(encodeBase64(new TextEncoder().encode("hello")), btoa("hello"));
  const big = new Uint8Array(100_000).map((_, i) => (i * 31) % 256);
  assertEquals(decodeBase64(encodeBase64(big)), big);
});

Deno.test("decodeBase64() ignores whitespace and rejects invalid input", () => {
  assertEquals(decodeBase64("aGVs\nbG8="), new TextEncoder().encode("hello"));
  assertThrows(() => decodeBase64("abc"), SyntaxError, "Cannot decode base64");
  assertThrows(() => decodeBase64("ab$="), SyntaxError, "Cannot decode base64");
});

import { assertEquals } from "@std/assert";
import { z } from "zod";
import { add } from "../../../mcp/tools/add.ts";
import { makeContext } from "./_context.ts";

Deno.test("add sums two numbers as text", async () => {
  const result = await add.run({ a: 2, b: 40.5 }, makeContext());
  assertEquals(result, { content: [{ type: "text", text: "42.5" }] });
});

Deno.test("add handles negatives and zero", async () => {
  const result = await add.run({ a: -7, b: 0 }, makeContext());
  assertEquals(result.content, [{ type: "text", text: "-7" }]);
});

Deno.test("add schema rejects non-numbers and non-finite numbers", () => {
  const schema = z.object(add.inputSchema);
  assertEquals(schema.safeParse({ a: 1, b: 2 }).success, true);
  assertEquals(schema.safeParse({ a: "1", b: 2 }).success, false);
  assertEquals(schema.safeParse({ a: Infinity, b: 2 }).success, false);
  assertEquals(schema.safeParse({ a: NaN, b: 2 }).success, false);
  assertEquals(schema.safeParse({ a: 1 }).success, false);
});

Deno.test("add requires no permission", () => {
  assertEquals(add.requires, []);
});

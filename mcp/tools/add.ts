/**
 * The `add` tool: adds two numbers. Requires no permission; a smoke test for clients.
 *
 * @module
 */
import { z } from "zod";
import { defineTool } from "../tool.ts";

/** `add`: the sum of two finite numbers `a` and `b` (zod 4 numbers reject ±Infinity and NaN), as text. */
export const add = defineTool({
  name: "add",
  title: "Add two numbers",
  description: "Adds two numbers and returns the sum.",
  requires: [],
  inputSchema: {
    a: z.number().describe("The first addend"),
    b: z.number().describe("The second addend"),
  },
  run({ a, b }) {
    return Promise.resolve({ content: [{ type: "text", text: String(a + b) }] });
  },
});

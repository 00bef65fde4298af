/** The README reads on any screen: no prose line over 120 characters (code blocks and tables aside). */
import { assertEquals } from "@std/assert";

Deno.test("README.md has no line over 120 characters outside code blocks and tables", async () => {
  const text = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  let code = false;
  const long: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.startsWith("```")) code = !code;
    else if (!code && !line.startsWith("|") && [...line].length > 120) {
      long.push(`${i + 1}: ${line}`);
    }
  });
  assertEquals(long, []);
});

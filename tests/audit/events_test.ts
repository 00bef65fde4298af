/**
 * The audit action names, their descriptions, the README that documents them, and `clampDetail`.
 *
 * @module
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  ACTION_DESCRIPTIONS,
  AUDIT_ACTIONS,
  clampDetail,
  MAX_DETAIL_LENGTH,
} from "../../audit/events.ts";

Deno.test("AUDIT_ACTIONS lists every action once, as a stable dotted name", () => {
  assertEquals(AUDIT_ACTIONS.length, 13);
  assertEquals(new Set(AUDIT_ACTIONS).size, AUDIT_ACTIONS.length);
  for (const action of AUDIT_ACTIONS) {
    assert(/^[a-z]+\.[a-z_]+$/.test(action), `Unexpected action name "${action}"`);
    assert(ACTION_DESCRIPTIONS[action].length > 10, `Missing description of "${action}"`);
  }
});

Deno.test("ACTION_DESCRIPTIONS are all documented in audit/README.md", async () => {
  const readme = await Deno.readTextFile(new URL("../../audit/README.md", import.meta.url));
  for (const action of AUDIT_ACTIONS) {
    assertStringIncludes(readme, `| \`${action}\``);
    assertStringIncludes(readme, ACTION_DESCRIPTIONS[action]);
  }
});

Deno.test("clampDetail() flattens control characters and keeps at most 500 characters", () => {
  assertEquals(clampDetail("line 1\nline 2\ttab"), "line 1 line 2 tab");
  assertEquals(clampDetail("é".repeat(600)), "é".repeat(MAX_DETAIL_LENGTH));
  assertEquals(Array.from(clampDetail("😀".repeat(501))).length, MAX_DETAIL_LENGTH);
  assertEquals(clampDetail("short"), "short");
});

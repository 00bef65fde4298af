import { assertEquals } from "@std/assert";
import { allows, missingPermissions, permissionMessage } from "../../mcp/permissions.ts";

const image = { requires: ["image_generation"] };
const both = { requires: ["a", "b"] };
const open = { requires: [] };

Deno.test("allows() wants every required permission; a tool requiring none is open to all", () => {
  assertEquals(allows(image, ["image_generation"]), true);
  assertEquals(allows(image, ["image_generation:read"]), false, "no prefix matching");
  assertEquals(allows(both, ["a"]), false);
  assertEquals(allows(both, ["b", "a", "c"]), true);
  assertEquals(allows(open, []), true);
});

Deno.test("missingPermissions() lists what the caller lacks, in the tool's order", () => {
  assertEquals(missingPermissions(both, { permissions: [] }), ["a", "b"]);
  assertEquals(missingPermissions(both, { permissions: ["b"] }), ["a"]);
  assertEquals(missingPermissions(image, { permissions: ["image_generation"] }), []);
});

Deno.test("permissionMessage() names every missing permission", () => {
  assertEquals(
    permissionMessage("t", ["a"]),
    'Tool "t" requires the permission "a", which you do not have',
  );
  assertEquals(
    permissionMessage("t", ["a", "b"]),
    'Tool "t" requires the permissions "a", "b", which you do not have',
  );
});

import { assertEquals, assertRejects } from "@std/assert";
import { organizationNames } from "../../routes/organization_names.ts";
import { startEmulator } from "../emulator/_harness.ts";

Deno.test("organizationNames() asks WorkOS (GET /organizations/:id) once and serves the name from its cache", async () => {
  await using h = await startEmulator();
  let now = 0;
  const nameOf = organizationNames(h.workos, () => now);
  assertEquals(await nameOf("org_acme"), "Acme Corp");
  // The next WorkOS call would fail; the cached name is served without one.
  h.emulator.failNext(500);
  assertEquals(await nameOf("org_acme"), "Acme Corp");
  await assertRejects(() => h.workos.organizations.getOrganization("org_globex"));
  // After the cache time the name is asked again.
  now += 11 * 60_000;
  h.emulator.failNext(500);
  assertEquals(await nameOf("org_acme"), undefined, "a failed lookup shows the id instead");
  assertEquals(await nameOf("org_acme"), undefined, "a failure is not retried at once");
  now += 2 * 60_000;
  assertEquals(await nameOf("org_acme"), "Acme Corp");
  assertEquals(await nameOf("org_unknown"), undefined);
});

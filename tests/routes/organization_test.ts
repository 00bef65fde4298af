import { assertEquals, assertStringIncludes } from "@std/assert";
import type { Grant } from "../../auth/grants.ts";
import { grantIdOf } from "../../auth/tokens.ts";
import { keys } from "../../lib/kv_keys.ts";
import { forms, ScriptedBrowser } from "../helpers/browser.ts";
import { authorizeUrl, postForm, REDIRECT_URI, register } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

type Server = Awaited<ReturnType<typeof startTestServer>>;

/** Signs carol in, choosing `organizationId` on the picker; resolves to the grant behind her token. */
async function carolIn(server: Server, organizationId: string): Promise<Grant> {
  const client = await register(server.url);
  const { url, verifier } = await authorizeUrl(server.url, client.client_id);
  const browser = new ScriptedBrowser();
  const stopAt = (u: URL) => u.href.startsWith(REDIRECT_URI);
  const consent = await browser.go(url);
  const signInPage = await browser.submit(consent);
  const picker = await browser.submit(signInPage, { email: "carol@example.com" }, { stopAt });
  assertEquals(picker.status, 200);
  assertStringIncludes(picker.body, "Choose an organization");
  assertStringIncludes(picker.body, "Acme Corp");
  assertStringIncludes(picker.body, "Globex");
  assertEquals(picker.headers.get("x-frame-options"), "DENY");
  const index = forms(picker).findIndex((f) => f.fields.organization_id === organizationId);
  const back = await browser.submit(picker, {}, { index, stopAt });
  const code = new URL(back.url).searchParams.get("code")!;
  const tokens = await postForm(server.url, "/token", {
    grant_type: "authorization_code",
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    client_id: client.client_id,
  });
  assertEquals(tokens.status, 200);
  const grantId = grantIdOf(String(tokens.body.access_token))!;
  return (await server.kv.get<Grant>(keys.grant(grantId))).value!;
}

Deno.test("GET /callback lets a user in several organizations choose one; the grant carries that membership", async () => {
  await using server = await startTestServer();
  const acme = await carolIn(server, "org_acme");
  assertEquals(acme.organizationId, "org_acme");
  assertEquals(acme.role, "admin");
  assertEquals(acme.permissions, ["audit_logs:read", "image_generation"]);
  const globex = await carolIn(server, "org_globex");
  assertEquals(globex.organizationId, "org_globex");
  assertEquals(globex.role, "viewer");
  assertEquals(globex.permissions, []);
});

Deno.test("POST /callback/organization refuses a forged choice, a foreign browser and a replay", async () => {
  await using server = await startTestServer();
  const client = await register(server.url);
  const { url } = await authorizeUrl(server.url, client.client_id);
  const browser = new ScriptedBrowser();
  const picker = await browser.submit(await browser.submit(await browser.go(url)), {
    email: "carol@example.com",
  });
  const notAChoice = await browser.submit(picker, { organization_id: "org_other" });
  assertEquals(notAChoice.status, 400);
  // The failed attempt consumed the ticket: the choice cannot be made again.
  const replay = await browser.submit(picker, {}, {
    stopAt: (u) => u.href.startsWith(REDIRECT_URI),
  });
  assertEquals(replay.status, 403);
  const other = new ScriptedBrowser();
  const foreign = await other.submit(picker);
  assertEquals(foreign.status, 403);
});

/**
 * A WorkOS failure at `/callback` reaches the client's (validated) redirect URI, so the MCP client stops
 * waiting: `temporarily_unavailable` for an outage, `access_denied` for a refusal, with `state` and `iss`.
 */
import { assert, assertEquals } from "@std/assert";
import { captureLogs } from "../audit/_logs.ts";
import { ScriptedBrowser } from "../helpers/browser.ts";
import { authorizeUrl, browserSignIn, REDIRECT_URI, register } from "../helpers/oauth.ts";
import { startTestServer } from "../helpers/server.ts";

type Server = Awaited<ReturnType<typeof startTestServer>>;

async function signInWith(server: Server, fault: (s: Server) => void) {
  const client = await register(server.url);
  const { url, state } = await authorizeUrl(server.url, client.client_id);
  fault(server);
  const back = await browserSignIn(new ScriptedBrowser(), url, "alice@example.com");
  return { back, state };
}

for (
  const [name, fault] of [
    ["401 (our credentials refused)", (s: Server) => s.emulator!.failNext(401)],
    ["500", (s: Server) => s.emulator!.failNext(500)],
    ["a stall past WORKOS_TIMEOUT_MS", (s: Server) => s.emulator!.stallNext(800)],
  ] as const
) {
  Deno.test(`WorkOS answering ${name} at /callback sends the client temporarily_unavailable`, async () => {
    using logs = captureLogs();
    await using server = await startTestServer({ WORKOS_TIMEOUT_MS: "300" });
    const { back, state } = await signInWith(server, fault);
    assert(back.url.href.startsWith(REDIRECT_URI));
    assertEquals(back.error, "temporarily_unavailable");
    assertEquals(back.code, null);
    assertEquals(back.state, state);
    assertEquals(back.iss, server.url);
    assert(logs.lines.some((l) => l.msg === "sign-in failed: WorkOS unavailable"));
    if (name.startsWith("401")) {
      assert(logs.lines.some((l) => String(l.check).includes("WORKOS_API_KEY")));
    }
  });
}

Deno.test("WorkOS refusing the sign-in at /callback (an expired code) sends the client access_denied", async () => {
  const start = Date.now();
  let now = start;
  await using server = await startTestServer({}, { now: () => now });
  const client = await register(server.url);
  const { url, state } = await authorizeUrl(server.url, client.client_id);
  const browser = new ScriptedBrowser();
  const consent = await browser.go(url);
  const atAuthKit = await browser.submit(consent);
  now = start - 5 * 60_000; // AuthKit's code is issued "earlier"…
  const atCallback = await browser.submit(atAuthKit, { email: "alice@example.com" }, {
    stopAt: (u) => u.pathname === "/callback",
  });
  now = start + 6 * 60_000; // …so it has expired when we redeem it; our pending sign-in has not.
  const back = await browser.go(atCallback.url, { stopAt: (u) => u.href.startsWith(REDIRECT_URI) });
  const location = new URL(back.url);
  assertEquals(location.searchParams.get("error"), "access_denied");
  assertEquals(location.searchParams.get("state"), state);
  assertEquals(location.searchParams.get("iss"), server.url);
});

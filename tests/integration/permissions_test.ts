/**
 * Integration: permissions follow WorkOS for live clients, over real HTTP with real MCP clients and the
 * full OAuth sign-in against the AuthKit emulator.
 *
 * 1. Taking `image_generation` away from alice in the emulator while her v1 client is connected: within
 *    the freshness bound `generateImage` leaves `tools/list`, her live session gets `list_changed`, and a
 *    direct call is refused; giving it back brings it back.
 * 2. Revoking her WorkOS session: her next refresh fails with `invalid_grant`.
 * 3. Revoking a grant on `/account` ends its live sessions.
 * 4. Every one of those steps left an audit entry.
 * 5. Carol, in two organizations, sees each membership's tools.
 *
 * @module
 */
import {
  assert,
  assertEquals,
  assertNotEquals,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { AuditLog } from "../../audit/store.ts";
import type { AuditEvent } from "../../audit/events.ts";
import type { Grant } from "../../auth/grants.ts";
import { keys } from "../../lib/kv_keys.ts";
import { forms, ScriptedBrowser } from "../helpers/browser.ts";
import {
  discover,
  grantIdOf,
  postMcp,
  startPngBackend,
  waitFor,
  whoami,
} from "../helpers/mcp_clients.ts";
import {
  authorizeUrl,
  postForm,
  REDIRECT_URI,
  register,
  sdkSignIn,
  signIn,
} from "../helpers/oauth.ts";
import {
  type CallToolResult,
  Client,
  StreamableHTTPClientTransport,
  ToolListChangedNotificationSchema,
} from "../helpers/sdk_v1.ts";
import {
  Client as ClientV2,
  MODERN_PROTOCOL_VERSION,
  StreamableHTTPClientTransport as TransportV2,
} from "../helpers/sdk_v2.ts";
import { startTestServer } from "../helpers/server.ts";
import { toolNames } from "../helpers/tools.ts";

type Server = Awaited<ReturnType<typeof startTestServer>>;

const ALICE = "alice@example.com";
const ALICE_ID = "user_alice";
const AUTHENTICATE = "/user_management/authenticate";
/** PERMISSIONS_MAX_AGE_SECONDS of these tests: upstream is asked again past half of it (10 s). */
const BOUND_SECONDS = 20;
const PAST_HALF_BOUND_MS = (BOUND_SECONDS / 2 + 1) * 1000;

const names = (list: { tools: { name: string }[] }) => list.tools.map((t) => t.name);

async function grantOf(server: Server, grantId: string): Promise<Grant | null> {
  return (await server.kv.get<Grant>(keys.grant(grantId))).value;
}

function refresh(server: Server, clientId: string, refreshToken: string) {
  return postForm(server.url, "/token", {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: clientId,
  });
}

/** Rejects when `promise` has not settled within `ms`; clears its timer either way. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("alice's permissions follow WorkOS and /account for her live clients, and every step is audited", async (t) => {
  let now = Date.now();
  await using backend = await startPngBackend();
  await using server = await startTestServer(
    { PERMISSIONS_MAX_AGE_SECONDS: String(BOUND_SECONDS), ...backend.env },
    { now: () => now },
  );
  const emulator = server.emulator!;
  const mcp = `${server.url}/mcp`;

  // Alice's v1 client: discovery, registration, consent, AuthKit sign-in and code exchange by the SDK.
  const provider = await sdkSignIn(mcp, ALICE);
  const liveClientId = provider.client!.client_id;
  const liveGrantId = grantIdOf(provider.saved!.access_token);
  const client = new Client({ name: "alice-v1", version: "1.0.0" });
  let changes = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    changes++;
  });
  const transport = new StreamableHTTPClientTransport(new URL(mcp), { authProvider: provider });
  await client.connect(transport);
  const sessionId = transport.sessionId!;
  assert(sessionId, "the server opened a 2025 session");

  try {
    await t.step(
      "1. image_generation taken away in WorkOS and given back, within the bound",
      async () => {
        assertEquals(names(await client.listTools()), toolNames(["image_generation"]));
        const made = await client.callTool({
          name: "generateImage",
          arguments: { prompt: "a red fox" },
        }) as CallToolResult;
        assertEquals(made.isError, undefined);
        assert(made.content.some((c) => c.type === "image"));
        assertEquals(backend.requests.length, 1);

        emulator.setUserPermissions(ALICE, "org_acme", []);
        // Within half the bound nothing asks WorkOS: the last confirmed permissions still serve.
        const asked = emulator.requestCount(AUTHENTICATE);
        assertEquals(names(await client.listTools()), toolNames(["image_generation"]));
        assertEquals(emulator.requestCount(AUTHENTICATE), asked);

        now += PAST_HALF_BOUND_MS;
        // The next MCP request refreshes upstream and is already served from the new permissions.
        assertEquals(names(await client.listTools()), toolNames([]));
        assertEquals(emulator.requestCount(AUTHENTICATE), asked + 1);
        assertEquals((await grantOf(server, liveGrantId))!.permissions, []);
        await waitFor(() => changes === 1, 5000, "list_changed after the removal");

        const err = await assertRejects(() =>
          client.callTool({ name: "generateImage", arguments: { prompt: "x" } })
        );
        assertStringIncludes(String(err), "-32602");
        assertStringIncludes(String(err), "image_generation");
        assertEquals(backend.requests.length, 1, "the image backend did not run");

        emulator.setUserPermissions(ALICE, "org_acme", ["image_generation"]);
        now += PAST_HALF_BOUND_MS;
        assertEquals(names(await client.listTools()), toolNames(["image_generation"]));
        assertEquals(emulator.requestCount(AUTHENTICATE), asked + 2);
        await waitFor(() => changes === 2, 5000, "list_changed after the return");
        const again = await client.callTool({
          name: "generateImage",
          arguments: { prompt: "a blue fox" },
        }) as CallToolResult;
        assertEquals(again.isError, undefined);
        assertEquals(backend.requests.length, 2);
        assertEquals(changes, 2, "one notification per change");
      },
    );

    await t.step(
      "2. her WorkOS session revoked: the next refresh fails with invalid_grant",
      async () => {
        // A second client of hers (its own grant and WorkOS session), so the live client above survives.
        const second = await signIn(server.url, ALICE);
        const grantId = grantIdOf(second.accessToken);
        const ok = await refresh(server, second.clientId, second.refreshToken);
        assertEquals(ok.status, 200, JSON.stringify(ok.body));
        const accessToken = String(ok.body.access_token);
        const sid = (await grantOf(server, grantId))!.sessionId;
        assertNotEquals(sid, (await grantOf(server, liveGrantId))!.sessionId);

        emulator.revokeSession(sid);
        // Our access token does not ask WorkOS while its permissions are younger than half the bound
        // (the refresh just confirmed them): it is still accepted until the next upstream check.
        const asked = emulator.requestCount(AUTHENTICATE);
        assertEquals((await discover(server.url, accessToken)).status, 200);
        assertEquals(emulator.requestCount(AUTHENTICATE), asked);

        // The refresh_token grant always asks WorkOS, which refuses: invalid_grant, and the grant ends.
        const refused = await refresh(server, second.clientId, String(ok.body.refresh_token));
        assertEquals([refused.status, refused.body.error], [400, "invalid_grant"]);
        assertEquals(await grantOf(server, grantId), null);
        const after = await discover(server.url, accessToken);
        assertEquals(after.status, 401);
        assertStringIncludes(after.headers.get("www-authenticate") ?? "", 'error="invalid_token"');

        // Without a refresh, the next MCP request past half the bound finds out by itself.
        const third = await signIn(server.url, ALICE);
        emulator.revokeSession((await grantOf(server, grantIdOf(third.accessToken)))!.sessionId);
        assertEquals((await discover(server.url, third.accessToken)).status, 200);
        now += PAST_HALF_BOUND_MS;
        assertEquals((await discover(server.url, third.accessToken)).status, 401);
        assertEquals(await grantOf(server, grantIdOf(third.accessToken)), null);

        // The live client's own WorkOS session is untouched (this request refreshes it upstream too).
        assertEquals(names(await client.listTools()), toolNames(["image_generation"]));
      },
    );

    await t.step("3. Revoke on /account ends her live sessions", async () => {
      // A second live session: a legacy SSE stream of another grant of hers.
      const sseGrant = await signIn(server.url, ALICE, { resource: `${server.url}/sse` });
      const sse = await fetch(`${server.url}/sse`, {
        headers: { authorization: `Bearer ${sseGrant.accessToken}`, accept: "text/event-stream" },
      });
      assertEquals(sse.status, 200);
      const sseEnded = sse.text(); // resolves once the server closes the stream
      const sessionKey = keys.mcpSession(ALICE_ID, sessionId);
      assert((await server.kv.get(sessionKey)).value, "the Streamable HTTP session is live");

      const browser = new ScriptedBrowser();
      const signInPage = await browser.go(`${server.url}/account`);
      assertStringIncludes(signInPage.body, 'name="email"', "AuthKit's sign-in page");
      let page = await browser.submit(signInPage, { email: ALICE });
      assertEquals(page.status, 200);
      assertEquals(new URL(page.url).pathname, "/account");
      assertStringIncludes(page.body, ALICE);

      for (const grantId of [liveGrantId, grantIdOf(sseGrant.accessToken)]) {
        const index = forms(page).findIndex((f) => f.fields.grant_id === grantId);
        assert(index >= 0, `a Revoke form for ${grantId}`);
        assert(forms(page)[index]!.fields.csrf_token, "the form carries the CSRF token");
        page = await browser.submit(page, {}, { index });
        assertEquals([page.status, new URL(page.url).pathname], [200, "/account"]);
        assert(!page.body.includes(grantId), "the revoked grant is no longer listed");
      }

      // The grant watcher (1 s poll) ends the session and closes both streams.
      await waitFor(
        async () => (await server.kv.get(sessionKey)).value === null,
        5000,
        "the session record to be deleted",
      );
      const tail = await within(sseEnded, 5000, "the SSE stream to close");
      assert(tail.startsWith("event: endpoint\n"), tail);

      // Her client's next request is refused: 401, and its refresh token is dead too.
      const raw = await postMcp(
        server.url,
        provider.saved!.access_token,
        { jsonrpc: "2.0", id: 7, method: "tools/list", params: {} },
        { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" },
      );
      assertEquals(raw.status, 401);
      const err = await assertRejects(() => client.listTools());
      assertStringIncludes(String(err), "Unauthorized");
      assert(provider.invalidated.includes("tokens"), "the SDK dropped the dead tokens");

      // The session is gone, not just unreachable through the dead token.
      const other = await signIn(server.url, ALICE);
      const gone = await postMcp(
        server.url,
        other.accessToken,
        { jsonrpc: "2.0", id: 8, method: "tools/list", params: {} },
        { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" },
      );
      assertEquals(gone.status, 404);
    });

    await t.step("4. each step left an audit entry", async () => {
      const audit = new AuditLog(server.kv, { now: () => now });
      const expected = [
        "user.signed_in",
        "oauth.token_issued",
        "oauth.token_refreshed",
        "permissions.changed",
        "mcp.tool_called",
        "mcp.tool_refused",
        "oauth.refresh_refused",
        "oauth.grant_revoked",
      ];
      let events: AuditEvent[] = [];
      await waitFor(
        async () => {
          events = await audit.listForUser(ALICE_ID, { limit: 500 });
          return expected.every((action) => events.some((e) => e.action === action));
        },
        3000,
        `alice's audit actions ${expected.join(", ")}`,
      );
      const of = (action: string, grantId = liveGrantId) =>
        events.filter((e) => e.action === action && e.grantId === grantId);

      assertEquals(of("user.signed_in").length, 1);
      assertEquals(of("oauth.token_issued").length, 1);
      assertEquals(of("oauth.token_issued")[0]!.clientId, liveClientId);
      // Newest first: the removal, then the return.
      assertEquals(of("permissions.changed").map((e) => e.detail).reverse(), [
        "[image_generation] → []",
        "[] → [image_generation]",
      ]);
      assertEquals(
        of("mcp.tool_called").filter((e) => e.tool === "generateImage").map((e) => e.outcome),
        ["success", "success"],
      );
      const refusedCalls = of("mcp.tool_refused");
      assertEquals(refusedCalls.map((e) => [e.tool, e.outcome]), [["generateImage", "refused"]]);
      assertStringIncludes(refusedCalls[0]!.detail ?? "", "image_generation");
      const revoked = of("oauth.grant_revoked");
      assertEquals(revoked.length, 1);
      assertEquals(revoked[0]!.detail, "revoked by the user on /account");
      // Two grants revoked on /account (the Streamable HTTP and the SSE client), two because WorkOS
      // refused to refresh their revoked sessions (step 2: one at /token, one at an MCP request).
      const allRevoked = events.filter((e) => e.action === "oauth.grant_revoked");
      assertEquals(
        allRevoked.filter((e) => e.detail === "revoked by the user on /account").length,
        2,
      );
      assertEquals(
        allRevoked.filter((e) => e.detail?.startsWith("WorkOS refused the session refresh")).length,
        2,
      );
      assert(allRevoked.every((e) => e.clientId !== null), "revocations name their client");

      const refreshed = events.filter((e) => e.action === "oauth.token_refreshed");
      const refusedRefresh = events.filter((e) => e.action === "oauth.refresh_refused");
      assertEquals(refreshed.length, 1, "step 2's successful refresh");
      assertEquals(refusedRefresh.length, 1, "step 2's refused refresh");
      assertEquals(refusedRefresh[0]!.outcome, "refused");
      assertEquals(refusedRefresh[0]!.grantId, refreshed[0]!.grantId);
      assertStringIncludes(refusedRefresh[0]!.detail ?? "", "WorkOS ended the session");

      // Consent happens before anyone signs in, so its events carry no user: they are under "anon".
      const anon: AuditEvent[] = [];
      for await (const e of server.kv.list<AuditEvent>({ prefix: ["audit", "anon"] })) {
        anon.push(e.value);
      }
      const consent = anon.filter((e) => e.action === "oauth.consent_granted");
      assert(consent.some((e) => e.clientId === liveClientId), "consent of the live client");
    });
  } finally {
    await client.close();
  }
});

/** Signs carol in through the browser, choosing `organizationId` on the picker; resolves to a token. */
async function carolIn(server: Server, organizationId: string): Promise<string> {
  const client = await register(server.url);
  const { url, verifier } = await authorizeUrl(server.url, client.client_id);
  const browser = new ScriptedBrowser();
  const stopAt = (u: URL) => u.href.startsWith(REDIRECT_URI);
  const consent = await browser.go(url);
  const signInPage = await browser.submit(consent);
  const picker = await browser.submit(signInPage, { email: "carol@example.com" }, { stopAt });
  assertEquals(picker.status, 200);
  assertStringIncludes(picker.body, "Choose an organization");
  const index = forms(picker).findIndex((f) => f.fields.organization_id === organizationId);
  assert(index >= 0, `the picker offers ${organizationId}`);
  const back = await browser.submit(picker, {}, { index, stopAt });
  const tokens = await postForm(server.url, "/token", {
    grant_type: "authorization_code",
    code: new URL(back.url).searchParams.get("code")!,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    client_id: client.client_id,
  });
  assertEquals(tokens.status, 200, JSON.stringify(tokens.body));
  return String(tokens.body.access_token);
}

/** The tool names a v2 client pinned to 2026-07-28 lists with `token`. */
async function modernTools(server: Server, token: string): Promise<string[]> {
  const client = new ClientV2(
    { name: "carol-v2", version: "1.0.0" },
    { versionNegotiation: { mode: { pin: MODERN_PROTOCOL_VERSION } } },
  );
  await client.connect(
    new TransportV2(new URL(`${server.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  try {
    return names(await client.listTools());
  } finally {
    await client.close();
  }
}

Deno.test("carol picks each organization in turn and sees that membership's tools", async () => {
  await using server = await startTestServer();
  const acme = await carolIn(server, "org_acme");
  assertEquals(await modernTools(server, acme), toolNames(["image_generation"]));
  const globex = await carolIn(server, "org_globex");
  assertEquals(await modernTools(server, globex), toolNames([]));

  // Each token keeps its own membership.
  assertEquals((await whoami(server.url, acme)).organizationId, "org_acme");
  assertEquals((await whoami(server.url, globex)).organizationId, "org_globex");
  assertEquals(await modernTools(server, acme), toolNames(["image_generation"]));
});

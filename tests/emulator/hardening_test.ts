import { assertEquals, assertStringIncludes } from "@std/assert";
import { CLIENT_ID, REDIRECT_URI, startEmulator } from "./_harness.ts";

Deno.test("the emulator's sign-in page cannot be framed", async () => {
  await using h = await startEmulator();
  const url = new URL(`${h.origin}/user_management/authorize`);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    response_type: "code",
  }).toString();
  const res = await fetch(url, { headers: { accept: "text/html" } });
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("x-frame-options"), "DENY");
  assertStringIncludes(res.headers.get("content-security-policy")!, "frame-ancestors 'none'");
  await res.body?.cancel();
});

Deno.test("the emulator's logout redirects only to its own origin or a loopback host", async () => {
  await using h = await startEmulator();
  const logout = (returnTo: string) =>
    fetch(
      `${h.origin}/user_management/sessions/logout?session_id=s1&return_to=${
        encodeURIComponent(returnTo)
      }`,
      { redirect: "manual" },
    );
  const evil = await logout("https://evil.example/phish");
  assertEquals(evil.status, 400);
  assertEquals(evil.headers.get("location"), null);
  assertStringIncludes((await evil.json()).message, "return_to");
  const local = await logout("http://localhost:8788/");
  assertEquals(local.status, 302);
  assertEquals(local.headers.get("location"), "http://localhost:8788/");
  await local.body?.cancel();
});

Deno.test("the emulator's sign-in refuses a redirect_uri off this machine", async () => {
  await using h = await startEmulator();
  const url = new URL(`${h.origin}/user_management/authorize`);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: "https://evil.example/cb",
    response_type: "code",
  }).toString();
  const res = await fetch(url, { redirect: "manual" });
  assertEquals(res.status, 400);
  assertEquals(res.headers.get("location"), null);
  await res.body?.cancel();
});

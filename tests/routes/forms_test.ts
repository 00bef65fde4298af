import { assertEquals, assertStringIncludes } from "@std/assert";
import { startTestServer } from "../helpers/server.ts";
import { ScriptedBrowser } from "../helpers/browser.ts";

/** Bodies Deno's multipart parser refuses: no boundary parameter, and a body without the boundary. */
const BROKEN: Array<[string, string]> = [
  ["multipart/form-data", "garbage"],
  ["multipart/form-data; boundary=XYZ", "garbage"],
];

Deno.test("malformed multipart at every browser form answers a 400 page, never 500", async () => {
  await using server = await startTestServer();
  // Signed in to /account, so its forms reach the body (an unauthenticated post stops at 401 before it).
  const browser = new ScriptedBrowser();
  const signInPage = await browser.go(`${server.url}/account`);
  const account = await browser.submit(signInPage, { email: "alice@example.com" });
  assertStringIncludes(account.body, "alice@example.com");
  const cookie = [...browser.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  for (
    const path of ["/authorize", "/callback/organization", "/account/revoke", "/account/signout"]
  ) {
    for (const [type, body] of BROKEN) {
      const res = await fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { "content-type": type, origin: server.url, cookie },
        body,
        redirect: "manual",
      });
      const text = await res.text();
      assertEquals(res.status, 400, `${path} ${type}`);
      assertStringIncludes(text, "malformed_body", path);
      assertStringIncludes(res.headers.get("content-type") ?? "", "text/html", path);
    }
  }
});

Deno.test("a browser form in another content type answers 415", async () => {
  await using server = await startTestServer();
  const res = await fetch(`${server.url}/authorize`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.url },
    body: "{}",
  });
  assertEquals(res.status, 415);
  assertStringIncludes(await res.text(), "unsupported_media_type");
});

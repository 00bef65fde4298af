import { assertEquals } from "@std/assert";
import { describeActivity } from "../../../routes/pages/activity.ts";
import { describeScopes } from "../../../routes/pages/consent.ts";

Deno.test("describeActivity() turns audit events into sentences", () => {
  const at = 0;
  assertEquals(
    describeActivity({ at, action: "mcp.tool_called", tool: "generateImage", outcome: "success" }),
    "Called generateImage — allowed",
  );
  assertEquals(
    describeActivity({ at, action: "mcp.tool_called", tool: "add", outcome: "failure" }),
    "Called add — failed",
  );
  assertEquals(
    describeActivity({ at, action: "mcp.tool_refused", tool: "generateImage", outcome: "refused" }),
    "Called generateImage — refused (no permission)",
  );
  assertEquals(describeActivity({ at, action: "user.signed_in" }), "Signed in");
  assertEquals(describeActivity({ at, action: "oauth.grant_revoked" }), "Access revoked");
  assertEquals(describeActivity({ at, action: "something.new" }), "something.new");
});

Deno.test("describeScopes() says what the usual scopes allow and shows others as they are", () => {
  assertEquals(describeScopes(["openid", "email", "email", "profile"]), [
    "confirm who you are",
    "see your email address",
    "see your name",
  ]);
  assertEquals(describeScopes(["reports:read"]), ["use the “reports:read” scope"]);
});

/**
 * The emulator's key-protected JSON API: session revocation, user lookup and audit-log events.
 *
 * @see https://workos.com/docs/reference/authkit/session (revoking a session)
 * @see https://workos.com/docs/reference/authkit/user (getting a user)
 * @see https://workos.com/docs/reference/audit-logs/event/create (`POST /audit_logs/events`)
 * @module
 */
import { z } from "zod";
import {
  type EmulatorState,
  hasApiKey,
  jsonResponse,
  messageError,
  unauthorized,
  userJson,
} from "./wire.ts";

const entitySchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  name: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

const auditEventSchema = z.object({
  "organization_id": z.string().min(1),
  event: z.object({
    action: z.string().min(1),
    version: z.number().int().optional(),
    "occurred_at": z.iso.datetime({ offset: true }),
    actor: entitySchema,
    targets: z.array(entitySchema),
    context: z.object({ location: z.string().min(1), "user_agent": z.string().optional() }),
    metadata: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** A received audit-log event, as the emulator keeps it. */
export type AuditEventRequest = z.infer<typeof auditEventSchema>;

async function readJson(request: Request): Promise<unknown> {
  try {
    return await request.json();
  } catch {
    return undefined;
  }
}

/** `POST /user_management/sessions/revoke` `{session_id}`: 200 with an empty, untyped body. */
export async function handleRevoke(state: EmulatorState, request: Request): Promise<Response> {
  if (!hasApiKey(request, state.apiKey)) return unauthorized();
  const body = await readJson(request) as { "session_id"?: unknown } | undefined;
  const sessionId = body?.session_id;
  if (typeof sessionId !== "string" || sessionId === "") {
    return messageError(422, "Validation failed: session_id is required.", {
      "code": "invalid_request_parameters",
      "errors": [{ "field": "session_id", "code": "required" }],
    });
  }
  state.store.revokeSession(sessionId);
  // An empty body must not claim to be JSON: the SDK would fail to parse it.
  return new Response(null, { status: 200 });
}

/** `GET /user_management/users/:id`: the WorkOS `User`, or 404 `{message}`. */
export async function handleGetUser(
  state: EmulatorState,
  request: Request,
  id: string,
): Promise<Response> {
  if (!hasApiKey(request, state.apiKey)) return unauthorized();
  await state.users.refresh();
  const user = state.users.findById(id);
  if (!user) return messageError(404, `User not found: '${id}'.`, { "code": "entity_not_found" });
  return jsonResponse(userJson(state, user));
}

/** `GET /organizations/:id`: the WorkOS `Organization` of the users file, or 404 `{message}`. */
export async function handleGetOrganization(
  state: EmulatorState,
  request: Request,
  id: string,
): Promise<Response> {
  if (!hasApiKey(request, state.apiKey)) return unauthorized();
  await state.users.refresh();
  const org = state.users.organization(id);
  if (!org) {
    return messageError(404, `Organization not found: '${id}'.`, { "code": "entity_not_found" });
  }
  const at = state.startedAt;
  return jsonResponse({
    "object": "organization",
    "id": org.id,
    "name": org.name,
    "allow_profiles_outside_organization": false,
    "domains": [],
    "created_at": at,
    "updated_at": at,
    "external_id": null,
    "metadata": {},
  });
}

/** `POST /audit_logs/events`: validates the event and appends it to `events`. */
export async function handleAuditEvent(
  state: EmulatorState,
  request: Request,
  events: AuditEventRequest[],
): Promise<Response> {
  if (!hasApiKey(request, state.apiKey)) return unauthorized();
  const result = auditEventSchema.safeParse(await readJson(request));
  if (!result.success) {
    const errors = result.error.issues.map((issue) => ({
      "instancePath": issue.path.length ? `/${issue.path.join("/")}` : "",
      "message": issue.message,
    }));
    return messageError(400, "Invalid Audit Log event.", {
      "code": "invalid_audit_log_event",
      errors,
    });
  }
  events.push(result.data);
  return jsonResponse({ "success": true });
}

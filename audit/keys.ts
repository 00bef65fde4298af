/**
 * The audit trail's KV keys, as named by the audit module; they are built in `lib/kv_keys.ts` with every
 * other key.
 *
 * @module
 */
import { keys } from "../lib/kv_keys.ts";

/** Audit key builders (aliases of `keys.audit*`). */
export const auditKeys = {
  userEvent: keys.auditUserEvent,
  userEvents: keys.auditUserEvents,
  grantEvent: keys.auditGrantEvent,
  grantEvents: keys.auditGrantEvents,
  anonEvent: keys.auditAnonEvent,
} as const;

import type { Role } from "../api/types";
import { isStaff } from "../lib/domain";

/** Where a person lands after signing in: staff in their queue, employees in their requests. */
export function homeFor(role: Role): string {
  return isStaff(role) ? "/queues/mine" : "/requests";
}

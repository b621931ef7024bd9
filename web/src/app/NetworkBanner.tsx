import { onlineManager } from "@tanstack/react-query";
import { useSyncExternalStore } from "react";

/** Tells a person the connection is gone; TanStack Query pauses and retries what failed
 * (and keeps unsent mutations) until it is back. */
export function NetworkBanner() {
  const online = useSyncExternalStore(
    (notify) => onlineManager.subscribe(notify),
    () => onlineManager.isOnline(),
  );
  if (online) return null;
  return (
    <div role="alert" className="bg-warning-subtle px-4 py-2 text-center font-medium text-warning-text">
      You are offline. Changes will be sent when the connection is back.
    </div>
  );
}

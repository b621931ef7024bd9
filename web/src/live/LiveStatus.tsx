import { useEffect, useState } from "react";
import { useLiveState } from "./LiveProvider";
import { t } from "../i18n";

/** After a while without the socket, say that updates now come more slowly. (Short gaps,
 * such as the first connect or a reconnect, are not worth a banner.) */
export const QUIET_MS = 10_000;

export function LiveStatus() {
  const state = useLiveState();
  const [down, setDown] = useState(false);
  useEffect(() => {
    if (state === "open") {
      setDown(false);
      return;
    }
    const id = window.setTimeout(() => setDown(true), QUIET_MS);
    return () => window.clearTimeout(id);
  }, [state]);
  return (
    <div data-testid="live-status" data-state={state}>
      {down ? (
        <p role="status" className="bg-neutral-subtle px-4 py-1.5 text-center text-neutral-text">
          {t("live.paused")}
        </p>
      ) : null}
    </div>
  );
}

/**
 * One way to load a list page's items (My exports, Scheduled reports): a spinner while the
 * first answer is pending, the failure with a way to try again, and a reload that re-reads
 * the list (after an action, or from a Refresh button) without hiding what is shown.
 */
import { useQueryClient, type QueryKey, type UseQueryResult } from "@tanstack/react-query";
import { useCallback, type ReactNode } from "react";
import { FailureAlert } from "../admin/forms";
import { Button, Spinner } from "../components/ui";
import { t } from "../i18n/reports";

export interface Listing<T> {
  /** The items once loaded (an empty list before). */
  items: T[];
  /** Loaded and nothing in it: the page shows its empty state. */
  empty: boolean;
  /** What stands in for the list while it is loading or failed (null otherwise). */
  status: ReactNode;
  /** Re-read the list (the items stay on screen meanwhile). */
  reload: () => Promise<void>;
  /** A read is under way (the first one or a reload). */
  reloading: boolean;
}

export function useListing<T>(query: UseQueryResult<T[], unknown>, queryKey: QueryKey, what: string): Listing<T> {
  const client = useQueryClient();
  const reload = useCallback(() => client.invalidateQueries({ queryKey }), [client, queryKey]);
  let status: ReactNode = null;
  if (query.isPending) status = <Spinner label={t("reports.listing.loadingWhat", { what })} />;
  else if (query.isError)
    status = (
      <div className="flex flex-col items-start gap-2">
        <FailureAlert error={query.error} />
        <Button size="sm" onClick={() => void reload()} busy={query.isFetching}>
          {t("reports.listing.tryAgain")}
        </Button>
      </div>
    );
  return { items: query.data ?? [], empty: query.data?.length === 0, status, reload, reloading: query.isFetching };
}

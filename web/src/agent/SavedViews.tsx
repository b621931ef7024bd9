import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, idempotencyKey, ok } from "../api/client";
import { describeError } from "../api/problem";
import type { components } from "../api/schema";
import type { Team } from "../api/types";
import { useMe } from "../auth/AuthProvider";
import { Alert, Button, Input, Select, cx } from "../components/ui";
import type { TicketListQuery } from "../tickets/queries";
import { t, type MessageKey } from "../i18n";

export type SavedView = components["schemas"]["ViewPublic"];
type Scope = SavedView["scope"];

export const viewKeys = { all: ["views"] as const };

export function useViews() {
  return useQuery({
    queryKey: viewKeys.all,
    queryFn: ({ signal }) => ok(api.GET("/v1/views", { params: { query: { limit: 100 } }, signal })),
    select: (page) => [...page.items].sort((a, b) => a.name.localeCompare(b.name)),
  });
}

/** The ticket list's query a view stands for (GET /v1/tickets takes its filters as they are). */
export function viewQuery(view: SavedView): TicketListQuery {
  return { ...(view.filters as TicketListQuery), limit: 100 };
}

/** The filters a view saves: the list's query without its paging. */
export function savedFilters(query: TicketListQuery): Record<string, unknown> {
  const { limit: _limit, cursor: _cursor, ...filters } = query as TicketListQuery & { cursor?: unknown };
  return Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined && v !== null && v !== ""));
}

const SCOPE_LABEL: Record<Scope, MessageKey> = { personal: "agent.views.scope.personal", team: "agent.views.scope.team", tenant: "agent.views.scope.tenant" };

/** The queue's sidebar: saved views (mine, my teams', the organisation's), and saving the
 * current filters as a new one. */
export function ViewsSidebar({ query, activeId, teams }: { query: TicketListQuery; activeId: string | null; teams: Team[] }) {
  const me = useMe();
  const client = useQueryClient();
  const views = useViews();
  const id = useId();
  const [name, setName] = useState("");
  const [scope, setScope] = useState<Scope>("personal");
  const [team, setTeam] = useState("");
  const admin = me.role === "admin";
  const myTeams = admin ? teams : teams.filter((mine) => (me.teams ?? []).some((m) => m.id === mine.id));
  const save = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/v1/views", {
          params: { header: { "Idempotency-Key": idempotencyKey() } },
          body: { name: name.trim(), scope, team_id: scope === "team" ? team || myTeams[0]?.id || null : null, filters: savedFilters(query) },
        }),
      ),
    onSuccess: () => {
      setName("");
      void client.invalidateQueries({ queryKey: viewKeys.all });
    },
  });
  const remove = useMutation({
    mutationFn: (viewId: string) => ok(api.DELETE("/v1/views/{view_id}", { params: { path: { view_id: viewId } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: viewKeys.all }),
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    if (name.trim()) save.mutate();
  }
  const groups: Scope[] = ["personal", "team", "tenant"];
  return (
    <aside aria-label={t("agent.views.heading")} className="space-y-4" data-testid="saved-views">
      <h2 className="font-semibold">{t("agent.views.heading")}</h2>
      {views.isError ? <Alert title={t("agent.views.loadFailed")}>{describeError(views.error)}</Alert> : null}
      {groups.map((g) => {
        const items = (views.data ?? []).filter((v) => v.scope === g);
        if (!items.length) return null;
        return (
          <section key={g} aria-label={t("agent.views.group", { scope: t(SCOPE_LABEL[g]) })}>
            <h3 className="mb-1 text-fg-muted">{t(SCOPE_LABEL[g])}</h3>
            <ul className="space-y-1">
              {items.map((v) => (
                <li key={v.id} className="flex items-center justify-between gap-2">
                  <Link
                    to={`/queues/all?view=${v.id}`}
                    aria-current={v.id === activeId ? "page" : undefined}
                    className={cx("truncate hover:underline", v.id === activeId ? "font-semibold text-accent-text" : "text-fg")}
                  >
                    {v.name}
                  </Link>
                  {v.owner_id === me.user.id || admin ? (
                    <Button size="sm" variant="ghost" aria-label={t("agent.views.deleteOf", { name: v.name })} onClick={() => remove.mutate(v.id)}>
                      ×
                    </Button>
                  ) : null}
                </li>
              ))}
            </ul>
          </section>
        );
      })}
      {views.isSuccess && !views.data.length ? <p className="text-fg-muted">{t("agent.views.none")}</p> : null}
      <form onSubmit={submit} className="space-y-2 border-t border-border pt-3" aria-label={t("agent.views.saveForm")}>
        <label htmlFor={`${id}-name`} className="block font-medium">
          {t("agent.views.saveAs")}
        </label>
        <Input id={`${id}-name`} value={name} maxLength={100} placeholder={t("agent.views.namePlaceholder")} onChange={(e) => setName(e.target.value)} />
        <label htmlFor={`${id}-scope`} className="block text-fg-muted">
          {t("agent.views.sharedWith")}
        </label>
        <Select id={`${id}-scope`} value={scope} onChange={(e) => setScope(e.target.value as Scope)}>
          <option value="personal">{t("agent.views.onlyMe")}</option>
          {myTeams.length ? <option value="team">{t("agent.views.aTeam")}</option> : null}
          {admin ? <option value="tenant">{t("agent.views.everyone")}</option> : null}
        </Select>
        {scope === "team" ? (
          <>
            <label htmlFor={`${id}-team`} className="block text-fg-muted">
              {t("agent.views.team")}
            </label>
            <Select id={`${id}-team`} value={team || myTeams[0]?.id || ""} onChange={(e) => setTeam(e.target.value)}>
              {myTeams.map((mine) => (
                <option key={mine.id} value={mine.id}>
                  {mine.name}
                </option>
              ))}
            </Select>
          </>
        ) : null}
        <Button type="submit" busy={save.isPending} disabled={!name.trim()}>
          {t("agent.views.save")}
        </Button>
        {save.isError ? <Alert title={t("agent.views.notSaved")}>{describeError(save.error)}</Alert> : null}
      </form>
    </aside>
  );
}

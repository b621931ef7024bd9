import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Alert, Button, Card, Field, Input, Select, Spinner } from "../components/ui";
import { UserPicker, personLabel, useUser } from "../components/UserPicker";
import { t } from "../i18n/cmdb";
import { RELATIONSHIP_LABELS, cmdbKeys, useCi, type CI, type Relationship, type RelationshipType } from "./api";

/** Delete a CI (with its relationships, links and history), after a confirmation. */
export function DeleteCi({ ci }: { ci: CI }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const remove = useMutation({
    mutationFn: () => ok(api.DELETE("/v1/cis/{ci_id}", { params: { path: { ci_id: ci.id } } })),
    onSuccess: () => {
      client.removeQueries({ queryKey: cmdbKeys.ci(ci.id) });
      void client.invalidateQueries({ queryKey: ["cmdb", "cis"] });
      navigate("/cmdb", { replace: true });
    },
  });
  return (
    <>
      <Button variant="danger" onClick={() => setOpen(true)}>
        {t("cmdb.form.delete")}
      </Button>
      <ConfirmDialog
        open={open}
        title={t("cmdb.form.deleteTitle", { name: ci.name })}
        confirmLabel={t("cmdb.form.delete")}
        busy={remove.isPending}
        onConfirm={() => remove.mutate()}
        onClose={() => setOpen(false)}
      >
        <p>{t("cmdb.form.deleteBody")}</p>
        {remove.isError ? <Alert>{describeError(remove.error)}</Alert> : null}
      </ConfirmDialog>
    </>
  );
}

/** A CI chosen by searching the list (name prefix, external id, serial, asset tag). */
function CiSearch({ label, exclude, value, onChange, error }: { label: string; exclude: string; value: CI | null; onChange: (ci: CI | null) => void; error?: string | undefined }) {
  const [q, setQ] = useState("");
  const found = useQuery({
    queryKey: ["cmdb", "find", q.trim()],
    enabled: q.trim().length > 0,
    queryFn: ({ signal }) => ok(api.GET("/v1/cis", { params: { query: { q: q.trim(), limit: 8 } }, signal })),
    select: (page) => page.items.filter((c) => c.id !== exclude),
  });
  return (
    <div className="space-y-1">
      <Field label={label} error={error} description={value ? t("cmdb.rel.chosen", { name: value.name }) : t("cmdb.ticket.findHint")}>
        {(p) => <Input {...p} type="search" autoComplete="off" value={q} onChange={(e) => setQ(e.target.value)} />}
      </Field>
      {q.trim() && found.data ? (
        found.data.length ? (
          <ul aria-label={t("cmdb.rel.candidates")} data-testid="rel-candidates">
            {found.data.map((c) => (
              <li key={c.id}>
                <Button
                  size="sm"
                  variant="ghost"
                  onClick={() => {
                    onChange(c);
                    setQ("");
                  }}
                >
                  {t("cmdb.rel.pick", { name: c.name })}
                </Button>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-fg-muted">{t("cmdb.rel.noMatch")}</p>
        )
      ) : null}
    </div>
  );
}

/** Add a relationship from this CI (it is the source); the server's cycle refusal is shown
 * next to the target. */
export function AddRelationship({ ci }: { ci: CI }) {
  const client = useQueryClient();
  const [type, setType] = useState<RelationshipType>("depends_on");
  const [target, setTarget] = useState<CI | null>(null);
  const add = useMutation({
    mutationFn: () => {
      if (!target) throw new Error(t("cmdb.rel.chooseTarget"));
      return ok(api.POST("/v1/cis/{ci_id}/relationships", { params: { path: { ci_id: ci.id } }, body: { type, target_id: target.id } }));
    },
    onSuccess: () => {
      setTarget(null);
      void client.invalidateQueries({ queryKey: cmdbKeys.relationships(ci.id) });
      void client.invalidateQueries({ queryKey: ["cmdb", "ci", ci.id, "impact"] });
    },
  });
  const errors = add.error instanceof ApiError ? add.error.fieldErrors : {};
  const targetError = errors.target_id ?? (add.error && !(add.error instanceof ApiError) ? describeError(add.error) : undefined);
  const other = Object.entries(errors).filter(([k]) => k !== "target_id" && k !== "type");
  return (
    <form
      className="mt-3 space-y-2 border-t border-border pt-3"
      aria-label={t("cmdb.rel.add")}
      onSubmit={(e) => {
        e.preventDefault();
        add.mutate();
      }}
    >
      <h3 className="font-medium">{t("cmdb.rel.add")}</h3>
      <Field label={t("cmdb.detail.type")} error={errors.type}>
        {(p) => (
          <Select {...p} value={type} onChange={(e) => setType(e.target.value as RelationshipType)}>
            {(Object.keys(RELATIONSHIP_LABELS) as RelationshipType[]).map((r) => (
              <option key={r} value={r}>
                {RELATIONSHIP_LABELS[r]}
              </option>
            ))}
          </Select>
        )}
      </Field>
      <CiSearch label={t("cmdb.rel.target")} exclude={ci.id} value={target} onChange={setTarget} error={targetError} />
      {add.isError && add.error instanceof ApiError && !errors.target_id && !errors.type ? (
        <Alert>
          {describeError(add.error)}
          {other.map(([k, v]) => (
            <span key={k}> {v}</span>
          ))}
        </Alert>
      ) : null}
      <Button type="submit" variant="primary" busy={add.isPending} disabled={!target}>
        {t("cmdb.rel.addButton")}
      </Button>
    </form>
  );
}

/** Remove one relationship (this CI as source or target), labelled with the other CI. */
export function RemoveRelationship({ ci, relationship }: { ci: CI; relationship: Relationship }) {
  const client = useQueryClient();
  const otherId = relationship.source_id === ci.id ? relationship.target_id : relationship.source_id;
  const other = useCi(otherId);
  const what = `${RELATIONSHIP_LABELS[relationship.type]} ${other.data?.name ?? otherId.slice(0, 8)}`;
  const remove = useMutation({
    mutationFn: () =>
      ok(api.DELETE("/v1/cis/{ci_id}/relationships/{relationship_id}", { params: { path: { ci_id: ci.id, relationship_id: relationship.id } } })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: cmdbKeys.relationships(ci.id) });
      void client.invalidateQueries({ queryKey: ["cmdb", "ci", ci.id, "impact"] });
    },
  });
  return (
    <>
      <Button size="sm" variant="ghost" busy={remove.isPending} aria-label={t("cmdb.rel.remove", { what })} onClick={() => remove.mutate()}>
        ×
      </Button>
      {remove.isError ? <span className="text-danger-text">{describeError(remove.error)}</span> : null}
    </>
  );
}

function LinkedUser({ ciId, userId, canWrite }: { ciId: string; userId: string; canWrite: boolean }) {
  const client = useQueryClient();
  const user = useUser(userId);
  const unlink = useMutation({
    mutationFn: () => ok(api.DELETE("/v1/cis/{ci_id}/users/{user_id}", { params: { path: { ci_id: ciId, user_id: userId } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: cmdbKeys.users(ciId) }),
  });
  const label = personLabel(user.data, userId);
  return (
    <li className="flex items-center justify-between gap-2 py-1">
      <span>{label}</span>
      {canWrite ? (
        <Button size="sm" variant="ghost" busy={unlink.isPending} aria-label={t("cmdb.users.unlink", { name: user.data?.name || label })} onClick={() => unlink.mutate()}>
          ×
        </Button>
      ) : null}
    </li>
  );
}

/** Who uses the CI: the linked people; writers link (user picker) and unlink. */
export function CiUsers({ ci, canWrite }: { ci: CI; canWrite: boolean }) {
  const client = useQueryClient();
  const users = useQuery({
    queryKey: cmdbKeys.users(ci.id),
    queryFn: ({ signal }) => ok(api.GET("/v1/cis/{ci_id}/users", { params: { path: { ci_id: ci.id }, query: { limit: 100 } }, signal })),
    select: (page) => page.items,
  });
  const link = useMutation({
    mutationFn: (userId: string) => ok(api.POST("/v1/cis/{ci_id}/users", { params: { path: { ci_id: ci.id } }, body: { user_id: userId } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: cmdbKeys.users(ci.id) }),
  });
  const errors = link.error instanceof ApiError ? link.error.fieldErrors : {};
  return (
    <Card as="section" aria-labelledby="ci-users">
      <h2 id="ci-users" className="mb-2 font-semibold">
        {t("cmdb.users.title")}
      </h2>
      {users.isPending ? <Spinner /> : null}
      {users.isError ? <Alert title={t("cmdb.loadFailed")}>{describeError(users.error)}</Alert> : null}
      {users.data && !users.data.length ? <p className="text-fg-muted">{t("cmdb.users.none")}</p> : null}
      <ul className="divide-y divide-border" data-testid="ci-users">
        {users.data?.map((u) => (
          <LinkedUser key={u.user_id} ciId={ci.id} userId={u.user_id} canWrite={canWrite} />
        ))}
      </ul>
      {canWrite ? (
        <div className="mt-3 border-t border-border pt-3">
          <UserPicker
            label={t("cmdb.users.link")}
            value={[]}
            showChosen={false}
            onChange={(ids) => {
              const id = ids[0];
              if (id) link.mutate(id);
            }}
            error={errors.user_id ?? (link.isError ? describeError(link.error) : undefined)}
          />
        </div>
      ) : null}
    </Card>
  );
}

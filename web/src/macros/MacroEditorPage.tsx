import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, etag, idempotencyKey, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import type { Level, TicketStatus } from "../api/types";
import { useMe } from "../auth/AuthProvider";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Alert, Badge, Button, Card, Field, Input, PageHeader, Select, Spinner, Textarea } from "../components/ui";
import { atLeast } from "../lib/domain";
import { LEVELS, LEVEL_LABELS, STATUSES, STATUS_LABELS } from "../lib/format";
import { useCategories, useTeams, useUsers } from "../tickets/queries";
import { MACRO_TYPES, SCOPE_LABELS, TYPE_LABELS, macroKeys, useMacro, usePlaceholders, type Macro, type MacroAction, type MacroScope, type MacroType } from "./api";
import { PreviewView, ProblemList } from "./Preview";
import { t } from "../i18n/macros";

/** One action being edited: its type and its fields, loosely typed until saved. */
type Draft = { type: MacroType } & Record<string, unknown>;

interface Form {
  name: string;
  description: string;
  scope: MacroScope;
  team_id: string;
  position: number;
  archived: boolean;
  actions: Draft[];
}

function blank(type: MacroType): Draft {
  switch (type) {
    case "reply":
    case "note":
      return { type, body: "" };
    case "set_status":
      return { type, status: "in_progress" };
    case "assign":
      return { type, assignee_rule: "current_user" };
    case "set_field":
      return { type, field: "priority", value: "high" };
    default:
      return { type, tags: [] };
  }
}

function formOf(macro: Macro | null): Form {
  return {
    name: macro?.name ?? "",
    description: macro?.description ?? "",
    scope: macro?.scope ?? "personal",
    team_id: macro?.team_id ?? "",
    position: macro?.position ?? 0,
    archived: macro?.archived ?? false,
    actions: (macro?.actions as Draft[] | undefined)?.map((a) => ({ ...a })) ?? [blank("reply")],
  };
}

/** The actions as the API takes them (tags from their text, the empty choices dropped). */
function bodyActions(actions: Draft[]): MacroAction[] {
  return actions.map((action) => {
    const out: Record<string, unknown> = { ...action };
    if (action.type === "add_tags" || action.type === "remove_tags") {
      const raw = typeof action.tags === "string" ? action.tags : ((action.tags as string[] | undefined) ?? []).join(",");
      out.tags = raw.split(",").map((item) => item.trim()).filter(Boolean);
    }
    return out as MacroAction;
  });
}

export default function MacroEditorPage() {
  const { macroId = "" } = useParams();
  if (!macroId) return <Editor macro={null} />;
  return <Existing id={macroId} />;
}

function Existing({ id }: { id: string }) {
  const macro = useMacro(id);
  if (macro.isPending) return <Spinner label={t("macros.macroEditor.loadingTheMacro")} />;
  if (macro.isError) {
    return macro.error instanceof ApiError && macro.error.status === 404 ? (
      <Alert tone="warning" title={t("macros.macroEditor.macroNotFound")}>
        {t("macros.macroEditor.itDoesNotExist")}{" "}<Link to="/macros" className="underline">{t("macros.macroEditor.allMacros")}</Link>
      </Alert>
    ) : (
      <Alert title={t("macros.macroEditor.couldNotLoadThe")}>{describeError(macro.error)}</Alert>
    );
  }
  return <Editor key={`${macro.data.id}:${macro.data.version}`} macro={macro.data} />;
}

function Editor({ macro }: { macro: Macro | null }) {
  const me = useMe();
  const client = useQueryClient();
  const navigate = useNavigate();
  const [form, setForm] = useState<Form>(() => formOf(macro));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const key = useRef(idempotencyKey());
  const teams = useTeams();
  const manager = atLeast(me.role, "manager");
  const readOnly = macro !== null && !macro.can_edit;
  const set = <K extends keyof Form>(k: K, v: Form[K]) => setForm((f) => ({ ...f, [k]: v }));
  const setAction = (i: number, action: Draft) => set("actions", form.actions.map((a, j) => (j === i ? action : a)));

  const save = useMutation({
    mutationFn: async () => {
      const common = {
        name: form.name,
        description: form.description,
        position: form.position,
        actions: bodyActions(form.actions),
        scope: form.scope,
        team_id: form.scope === "team" ? form.team_id || null : null,
      };
      if (!macro) {
        return ok(api.POST("/v1/macros", { params: { header: { "Idempotency-Key": key.current } }, body: common }));
      }
      return ok(
        api.PATCH("/v1/macros/{macro_id}", {
          params: { path: { macro_id: macro.id }, header: { "If-Match": etag(macro.version) } },
          body: { ...common, archived: form.archived },
        }),
      );
    },
    onSuccess: (saved) => {
      setErrors({});
      setFailure(null);
      client.setQueryData(macroKeys.macro(saved.id), saved);
      void client.invalidateQueries({ queryKey: ["macros", "list"] });
      if (!macro) navigate(`/macros/${saved.id}`, { replace: true });
    },
    onError: (error) => {
      // The refusal is stored under the key (it would be replayed): the next save is new.
      key.current = idempotencyKey();
      setFailure(error);
      if (error instanceof ApiError) setErrors(error.fieldErrors);
    },
  });
  const remove = useMutation({
    mutationFn: () => ok(api.DELETE("/v1/macros/{macro_id}", { params: { path: { macro_id: macro?.id ?? "" } } })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: macroKeys.all });
      navigate("/macros");
    },
  });

  return (
    <>
      <p className="mb-2">
        <Link to="/macros" className="text-accent-text underline">
          {t("macros.macroEditor.macros")}
        </Link>
      </p>
      <PageHeader title={macro ? macro.name : t("macros.macroEditor.newMacro")}>
        {readOnly ? t("macros.macroEditor.youMayUseThis") : t("macros.macroEditor.actionsRunInOrder")}
      </PageHeader>
      {macro?.problems.length ? <div className="mb-4"><ProblemList problems={macro.problems} actions={macro.actions} /></div> : null}
      <div className="grid gap-6 lg:grid-cols-[1fr_24rem]">
        <form
          className="min-w-0 space-y-4"
          onSubmit={(e) => {
            e.preventDefault();
            save.mutate();
          }}
        >
          <fieldset disabled={readOnly} className="space-y-4">
            <Card className="space-y-4">
              <Field label={t("macros.macroEditor.name")} required error={errors.name}>
                {(p) => <Input {...p} maxLength={120} value={form.name} onChange={(e) => set("name", e.target.value)} />}
              </Field>
              <Field label={t("macros.macroEditor.description")} error={errors.description}>
                {(p) => <Input {...p} maxLength={1000} value={form.description} onChange={(e) => set("description", e.target.value)} />}
              </Field>
              <div className="flex flex-wrap gap-4">
                <Field label={t("macros.macroEditor.whoCanUseIt")} error={errors.scope} description={manager ? undefined : t("macros.macroEditor.managersAndAdminsMake")}>
                  {(p) => (
                    <Select {...p} value={form.scope} onChange={(e) => set("scope", e.target.value as MacroScope)}>
                      <option value="personal">{t("macros.macroEditor.personalOnlyYou", { personal: SCOPE_LABELS.personal })}</option>
                      {manager || form.scope === "team" ? <option value="team">{t("macros.macroEditor.teamItsMembers", { team: SCOPE_LABELS.team })}</option> : null}
                      {manager || form.scope === "tenant" ? <option value="tenant">{t("macros.macroEditor.tenantAllStaff", { tenant: SCOPE_LABELS.tenant })}</option> : null}
                    </Select>
                  )}
                </Field>
                {form.scope === "team" ? (
                  <Field label={t("macros.macroEditor.team")} required error={errors.team_id}>
                    {(p) => (
                      <Select {...p} value={form.team_id} onChange={(e) => set("team_id", e.target.value)}>
                        <option value="">{t("macros.macroEditor.chooseATeam")}</option>
                        {(teams.data ?? []).map((item) => (
                          <option key={item.id} value={item.id}>
                            {item.name}
                          </option>
                        ))}
                      </Select>
                    )}
                  </Field>
                ) : null}
                <Field label={t("macros.macroEditor.positionInThePicker")} error={errors.position}>
                  {(p) => <Input {...p} type="number" min={0} max={100000} className="w-28" value={form.position} onChange={(e) => set("position", Number(e.target.value) || 0)} />}
                </Field>
              </div>
              {macro ? (
                <label className="flex items-center gap-2">
                  <input type="checkbox" checked={form.archived} onChange={(e) => set("archived", e.target.checked)} />{" "}{t("macros.macroEditor.archivedHiddenFromThe")}
                </label>
              ) : null}
            </Card>
            <section aria-labelledby="actions-heading" className="space-y-3">
              <h2 id="actions-heading" className="text-base font-semibold">
                {t("macros.macroEditor.actions")}
              </h2>
              {errors.actions ? <p className="font-medium text-danger-text">{errors.actions}</p> : null}
              <ol className="space-y-3">
                {form.actions.map((action, i) => (
                  <li key={i}>
                    <ActionEditor
                      index={i}
                      count={form.actions.length}
                      action={action}
                      errors={errors}
                      onChange={(a) => setAction(i, a)}
                      onMove={(to) => {
                        const next = [...form.actions];
                        const [moved] = next.splice(i, 1);
                        next.splice(to, 0, moved!);
                        set("actions", next);
                      }}
                      onRemove={() => set("actions", form.actions.filter((_, j) => j !== i))}
                    />
                  </li>
                ))}
              </ol>
              <AddAction disabled={form.actions.length >= 20} onAdd={(type) => set("actions", [...form.actions, blank(type)])} />
            </section>
          </fieldset>
          {failure && !(failure instanceof ApiError && failure.status === 422) ? (
            <Alert title={failure instanceof ApiError && failure.isConflict ? t("macros.macroEditor.someoneElseChangedThis") : t("macros.macroEditor.notSaved")}>
              {failure instanceof ApiError && failure.isConflict ? t("macros.macroEditor.reloadThePageTo") : describeError(failure)}
            </Alert>
          ) : null}
          {failure instanceof ApiError && failure.status === 422 ? <Alert title={t("macros.macroEditor.notSavedFixFields")}>{t("macros.macroEditor.lengthProblemS", { length: Object.keys(errors).length })}</Alert> : null}
          {save.isSuccess && macro ? <Alert tone="success" title={t("macros.macroEditor.saved")} /> : null}
          {readOnly ? null : (
            <div className="flex flex-wrap gap-2">
              <Button type="submit" variant="primary" busy={save.isPending}>
                {macro ? t("macros.macroEditor.saveMacro") : t("macros.macroEditor.createMacro")}
              </Button>
              {macro ? (
                <Button variant="danger" onClick={() => setConfirmDelete(true)}>
                  {t("macros.macroEditor.delete")}
                </Button>
              ) : null}
            </div>
          )}
        </form>
        <LivePreview actions={form.actions} />
      </div>
      <ConfirmDialog
        open={confirmDelete}
        title={t("macros.macroEditor.deleteThisMacro")}
        confirmLabel={t("macros.macroEditor.deleteMacro")}
        busy={remove.isPending}
        onConfirm={() => remove.mutate()}
        onClose={() => setConfirmDelete(false)}
      >
        {t("macros.macroEditor.ticketsItWasApplied")}
      </ConfirmDialog>
    </>
  );
}

function AddAction({ onAdd, disabled }: { onAdd: (type: MacroType) => void; disabled: boolean }) {
  const [type, setType] = useState<MacroType>("note");
  return (
    <div className="flex flex-wrap items-end gap-2">
      <Field label={t("macros.macroEditor.newAction")}>
        {(p) => (
          <Select {...p} value={type} onChange={(e) => setType(e.target.value as MacroType)}>
            {MACRO_TYPES.map((item) => (
              <option key={item} value={item}>
                {TYPE_LABELS[item]}
              </option>
            ))}
          </Select>
        )}
      </Field>
      <Button disabled={disabled} onClick={() => onAdd(type)}>
        {t("macros.macroEditor.addAction")}
      </Button>
    </div>
  );
}

interface ActionProps {
  index: number;
  count: number;
  action: Draft;
  errors: Record<string, string>;
  onChange: (action: Draft) => void;
  onMove: (to: number) => void;
  onRemove: () => void;
}

function ActionEditor({ index, count, action, errors, onChange, onMove, onRemove }: ActionProps) {
  const at = (field: string) => errors[`actions.${index}.${field}`];
  const own = Object.entries(errors).filter(([k]) => k === `actions.${index}` || k === `actions.${index}.type`);
  const label = t("macros.macroEditor.actionValueValue2", { value: index + 1, value2: TYPE_LABELS[action.type] });
  return (
    <Card as="div" className="space-y-3" aria-label={label}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h3 className="font-semibold">{label}</h3>
        <div className="flex gap-1">
          <Button size="sm" disabled={index === 0} onClick={() => onMove(index - 1)} aria-label={t("macros.macroEditor.moveActionValueUp", { value: index + 1 })}>
            ↑
          </Button>
          <Button size="sm" disabled={index === count - 1} onClick={() => onMove(index + 1)} aria-label={t("macros.macroEditor.moveActionValueDown", { value: index + 1 })}>
            ↓
          </Button>
          <Button size="sm" disabled={count === 1} onClick={onRemove} aria-label={t("macros.macroEditor.removeActionValue", { value: index + 1 })}>
            {t("macros.macroEditor.remove")}
          </Button>
        </div>
      </div>
      {own.map(([k, v]) => (
        <p key={k} className="font-medium text-danger-text">
          {v}
        </p>
      ))}
      <ActionFields action={action} at={at} onChange={onChange} />
    </Card>
  );
}

function ActionFields({ action, at, onChange }: { action: Draft; at: (field: string) => string | undefined; onChange: (a: Draft) => void }) {
  const teams = useTeams();
  const users = useUsers();
  const categories = useCategories();
  const staff = [...(users.data?.values() ?? [])].filter((u) => u.role !== "requester" && u.active !== false);
  switch (action.type) {
    case "reply":
    case "note":
      return <TemplateField value={String(action.body ?? "")} error={at("body")} label={action.type === "reply" ? t("macros.macroEditor.replyText") : t("macros.macroEditor.noteText")} onChange={(body) => onChange({ ...action, body })} />;
    case "set_status":
      return (
        <Field label={t("macros.macroEditor.newStatus")} error={at("status")}>
          {(p) => (
            <Select {...p} value={String(action.status)} onChange={(e) => onChange({ ...action, status: e.target.value as TicketStatus })}>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {STATUS_LABELS[s]}
                </option>
              ))}
            </Select>
          )}
        </Field>
      );
    case "add_tags":
    case "remove_tags":
      return (
        <Field label={t("macros.macroEditor.tags")} error={at("tags")} description={t("macros.macroEditor.separatedByCommas")}>
          {(p) => (
            <Input
              {...p}
              value={typeof action.tags === "string" ? action.tags : ((action.tags as string[] | undefined) ?? []).join(", ")}
              onChange={(e) => onChange({ ...action, tags: e.target.value })}
            />
          )}
        </Field>
      );
    case "assign": {
      const assignee = "assignee_rule" in action && action.assignee_rule ? `rule:${String(action.assignee_rule)}` : "assignee_id" in action ? (action.assignee_id ? `user:${String(action.assignee_id)}` : "nobody") : "keep";
      return (
        <div className="flex flex-wrap gap-4">
          <Field label={t("macros.macroEditor.team")} error={at("team_id")}>
            {(p) => (
              <Select
                {...p}
                value={"team_id" in action ? String(action.team_id ?? "none") : "keep"}
                onChange={(e) => {
                  const { team_id: _, ...rest } = action;
                  const v = e.target.value;
                  onChange(v === "keep" ? (rest as Draft) : { ...rest, type: "assign", team_id: v === "none" ? null : v });
                }}
              >
                <option value="keep">{t("macros.macroEditor.keepTheTeam")}</option>
                <option value="none">{t("macros.macroEditor.noTeam")}</option>
                {(teams.data ?? []).map((item) => (
                  <option key={item.id} value={item.id}>
                    {item.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label={t("macros.macroEditor.assignee")} error={at("assignee_id") ?? at("assignee_rule")}>
            {(p) => (
              <Select
                {...p}
                value={assignee}
                onChange={(e) => {
                  const { assignee_id: _a, assignee_rule: _r, ...rest } = action;
                  const v = e.target.value;
                  const next: Draft = { ...rest, type: "assign" };
                  if (v.startsWith("rule:")) next.assignee_rule = v.slice(5);
                  else if (v.startsWith("user:")) next.assignee_id = v.slice(5);
                  else if (v === "nobody") next.assignee_id = null;
                  onChange(next);
                }}
              >
                <option value="keep">{t("macros.macroEditor.keepTheAssignee")}</option>
                <option value="rule:current_user">{t("macros.macroEditor.whoeverAppliesTheMacro")}</option>
                <option value="rule:team_rule">{t("macros.macroEditor.theTeamSOwn")}</option>
                <option value="rule:round_robin">{t("macros.macroEditor.roundRobinInThe")}</option>
                <option value="rule:least_open">{t("macros.macroEditor.fewestOpenTicketsIn")}</option>
                <option value="nobody">{t("macros.macroEditor.nobodyUnassign")}</option>
                {staff.map((u) => (
                  <option key={u.id} value={`user:${u.id}`}>
                    {u.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
        </div>
      );
    }
    case "set_field": {
      const field = String(action.field ?? "priority");
      const custom = field.startsWith("custom_fields.");
      const choice = custom ? "custom" : field;
      return (
        <div className="flex flex-wrap gap-4">
          <Field label={t("macros.macroEditor.field")} error={at("field")}>
            {(p) => (
              <Select
                {...p}
                value={choice}
                onChange={(e) => {
                  const v = e.target.value;
                  onChange({ ...action, field: v === "custom" ? "custom_fields." : v, value: ["priority", "impact", "urgency"].includes(v) ? "medium" : "" });
                }}
              >
                <option value="priority">{t("macros.macroEditor.priority")}</option>
                <option value="impact">{t("macros.macroEditor.impact")}</option>
                <option value="urgency">{t("macros.macroEditor.urgency")}</option>
                <option value="category_id">{t("macros.macroEditor.category")}</option>
                <option value="title">{t("macros.macroEditor.title")}</option>
                <option value="custom">{t("macros.macroEditor.aCustomField")}</option>
              </Select>
            )}
          </Field>
          {custom ? (
            <Field label={t("macros.macroEditor.customFieldKey")} description={t("macros.macroEditor.asInTheCategory")}>
              {(p) => <Input {...p} value={field.slice("custom_fields.".length)} onChange={(e) => onChange({ ...action, field: `custom_fields.${e.target.value.trim()}` })} />}
            </Field>
          ) : null}
          <Field label={t("macros.macroEditor.value")} error={at("value")}>
            {(p) =>
              ["priority", "impact", "urgency"].includes(field) ? (
                <Select {...p} value={String(action.value ?? "")} onChange={(e) => onChange({ ...action, value: e.target.value as Level })}>
                  {LEVELS.map((l) => (
                    <option key={l} value={l}>
                      {LEVEL_LABELS[l]}
                    </option>
                  ))}
                </Select>
              ) : field === "category_id" ? (
                <Select {...p} value={String(action.value ?? "")} onChange={(e) => onChange({ ...action, value: e.target.value || null })}>
                  <option value="">{t("macros.macroEditor.noCategory")}</option>
                  {(categories.data ?? []).map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.name}
                    </option>
                  ))}
                </Select>
              ) : (
                <Input {...p} value={action.value == null ? "" : String(action.value)} onChange={(e) => onChange({ ...action, value: custom && e.target.value === "" ? null : e.target.value })} />
              )
            }
          </Field>
        </div>
      );
    }
  }
}

/** A reply or note template, with the placeholder picker: the catalogue with what each
 * one is, inserted at the cursor. */
function TemplateField({ value, error, label, onChange }: { value: string; error: string | undefined; label: string; onChange: (v: string) => void }) {
  const placeholders = usePlaceholders();
  const area = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  function insert(name: string) {
    const element = area.current;
    const at = element?.selectionStart ?? value.length;
    const end = element?.selectionEnd ?? at;
    const text = `{{${name}}}`;
    onChange(value.slice(0, at) + text + value.slice(end));
    requestAnimationFrame(() => {
      element?.focus();
      element?.setSelectionRange(at + text.length, at + text.length);
    });
  }
  return (
    <div className="space-y-2">
      <Field label={label} required error={error}>
        {(p) => <Textarea {...p} ref={area} rows={4} maxLength={20000} value={value} onChange={(e) => onChange(e.target.value)} />}
      </Field>
      <label htmlFor={`${id}-ph`} className="block font-medium">
        {t("macros.macroEditor.insertAPlaceholder")}
      </label>
      <Select
        id={`${id}-ph`}
        value=""
        onChange={(e) => {
          if (e.target.value) insert(e.target.value);
        }}
      >
        <option value="">{t("macros.macroEditor.choose")}</option>
        {(placeholders.data ?? []).map((ph) => (
          <option key={ph.name} value={ph.name}>
            {t("macros.macroEditor.name2", { name: ph.name })} — {ph.description}
          </option>
        ))}
      </Select>
    </div>
  );
}

/** The macro as it is being edited, previewed on a ticket the person picks (nothing is
 * written; the server applies it in a transaction it rolls back). */
function LivePreview({ actions }: { actions: Draft[] }) {
  const [ticketId, setTicketId] = useState("");
  const recent = useQuery({
    queryKey: ["tickets", "list", { limit: 20, sort: "-updated_at", for: "macro-preview" }],
    queryFn: ({ signal }) => ok(api.GET("/v1/tickets", { params: { query: { limit: 20, sort: "-updated_at" } }, signal })),
    select: (page) => page.items,
  });
  const body = JSON.stringify(bodyActions(actions));
  const [debounced, setDebounced] = useState(body);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(body), 500);
    return () => clearTimeout(timer);
  }, [body]);
  const preview = useQuery({
    queryKey: ["macros", "draft-preview", ticketId, debounced],
    enabled: Boolean(ticketId),
    queryFn: () =>
      ok(
        api.POST("/v1/tickets/{ticket_id}/macros/preview", {
          params: { path: { ticket_id: ticketId } },
          body: { actions: JSON.parse(debounced) as MacroAction[] },
        }),
      ),
  });
  return (
    <Card as="aside" aria-label={t("macros.macroEditor.preview")} className="space-y-3 self-start">
      <h2 className="text-base font-semibold">{t("macros.macroEditor.preview")}</h2>
      <Field label={t("macros.macroEditor.onTicket")} description={t("macros.macroEditor.nothingIsChangedOn")}>
        {(p) => (
          <Select {...p} value={ticketId} onChange={(e) => setTicketId(e.target.value)}>
            <option value="">{t("macros.macroEditor.chooseATicket")}</option>
            {(recent.data ?? []).map((item) => (
              <option key={item.id} value={item.id}>
                {item.number} · {item.title}
              </option>
            ))}
          </Select>
        )}
      </Field>
      {ticketId && preview.isFetching ? <Spinner label={t("macros.macroEditor.previewing")} /> : null}
      {preview.isSuccess ? <PreviewView preview={preview.data} /> : null}
      {preview.isError ? (
        <Alert tone="warning" title={t("macros.macroEditor.itWouldNotApply")}>
          {describeError(preview.error)}
        </Alert>
      ) : null}
      {!ticketId ? <Badge>{t("macros.macroEditor.pickATicketTo")}</Badge> : null}
    </Card>
  );
}

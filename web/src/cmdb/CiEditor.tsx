import { useQueryClient } from "@tanstack/react-query";
import { api, etag, ok } from "../api/client";
import { Button, Card, Field, Input, Select, Spinner } from "../components/ui";
import { UserPicker } from "../components/UserPicker";
import { EditorStatus, FormActions, useEditor } from "../admin/forms";
import { CustomFieldsForm } from "../portal/CustomFieldsForm";
import { t } from "../i18n/cmdb";
import { STATE_LABELS, cmdbKeys, statesFor, useClasses, type CI, type CIClass } from "./api";
import { ciBody, specsOf, switchClass, toCiForm, type CiForm } from "./ciForm";

const FIXED = ["class_id", "name", "state", "owner_id", "location", "serial", "asset_tag", "external_id", "attributes"];

/** Create a CI (`ci` null) or change one (If-Match: its version; a 412 reloads it and says
 * so). The class's attributes are inputs generated from its schema. */
export function CiEditor(props: Props) {
  const classes = useClasses();
  if (classes.isPending) return <Spinner />;
  return <Editor {...props} classes={classes.data ?? []} />;
}

interface Props {
  ci: CI | null;
  onSaved: (ci: CI, created: boolean) => void;
  onCancel?: () => void;
}

function Editor({ ci, onSaved, onCancel, classes: list }: Props & { classes: CIClass[] }) {
  const client = useQueryClient();
  const classes = { data: list };
  const editor = useEditor<CI, CiForm>({
    entity: ci,
    toForm: (entity) => toCiForm(entity, classes.data),
    tag: (c) => etag(c.version),
    validate: (form) => ciBody(form, classes.data, ci).errors,
    create: (form, key) => ok(api.POST("/v1/cis", { params: { header: { "Idempotency-Key": key } }, body: ciBody(form, classes.data, null).body })),
    update: (form, base, ifMatch) =>
      ok(api.PATCH("/v1/cis/{ci_id}", { params: { path: { ci_id: base.id }, header: { "If-Match": ifMatch } }, body: ciBody(form, classes.data, base).body })),
    reload: ci
      ? () => client.fetchQuery({ queryKey: cmdbKeys.ci(ci.id), staleTime: 0, queryFn: () => ok(api.GET("/v1/cis/{ci_id}", { params: { path: { ci_id: ci.id } } })) })
      : undefined,
    onSaved: (saved, created) => {
      client.setQueryData(cmdbKeys.ci(saved.id), saved);
      void client.invalidateQueries({ queryKey: ["cmdb", "cis"] });
      void client.invalidateQueries({ queryKey: cmdbKeys.history(saved.id) });
      onSaved(saved, created);
    },
  });
  const { form, set, errors } = editor;
  const specs = specsOf(classes.data, form.class_id);
  const placed = [...FIXED.filter((f) => f !== "attributes"), ...specs.map((s) => `attributes.${s.name}`)];
  return (
    <form className="space-y-4" onSubmit={editor.submit} noValidate aria-label={ci ? t("cmdb.form.editTitle", { name: ci.name }) : t("cmdb.form.newTitle")}>
      <Card className="space-y-3">
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label={t("cmdb.class")} required error={errors.class_id}>
            {(p) => (
              <Select {...p} value={form.class_id} onChange={(e) => {
                  // The value as chosen, read before the update runs.
                  const classId = e.target.value;
                  editor.setForm((f) => switchClass(f, classes.data, classId));
                }}>
                <option value="">{t("cmdb.form.chooseClass")}</option>
                {classes.data?.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label={t("cmdb.name")} required error={errors.name}>
            {(p) => <Input {...p} maxLength={200} value={form.name} onChange={(e) => set("name", e.target.value)} />}
          </Field>
          <Field label={t("cmdb.state")} error={errors.state}>
            {(p) => (
              <Select {...p} value={form.state} onChange={(e) => set("state", e.target.value as CiForm["state"])}>
                {statesFor(ci?.state ?? null).map((s) => (
                  <option key={s} value={s}>
                    {STATE_LABELS[s]}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label={t("cmdb.location")} error={errors.location}>
            {(p) => <Input {...p} maxLength={200} value={form.location} onChange={(e) => set("location", e.target.value)} />}
          </Field>
          <Field label={t("cmdb.serial")} error={errors.serial}>
            {(p) => <Input {...p} maxLength={200} value={form.serial} onChange={(e) => set("serial", e.target.value)} />}
          </Field>
          <Field label={t("cmdb.assetTag")} error={errors.asset_tag}>
            {(p) => <Input {...p} maxLength={200} value={form.asset_tag} onChange={(e) => set("asset_tag", e.target.value)} />}
          </Field>
          <Field label={t("cmdb.externalId")} error={errors.external_id} description={t("cmdb.form.externalIdHelp")}>
            {(p) => <Input {...p} maxLength={200} value={form.external_id} onChange={(e) => set("external_id", e.target.value)} />}
          </Field>
        </div>
        <UserPicker label={t("cmdb.owner")} value={form.owner} onChange={(owner) => set("owner", owner)} error={errors.owner_id} />
      </Card>
      {specs.length ? (
        <Card as="section" aria-labelledby="ci-form-attributes" className="space-y-3">
          <h2 id="ci-form-attributes" className="font-semibold">
            {t("cmdb.detail.attributes")}
          </h2>
          <CustomFieldsForm
            specs={specs}
            values={form.attributes}
            errors={errors}
            prefix="attributes"
            onChange={(name, value) => editor.setForm((f) => ({ ...f, attributes: { ...f.attributes, [name]: value } }))}
          />
        </Card>
      ) : null}
      <EditorStatus editor={editor} placed={placed} savedText={t("cmdb.form.saved")} />
      <FormActions editor={editor} creating={ci === null} saveLabel={ci ? t("cmdb.form.save") : t("cmdb.form.create")}>
        {onCancel ? <Button onClick={onCancel}>{t("cmdb.form.close")}</Button> : null}
      </FormActions>
    </form>
  );
}

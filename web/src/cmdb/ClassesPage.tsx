import { Link } from "react-router";
import { describeError } from "../api/problem";
import { Alert, Badge, Card, PageHeader, Spinner } from "../components/ui";
import { fieldsFromSchema } from "../lib/customFields";
import { plural, t } from "../i18n/cmdb";
import { useClasses } from "./api";

/** /admin/ci-classes (cmdb:write): the classes; the tenant's own are edited, built-in ones shown. */
export default function ClassesPage() {
  const classes = useClasses();
  return (
    <>
      <PageHeader
        title={t("cmdb.classes.title")}
        actions={
          <Link to="/admin/ci-classes/new" className="inline-flex h-10 items-center rounded-md bg-accent px-4 font-medium text-accent-fg hover:opacity-90">
            {t("cmdb.classes.new")}
          </Link>
        }
      >
        {t("cmdb.classes.intro")}
      </PageHeader>
      {classes.isPending ? <Spinner /> : null}
      {classes.isError ? <Alert title={t("cmdb.loadFailed")}>{describeError(classes.error)}</Alert> : null}
      {classes.data ? (
        <Card className="overflow-x-auto p-0">
          <table className="w-full text-left" data-testid="ci-classes">
            <caption className="sr-only">{t("cmdb.classes.title")}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-4 py-2">{t("cmdb.classes.name")}</th>
                <th scope="col" className="px-4 py-2">{t("cmdb.classes.key")}</th>
                <th scope="col" className="px-4 py-2">{t("cmdb.classes.attributes")}</th>
              </tr>
            </thead>
            <tbody>
              {classes.data.map((c) => (
                <tr key={c.id} className="border-b border-border last:border-b-0">
                  <td className="px-4 py-2">
                    <Link
                      to={`/admin/ci-classes/${c.id}`}
                      className="font-medium text-accent-text underline"
                      aria-label={c.builtin ? t("cmdb.classes.view", { name: c.name }) : t("cmdb.classes.edit", { name: c.name })}
                    >
                      {c.name}
                    </Link>{" "}
                    {c.builtin ? <Badge>{t("cmdb.classes.builtin")}</Badge> : null}
                  </td>
                  <td className="px-4 py-2 font-mono text-sm">{c.key}</td>
                  <td className="px-4 py-2">{plural(fieldsFromSchema(c.attributes_schema).length, { other: "cmdb.classes.attributeCount" })}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      ) : null}
    </>
  );
}

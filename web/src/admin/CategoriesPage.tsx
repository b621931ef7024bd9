import { Link } from "react-router";
import { Badge, Card, EmptyState, PageHeader, Spinner } from "../components/ui";
import { useAdminCategories, useAdminTeams } from "./api";
import { ScrollArea } from "./fields";
import { FailureAlert } from "./forms";

function fieldCount(schema: Record<string, unknown>): number {
  const properties = schema.properties;
  return typeof properties === "object" && properties !== null ? Object.keys(properties).length : 0;
}

export default function CategoriesPage() {
  const categories = useAdminCategories();
  const teams = useAdminTeams();
  const teamName = (id: string | null) => (id ? (teams.data?.find((t) => t.id === id)?.name ?? "—") : "—");
  return (
    <>
      <PageHeader
        title="Categories"
        actions={
          <Link to="/admin/categories/new" className="inline-flex h-10 items-center rounded-md bg-accent px-4 font-medium text-accent-fg hover:bg-accent-hover">
            New category
          </Link>
        }
      >
        What employees can ask for, and the fields each kind of request needs.
      </PageHeader>
      <Card>
        {categories.isPending ? <Spinner label="Loading categories" /> : null}
        {categories.isError ? <FailureAlert error={categories.error} /> : null}
        {categories.data && !categories.data.length ? <EmptyState title="No categories yet">Create the first one.</EmptyState> : null}
        {categories.data?.length ? (
          <ScrollArea label="Categories table">
            <table className="w-full text-left">
              <caption className="sr-only">Categories</caption>
              <thead className="border-b border-border text-fg-muted">
                <tr>
                  <th scope="col" className="px-2 py-2 font-medium">Name</th>
                  <th scope="col" className="px-2 py-2 font-medium">Custom fields</th>
                  <th scope="col" className="px-2 py-2 font-medium">Default team</th>
                  <th scope="col" className="px-2 py-2 font-medium">State</th>
                </tr>
              </thead>
              <tbody data-testid="category-rows">
                {categories.data.map((c) => (
                  <tr key={c.id} className="border-b border-border last:border-0">
                    <td className="px-2 py-2">
                      <Link to={`/admin/categories/${c.id}`} className="font-medium text-accent-text underline">
                        {c.name}
                      </Link>
                      {c.description ? <span className="block text-fg-muted">{c.description}</span> : null}
                    </td>
                    <td className="px-2 py-2">{fieldCount(c.fields_schema)}</td>
                    <td className="px-2 py-2">{teamName(c.default_team_id)}</td>
                    <td className="px-2 py-2">{c.active ? <Badge tone="success">Active</Badge> : <Badge>Inactive</Badge>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollArea>
        ) : null}
      </Card>
    </>
  );
}

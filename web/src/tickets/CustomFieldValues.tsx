import type { Ticket } from "../api/types";
import { Card } from "../components/ui";
import { displayValues } from "../lib/customFields";
import { useCategories } from "./queries";
import { t } from "../i18n";

/** A ticket's custom fields, labelled with its category's titles. */
export function CustomFieldValues({ categoryId, values }: { categoryId: string | null; values: Record<string, unknown> }) {
  const categories = useCategories();
  const schema = categories.data?.find((c) => c.id === categoryId)?.fields_schema;
  const rows = displayValues(schema, values);
  if (!rows.length) return null;
  return (
    <dl className="mt-3 grid gap-x-6 gap-y-1 sm:grid-cols-[max-content_1fr]">
      {rows.map((row) => (
        <div key={row.label} className="contents">
          <dt className="text-fg-muted">{row.label}</dt>
          <dd className="mb-1 break-words sm:mb-0">{row.value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A ticket's description and custom fields, in a card headed `title` (its id names the heading). */
export function DescriptionCard({ ticket, title, headingId }: { ticket: Ticket; title: string; headingId: string }) {
  return (
    <Card aria-labelledby={headingId}>
      <h2 id={headingId} className="mb-2 font-semibold">
        {title}
      </h2>
      <p className="whitespace-pre-wrap break-words">{ticket.description || t("tickets.details.noDescription")}</p>
      <CustomFieldValues categoryId={ticket.category_id} values={ticket.custom_fields} />
    </Card>
  );
}

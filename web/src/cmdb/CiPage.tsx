import { useState } from "react";
import { Link, useParams } from "react-router";
import { ApiError, describeError } from "../api/problem";
import { Alert, Badge, Button, Card, EmptyState, Field, PageHeader, Select, Spinner } from "../components/ui";
import { useMe } from "../auth/AuthProvider";
import { can } from "../lib/domain";
import { formatDateTime } from "../lib/format";
import { displayValues } from "../lib/customFields";
import { plural, t } from "../i18n/cmdb";
import {
  RELATIONSHIP_LABELS,
  STATE_LABELS,
  shown,
  useCi,
  useClasses,
  useHistory,
  useImpact,
  useRelationships,
  type CI,
  type Direction,
  type Relationship,
} from "./api";
import { RelationshipGraph } from "./RelationshipGraph";
import { CiEditor } from "./CiEditor";
import { personLabel, useUser } from "../components/UserPicker";
import { AddRelationship, CiUsers, DeleteCi, RemoveRelationship } from "./CiWrite";

/** One configuration item: its fields and attributes, its relationships (a graph, or the
 * same as a table), its impact (what a failure reaches) and its history. */
export default function CiPage() {
  const { ciId = "" } = useParams();
  const ci = useCi(ciId);
  const classes = useClasses();
  const me = useMe();
  const canWrite = can(me, "cmdb:write");
  const [editing, setEditing] = useState(false);
  if (ci.isPending) return <Spinner label={t("cmdb.detail.loading")} />;
  if (ci.isError) {
    const missing = ci.error instanceof ApiError && ci.error.status === 404;
    return (
      <Alert title={missing ? t("cmdb.detail.notFound") : t("cmdb.loadFailed")}>
        {missing ? null : describeError(ci.error)}
      </Alert>
    );
  }
  const item = ci.data;
  const className = classes.data?.find((c) => c.id === item.class_id)?.name ?? "";
  return (
    <>
      <p className="mb-2">
        <Link to="/cmdb" className="text-accent-text underline">
          {t("cmdb.detail.back")}
        </Link>
      </p>
      <PageHeader
        title={item.name}
        actions={
          canWrite ? (
            <div className="flex gap-2">
              {editing ? null : <Button onClick={() => setEditing(true)}>{t("cmdb.form.edit")}</Button>}
              <DeleteCi ci={item} />
            </div>
          ) : null
        }
      >
        <span className="flex flex-wrap items-center gap-2">
          <Badge>{className}</Badge>
          <Badge tone="info">{STATE_LABELS[item.state]}</Badge>
        </span>
      </PageHeader>
      <div className="grid gap-4 lg:grid-cols-2">
        {editing ? (
          <div className="lg:col-span-2">
            <h2 className="mb-2 font-semibold">{t("cmdb.form.editTitle", { name: item.name })}</h2>
            <CiEditor ci={item} onSaved={() => undefined} onCancel={() => setEditing(false)} />
          </div>
        ) : (
          <Fields ci={item} />
        )}
        <Impact ci={item} />
        <Relationships ci={item} canWrite={canWrite} />
        <CiUsers ci={item} canWrite={canWrite} />
        <History ciId={item.id} />
      </div>
    </>
  );
}

function Fields({ ci }: { ci: CI }) {
  const owner = useUser(ci.owner_id);
  const classes = useClasses();
  const schema = classes.data?.find((c) => c.id === ci.class_id)?.attributes_schema ?? {};
  const rows: [string, string][] = [
    [t("cmdb.owner"), ci.owner_id ? personLabel(owner.data, ci.owner_id) : shown(null)],
    [t("cmdb.externalId"), shown(ci.external_id)],
    [t("cmdb.serial"), shown(ci.serial)],
    [t("cmdb.assetTag"), shown(ci.asset_tag)],
    [t("cmdb.location"), shown(ci.location || null)],
    ...displayValues(schema, ci.attributes).map(({ label, value }): [string, string] => [label, value]),
  ];
  return (
    <Card as="section" aria-labelledby="ci-attributes">
      <h2 id="ci-attributes" className="mb-2 font-semibold">
        {t("cmdb.detail.attributes")}
      </h2>
      <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1" data-testid="ci-attributes">
        {rows.map(([label, value]) => (
          <div key={label} className="contents">
            <dt className="text-fg-muted">{label}</dt>
            <dd className="break-all">{value}</dd>
          </div>
        ))}
      </dl>
    </Card>
  );
}

function Relationships({ ci, canWrite }: { ci: CI; canWrite: boolean }) {
  const [view, setView] = useState<"graph" | "table">("graph");
  const relationships = useRelationships(ci.id);
  return (
    <Card as="section" aria-labelledby="ci-relationships">
      <div className="mb-2 flex items-center justify-between gap-2">
        <h2 id="ci-relationships" className="font-semibold">
          {t("cmdb.detail.relationships")}
        </h2>
        <Field label={t("cmdb.detail.view")}>
          {(p) => (
            <Select {...p} value={view} onChange={(e) => setView(e.target.value as "graph" | "table")}>
              <option value="graph">{t("cmdb.detail.graph")}</option>
              <option value="table">{t("cmdb.detail.table")}</option>
            </Select>
          )}
        </Field>
      </div>
      {relationships.isPending ? <Spinner /> : null}
      {relationships.isError ? <Alert title={t("cmdb.loadFailed")}>{describeError(relationships.error)}</Alert> : null}
      {relationships.data && !relationships.data.length ? <p className="text-fg-muted">{t("cmdb.detail.noRelationships")}</p> : null}
      {relationships.data?.length ? (
        view === "graph" ? (
          <RelationshipGraph ci={ci} relationships={relationships.data} />
        ) : (
          <RelationshipTable ci={ci} relationships={relationships.data} canWrite={canWrite} />
        )
      ) : null}
      {canWrite ? <AddRelationship ci={ci} /> : null}
    </Card>
  );
}

function RelationshipTable({ ci, relationships, canWrite }: { ci: CI; relationships: Relationship[]; canWrite: boolean }) {
  const other = (r: Relationship) => (r.source_id === ci.id ? r.target_id : r.source_id);
  return (
    <table className="w-full text-left" data-testid="relationship-table">
      <caption className="sr-only">{t("cmdb.detail.relationships")}</caption>
      <thead className="text-fg-muted">
        <tr>
          <th scope="col">{t("cmdb.detail.source")}</th>
          <th scope="col">{t("cmdb.detail.type")}</th>
          <th scope="col">{t("cmdb.detail.target")}</th>
          {canWrite ? (
            <th scope="col">
              <span className="sr-only">{t("cmdb.rel.actions")}</span>
            </th>
          ) : null}
        </tr>
      </thead>
      <tbody>
        {relationships.map((r) => (
          <tr key={r.id}>
            <td>{r.source_id === ci.id ? ci.name : <CiLink id={other(r)} />}</td>
            <td>{RELATIONSHIP_LABELS[r.type]}</td>
            <td>{r.target_id === ci.id ? ci.name : <CiLink id={other(r)} />}</td>
            {canWrite ? (
              <td>
                <RemoveRelationship ci={ci} relationship={r} />
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A related CI by name (read once, cached). */
export function CiLink({ id }: { id: string }) {
  const ci = useCi(id);
  return (
    <Link to={`/cmdb/${id}`} className="text-accent-text underline">
      {ci.data?.name ?? id.slice(0, 8)}
    </Link>
  );
}

function Impact({ ci }: { ci: CI }) {
  const [direction, setDirection] = useState<Direction>("up");
  const [depth, setDepth] = useState(5);
  const impact = useImpact(ci.id, direction, depth);
  return (
    <Card as="section" aria-labelledby="ci-impact">
      <h2 id="ci-impact" className="mb-2 font-semibold">
        {t("cmdb.impact.title")}
      </h2>
      <div className="mb-3 flex flex-wrap gap-3">
        <Field label={t("cmdb.impact.direction")}>
          {(p) => (
            <Select {...p} value={direction} onChange={(e) => setDirection(e.target.value as Direction)}>
              <option value="up">{t("cmdb.impact.up")}</option>
              <option value="down">{t("cmdb.impact.down")}</option>
              <option value="both">{t("cmdb.impact.both")}</option>
            </Select>
          )}
        </Field>
        <Field label={t("cmdb.impact.depth")}>
          {(p) => (
            <Select {...p} value={String(depth)} onChange={(e) => setDepth(Number(e.target.value))}>
              {[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </Select>
          )}
        </Field>
      </div>
      {impact.isPending ? <Spinner label={t("cmdb.impact.loading")} /> : null}
      {impact.isError ? <Alert title={t("cmdb.loadFailed")}>{describeError(impact.error)}</Alert> : null}
      {impact.data ? (
        <div data-testid="ci-impact">
          <h3 className="font-medium">{t("cmdb.impact.services")}</h3>
          {impact.data.services.length ? (
            <ul className="mb-2 list-disc pl-5" data-testid="impact-services">
              {impact.data.services.map((s) => (
                <li key={s.ci.id}>
                  <Link to={`/cmdb/${s.ci.id}`} className="text-accent-text underline">
                    {s.ci.name}
                  </Link>{" "}
                  <span className="text-fg-muted">({t("cmdb.impact.hops")} {s.depth})</span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="mb-2 text-fg-muted">{t("cmdb.impact.noServices")}</p>
          )}
          <p className="mb-2">{plural(impact.data.cis.length, { other: "cmdb.impact.reached" })}</p>
          <h3 className="font-medium">{t("cmdb.impact.tickets")}</h3>
          {impact.data.tickets.length ? (
            <ul className="list-disc pl-5">
              {impact.data.tickets.map((ticket) => (
                <li key={`${ticket.id}-${ticket.ci_id}`}>
                  <Link to={`/tickets/${ticket.id}`} className="text-accent-text underline">
                    <span className="font-mono">{ticket.number}</span> {ticket.title}
                  </Link>
                </li>
              ))}
            </ul>
          ) : (
            <p className="text-fg-muted">{t("cmdb.impact.noTickets")}</p>
          )}
        </div>
      ) : null}
    </Card>
  );
}

function History({ ciId }: { ciId: string }) {
  const history = useHistory(ciId);
  return (
    <Card as="section" aria-labelledby="ci-history" className="lg:col-span-2">
      <h2 id="ci-history" className="mb-2 font-semibold">
        {t("cmdb.detail.history")}
      </h2>
      {history.isPending ? <Spinner /> : null}
      {history.data && !history.data.length ? <EmptyState title={t("cmdb.detail.noHistory")} /> : null}
      {history.data?.length ? (
        <table className="w-full text-left" data-testid="ci-history">
          <caption className="sr-only">{t("cmdb.detail.history")}</caption>
          <thead className="text-fg-muted">
            <tr>
              <th scope="col">{t("cmdb.detail.when")}</th>
              <th scope="col">{t("cmdb.detail.field")}</th>
              <th scope="col">{t("cmdb.detail.from")}</th>
              <th scope="col">{t("cmdb.detail.to")}</th>
            </tr>
          </thead>
          <tbody>
            {history.data.map((entry) => (
              <tr key={entry.id}>
                <td>{formatDateTime(entry.at)}</td>
                <td className="font-mono text-sm">{entry.field}</td>
                <td>{shown(entry.old_value)}</td>
                <td>{shown(entry.new_value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Card>
  );
}

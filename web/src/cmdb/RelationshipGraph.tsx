import { t } from "../i18n/cmdb";
import { RELATIONSHIP_LABELS, useCi, type CI, type Relationship } from "./api";

const SIZE = 360;
const CENTRE = SIZE / 2;
const RADIUS = 130;

/** The CI in the middle, its related CIs on a circle, one arrow per relationship (source
 * to target) labelled with its type. A picture for the sighted: the same facts are the
 * table view (and this figure's text alternative lists them). */
export function RelationshipGraph({ ci, relationships }: { ci: CI; relationships: Relationship[] }) {
  const others = [...new Set(relationships.map((r) => (r.source_id === ci.id ? r.target_id : r.source_id)))];
  const at = (index: number) => {
    const angle = (2 * Math.PI * index) / Math.max(others.length, 1) - Math.PI / 2;
    return { x: CENTRE + RADIUS * Math.cos(angle), y: CENTRE + RADIUS * Math.sin(angle) };
  };
  const position = (id: string) => (id === ci.id ? { x: CENTRE, y: CENTRE } : at(others.indexOf(id)));
  return (
    <svg
      viewBox={`0 0 ${SIZE} ${SIZE}`}
      className="h-auto w-full max-w-md text-fg"
      role="img"
      aria-label={t("cmdb.detail.graphLabel", { name: ci.name })}
      data-testid="relationship-graph"
    >
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="22" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="currentColor" />
        </marker>
      </defs>
      {relationships.map((r) => {
        const from = position(r.source_id);
        const to = position(r.target_id);
        return (
          <g key={r.id}>
            <line x1={from.x} y1={from.y} x2={to.x} y2={to.y} stroke="currentColor" strokeWidth="1.5" markerEnd="url(#arrow)" />
            <text x={(from.x + to.x) / 2} y={(from.y + to.y) / 2 - 4} textAnchor="middle" fontSize="11" fill="currentColor">
              {RELATIONSHIP_LABELS[r.type]}
            </text>
          </g>
        );
      })}
      <Node x={CENTRE} y={CENTRE} name={ci.name} strong />
      {others.map((id, index) => (
        <NamedNode key={id} id={id} {...at(index)} />
      ))}
    </svg>
  );
}

function NamedNode({ id, x, y }: { id: string; x: number; y: number }) {
  const other = useCi(id);
  return <Node x={x} y={y} name={other.data?.name ?? id.slice(0, 8)} />;
}

function Node({ x, y, name, strong = false }: { x: number; y: number; name: string; strong?: boolean }) {
  return (
    <g>
      <circle cx={x} cy={y} r="14" className={strong ? "fill-accent" : "fill-surface"} stroke="currentColor" />
      <text x={x} y={y + 28} textAnchor="middle" fontSize="12" fontWeight={strong ? 600 : 400} fill="currentColor">
        {name.length > 22 ? `${name.slice(0, 21)}…` : name}
      </text>
    </g>
  );
}

/** Categories as the API lists them (flat, each with its parent), made into a tree. */
export interface FlatCategory {
  id: string;
  name: string;
  parent_id?: string | null;
  position?: number;
}

export interface CategoryNode<T extends FlatCategory> {
  category: T;
  depth: number;
  children: CategoryNode<T>[];
}

function byPosition<T extends FlatCategory>(a: T, b: T): number {
  return (a.position ?? 0) - (b.position ?? 0) || a.name.localeCompare(b.name);
}

/** Roots first; a category whose parent is not in the list (hidden, or gone) is a root. */
export function buildTree<T extends FlatCategory>(categories: readonly T[]): CategoryNode<T>[] {
  const ids = new Set(categories.map((c) => c.id));
  const children = new Map<string | null, T[]>();
  for (const category of categories) {
    const parent = category.parent_id && ids.has(category.parent_id) ? category.parent_id : null;
    children.set(parent, [...(children.get(parent) ?? []), category]);
  }
  const seen = new Set<string>();
  const grow = (parent: string | null, depth: number): CategoryNode<T>[] =>
    [...(children.get(parent) ?? [])].sort(byPosition).flatMap((category) => {
      // A cycle the server refused anyway must not hang the page.
      if (seen.has(category.id)) return [];
      seen.add(category.id);
      return [{ category, depth, children: grow(category.id, depth + 1) }];
    });
  return grow(null, 0);
}

/** The tree in display order, depth-first: for a <select> with indented names. */
export function flatten<T extends FlatCategory>(nodes: CategoryNode<T>[]): CategoryNode<T>[] {
  return nodes.flatMap((node) => [node, ...flatten(node.children)]);
}

/** The path from a root down to a category, for breadcrumbs. */
export function ancestry<T extends FlatCategory>(categories: readonly T[], id: string | null | undefined): T[] {
  const byId = new Map(categories.map((c) => [c.id, c]));
  const path: T[] = [];
  let current = id ? byId.get(id) : undefined;
  while (current && !path.includes(current)) {
    path.unshift(current);
    current = current.parent_id ? byId.get(current.parent_id) : undefined;
  }
  return path;
}

/**
 * A small layered ("Sugiyama-style") layout for a pipeline's graph, left to right: each step's layer is
 * its longest path from a step with no dependencies, and steps within a layer are ordered by the
 * barycentre of their neighbours (a few sweeps each way) so edges cross less. Written here rather
 * than pulling in dagre/elkjs (60-500 kB): pipelines have at most 200 steps and a handful of layers.
 */

export interface ILayoutEdge {
  source: string;
  target: string;
}

export interface ILayoutNode {
  id: string;
  layer: number;
  /** Place within the layer, from the top. */
  order: number;
  x: number;
  y: number;
}

export interface ILayout {
  nodes: Map<string, ILayoutNode>;
  width: number;
  height: number;
  layers: string[][];
}

export interface ILayoutSizes {
  nodeWidth: number;
  nodeHeight: number;
  gapX: number;
  gapY: number;
  margin: number;
}

export const DEFAULT_SIZES: ILayoutSizes = {
  nodeWidth: 200,
  nodeHeight: 84,
  gapX: 72,
  gapY: 24,
  margin: 16
};

const SWEEPS = 4;

/** Each node's layer: 0 for a node nothing points at, else one more than its deepest predecessor. */
export function assignLayers(ids: string[], edges: ILayoutEdge[]): Map<string, number> {
  const known = new Set(ids);
  const preds = new Map<string, string[]>(ids.map(id => [id, []]));
  for (const e of edges) {
    if (known.has(e.source) && known.has(e.target) && e.source !== e.target) {
      preds.get(e.target)!.push(e.source);
    }
  }
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const done = layer.get(id);
    if (done !== undefined) {
      return done;
    }
    if (visiting.has(id)) {
      return 0; // a cycle (the server refuses them): break it here rather than loop
    }
    visiting.add(id);
    let depth = 0;
    for (const p of preds.get(id)!) {
      depth = Math.max(depth, visit(p) + 1);
    }
    visiting.delete(id);
    layer.set(id, depth);
    return depth;
  };
  ids.forEach(visit);
  return layer;
}

function barycentre(
  id: string,
  neighbours: Map<string, string[]>,
  pos: Map<string, number>
): number {
  const around = (neighbours.get(id) ?? []).filter(n => pos.has(n));
  if (around.length === 0) {
    return pos.get(id) ?? 0;
  }
  return around.reduce((sum, n) => sum + pos.get(n)!, 0) / around.length;
}

/** Lay the nodes out left to right; `ids` in a topological order keeps the first ordering stable. */
export function layeredLayout(
  ids: string[],
  edges: ILayoutEdge[],
  sizes: ILayoutSizes = DEFAULT_SIZES
): ILayout {
  const layerOf = assignLayers(ids, edges);
  const count = ids.length ? Math.max(...ids.map(id => layerOf.get(id)!)) + 1 : 0;
  const layers: string[][] = Array.from({ length: count }, () => []);
  ids.forEach(id => layers[layerOf.get(id)!].push(id));

  const preds = new Map<string, string[]>();
  const succs = new Map<string, string[]>();
  for (const e of edges) {
    if (layerOf.has(e.source) && layerOf.has(e.target)) {
      preds.set(e.target, [...(preds.get(e.target) ?? []), e.source]);
      succs.set(e.source, [...(succs.get(e.source) ?? []), e.target]);
    }
  }
  const pos = new Map<string, number>();
  const place = () => layers.forEach(l => l.forEach((id, i) => pos.set(id, i)));
  place();
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    const down = sweep % 2 === 0;
    const sequence = down ? layers.slice(1) : layers.slice(0, -1).reverse();
    for (const layer of sequence) {
      const key = new Map(layer.map(id => [id, barycentre(id, down ? preds : succs, pos)]));
      // Stable: ties keep their order.
      layer.sort((a, b) => key.get(a)! - key.get(b)!);
      layer.forEach((id, i) => pos.set(id, i));
    }
  }

  const tallest = Math.max(0, ...layers.map(l => l.length));
  const rowHeight = sizes.nodeHeight + sizes.gapY;
  const nodes = new Map<string, ILayoutNode>();
  layers.forEach((layer, li) => {
    // Centre each layer against the tallest one.
    const offset = ((tallest - layer.length) * rowHeight) / 2;
    layer.forEach((id, order) => {
      nodes.set(id, {
        id,
        layer: li,
        order,
        x: sizes.margin + li * (sizes.nodeWidth + sizes.gapX),
        y: sizes.margin + offset + order * rowHeight
      });
    });
  });
  return {
    nodes,
    layers,
    width: count ? 2 * sizes.margin + count * sizes.nodeWidth + (count - 1) * sizes.gapX : 0,
    height: tallest ? 2 * sizes.margin + tallest * sizes.nodeHeight + (tallest - 1) * sizes.gapY : 0
  };
}

/** An edge's SVG path: from the right of its source to the left of its target, as a smooth curve. */
export function edgePath(
  from: ILayoutNode,
  to: ILayoutNode,
  sizes: ILayoutSizes = DEFAULT_SIZES
): string {
  const x1 = from.x + sizes.nodeWidth;
  const y1 = from.y + sizes.nodeHeight / 2;
  const x2 = to.x;
  const y2 = to.y + sizes.nodeHeight / 2;
  const bend = Math.max(24, (x2 - x1) / 2);
  return `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`;
}

/** Registered assets with versions (models, environments), grouped by name. */
/** The versions of one registered name (a model, an environment), newest first. */
export interface IVersionGroup<T> {
  name: string;
  /** Newest first. */
  versions: T[];
}

/** Versions grouped by name, names in order, versions newest first (models and environments). */
export function groupVersions<T extends { name: string; version: number }>(
  items: T[]
): IVersionGroup<T>[] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const list = groups.get(item.name);
    if (list) {
      list.push(item);
    } else {
      groups.set(item.name, [item]);
    }
  }
  return Array.from(groups.entries())
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, versions]) => ({
      name,
      versions: versions.sort((a, b) => b.version - a.version)
    }));
}

/** Which model versions the Models section's filter keeps, and the SDK line for one version. */
import { IModel } from '../../api';

/**
 * Whether a version matches the filter text: part of its name, or of a tag's key or value;
 * `key=value` matches tags from the start (`stage=prod` finds `stage=production`).
 */
export function matchesFilter(model: IModel, text: string): boolean {
  const query = text.trim().toLowerCase();
  if (!query) {
    return true;
  }
  if (model.name.toLowerCase().includes(query)) {
    return true;
  }
  return Object.entries(model.tags ?? {}).some(([key, value]) => {
    if (query.includes('=')) {
      return `${key}=${value}`.toLowerCase().startsWith(query);
    }
    return key.toLowerCase().includes(query) || String(value).toLowerCase().includes(query);
  });
}

/** The SDK line that gets this version back, e.g. `Model(ws, "digits", version=3)`. */
export function modelSnippet(model: Pick<IModel, 'name' | 'version'>): string {
  return `Model(ws, ${JSON.stringify(model.name)}, version=${model.version})`;
}

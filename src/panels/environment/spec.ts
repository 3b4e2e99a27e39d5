/** A registered environment's definition, its SDK snippet, and the state of a build of it. */
import { IEnvironmentBuild, IEnvironmentDefinition, IRegisteredEnvironment } from '../../api';
import { AMLRequestError } from '../../request';

/** A build started from the Environments section: running, or its outcome. */
export type IBuildState =
  | { status: 'running'; started: number }
  | { status: 'built'; result: IEnvironmentBuild }
  | { status: 'failed'; error: unknown };

/** The registered definition of a version (the server stores what was registered, plus `version`). */
export function environmentSpec(env: IRegisteredEnvironment): IEnvironmentDefinition {
  return env.spec;
}

/** The SDK line that gets this version back, e.g. `Environment.get(ws, "sklearn", version="2")`. */
export function environmentSnippet(env: Pick<IRegisteredEnvironment, 'name' | 'version'>): string {
  return `Environment.get(ws, ${JSON.stringify(env.name)}, version="${env.version}")`;
}

/** The build log lines a failed build's error carries (`details.log`), if any. */
export function failedBuildLog(error: unknown): string[] {
  if (error instanceof AMLRequestError) {
    const log = (error.details as { log?: unknown } | null | undefined)?.log;
    if (Array.isArray(log)) {
      return log.map(line => String(line));
    }
  }
  return [];
}

import type { TestProject } from 'vitest/node';

/** Placeholder: starts the telegram test server and provides its bindings (filled in with the telegram channel). */
export default async function setup(project: TestProject) {
  project.provide('telegramBindings' as never, {} as never);
}

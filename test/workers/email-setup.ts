import type { TestProject } from 'vitest/node';

/** Placeholder: starts the email test server and provides its bindings (filled in with the email channel). */
export default async function setup(project: TestProject) {
  project.provide('emailBindings' as never, {} as never);
}

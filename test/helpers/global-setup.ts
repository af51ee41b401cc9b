import type {TestProject} from 'vitest/node';
import {startSandbox, type SandboxInfo} from './sandbox.ts';

declare module 'vitest' {
	export interface ProvidedContext {
		sandbox: SandboxInfo;
	}
}

/** Start the sandbox once for every end-to-end test file; stop it when they are done. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
	const sandbox = await startSandbox();
	project.provide('sandbox', sandbox.info);
	return async () => sandbox.stop();
}

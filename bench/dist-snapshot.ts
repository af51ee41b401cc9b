import {cp, readFile, readdir, rm, stat} from 'node:fs/promises';
import {join, resolve} from 'node:path';
import {must} from '../test/helpers/process.ts';

const dist = resolve(import.meta.dirname, '../dist');

/** The chunks a bundle file imports, statically or dynamically, that are missing beside it. */
async function missingImports(directory: string): Promise<string[]> {
	const files = (await readdir(directory)).filter(name => name.endsWith('.js'));
	const present = new Set(files);
	const missing: string[] = [];
	for (const file of files) {
		const text = await readFile(join(directory, file), 'utf8');
		for (const match of text.matchAll(/(?:from|import)\s*\(?\s*["']\.\/([^"']+\.js)["']/g)) {
			if (!present.has(match[1]!)) {
				missing.push(`${file} -> ${match[1]!}`);
			}
		}
	}

	return missing;
}

/**
 * A private, complete copy of dist/ for the whole run. Other work in the same tree rebuilds dist/
 * (the build empties it first), which would break a measurement halfway or mix two builds in one run.
 * Builds when dist/ is missing or incomplete; returns the copy's updock.js and when it was built.
 */
export async function snapshotDist(target: string, say: (text: string) => void): Promise<{bin: string; builtAt: Date; built: boolean}> {
	let built = false;
	for (let attempt = 1; ; attempt++) {
		await rm(target, {recursive: true, force: true});
		const before = await stat(join(dist, 'updock.js')).catch(() => undefined);
		if (before !== undefined) {
			await cp(dist, target, {recursive: true}).catch(() => undefined);
			const after = await stat(join(dist, 'updock.js')).catch(() => undefined);
			const copied = await stat(join(target, 'updock.js')).catch(() => undefined);
			if (copied !== undefined && after?.mtimeMs === before.mtimeMs && (await missingImports(target)).length === 0) {
				return {bin: join(target, 'updock.js'), builtAt: before.mtime, built};
			}
		}

		if (attempt === 4) {
			throw new Error(`could not copy a complete dist/ after ${attempt} tries (something keeps rebuilding it)`);
		}

		say('dist/ is missing or being rebuilt: building it');
		await new Promise(done => setTimeout(done, 2000 * attempt));
		await must('npm', ['run', 'build'], {timeoutMs: 300_000});
		built = true;
	}
}

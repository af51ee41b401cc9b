/**
 * Build dist/: one ESM bundle for the headless path (dist/updock.js and its chunks) and a separate
 * chunk for the live view, loaded only when it opens. Bundling saves start-up time (one file to
 * resolve and compile instead of hundreds); the type check is `npm run typecheck`.
 */
import {chmod, readFile, rm, writeFile} from 'node:fs/promises';
import {build} from 'esbuild';

await rm('dist', {recursive: true, force: true});
await build({
	entryPoints: ['source/updock.ts'],
	outdir: 'dist',
	bundle: true,
	splitting: true,
	format: 'esm',
	platform: 'node',
	target: 'node22',
	minifySyntax: true,
	minifyWhitespace: true,
	sourcemap: 'linked',
	// Licence comments go to files of their own beside the chunks: one of them (a name with an umlaut) in
	// a chunk made V8 keep that chunk's 1.5 MB of source at two bytes a character.
	legalComments: 'linked',
	charset: 'ascii',
	// React's production build: its development build is slower and larger in memory.
	// CommonJS in the bundle that looks for files beside itself (ssh2's WebAssembly loader) gets the
	// chunk's own directory; a module that declares these names itself keeps its own.
	define: {'process.env.NODE_ENV': '"production"', __dirname: 'import.meta.dirname', __filename: 'import.meta.filename'},
	// Ink imports React's devtools only when DEV=true; it is not a dependency. ssh2 (in the chunk loaded
	// only for ssh:// engines) tries its optional native parts in a try/catch and falls back to
	// JavaScript: left out of the bundle, they load from node_modules when installed.
	external: ['react-devtools-core', 'cpu-features', '*.node'],
	// Bundled CommonJS (undici, meow's parts) calls require() for Node's own modules.
	banner: {js: 'import {createRequire as __updockCreateRequire} from "node:module"; const require = __updockCreateRequire(import.meta.url);'},
	logLevel: 'warning',
});

/**
 * V8 flags for every run of the executable. V8 sizes its young generation once, at start-up, so a flag
 * set later from code is not reliable. `--max-semi-space-size=1` (MB): at the default the young
 * generation of a live view scanning 2,000 containers grew to 134 MB of mostly garbage, half its RSS;
 * at 1 MB the peak went from 423 MB to 203 MB for 1.6 times the CPU and no start-up cost.
 * `--optimize-for-size` went lower (182 MB) but cost 30-75 ms of start-up and 2.8 times the CPU.
 * Measured with `npm run bench -- --parts live --live-variants 'exec;node --optimize-for-size'`.
 * `--memory-saver-mode` is not here: it is turned on from code where updock holds much (the live view,
 * serve, a listing of thousands), and costs CPU everywhere else (source/memory-mode.ts).
 */
const nodeFlags = '--max-semi-space-size=1';
/**
 * glibc's malloc gives each thread that allocates an arena of its own, up to 8 per core, and returns
 * little of them: V8's compiler and GC threads left 26 MB of a live view's RSS in arenas. Two are
 * enough for node's few threads: the scanning live view peaked at 152 MB instead of 172 MB, with no
 * measurable CPU cost. A value the user set is kept; musl (Alpine) ignores it.
 */
const environment = 'MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}';
// `#!/usr/bin/env -S node FLAGS` is refused by BusyBox's env (Alpine's): the file starts as a shell
// script instead, and the shell's line is a comment to JavaScript. `node dist/updock.js` runs without the flags.
const launcher = `#!/bin/sh\n":" //; ${environment} exec node ${nodeFlags} "$0" "$@"\n`;
const entry = await readFile('dist/updock.js', 'utf8');
await writeFile('dist/updock.js', launcher + entry.replace(/^#![^\n]*\n/, ''));
// One line more above the code: its source map says so, or every position in it is a line off.
const map: unknown = JSON.parse(await readFile('dist/updock.js.map', 'utf8'));
if (typeof map === 'object' && map !== null && 'mappings' in map && typeof map.mappings === 'string') {
	await writeFile('dist/updock.js.map', JSON.stringify({...map, mappings: `;${map.mappings}`}));
}

await chmod('dist/updock.js', 0o755);

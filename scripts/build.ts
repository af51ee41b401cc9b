/**
 * Build dist/: one ESM bundle for the headless path (dist/updock.js and its chunks) and a separate
 * chunk for the live view, loaded only when it opens. Bundling saves start-up time (one file to
 * resolve and compile instead of hundreds); the type check is `npm run typecheck`.
 */
import {chmod, rm} from 'node:fs/promises';
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
await chmod('dist/updock.js', 0o755);

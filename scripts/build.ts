/**
 * Build dist/: one ESM bundle for the headless path (dist/updock.js and its chunks) and a separate
 * chunk for the live view, loaded only when it opens. Bundling saves start-up time (one file to
 * resolve and compile instead of hundreds); the type check is `npm run typecheck`.
 */
import {chmod, readFile, rm} from 'node:fs/promises';
import {resolve} from 'node:path';
import {build, type Plugin} from 'esbuild';

/**
 * meow's bundled dependencies normalise package.json data at import: `normalize-package-data` and its
 * SPDX license tables run on every start (about 12 ms, measured with --cpu-prof) although updock hands
 * meow its name and version and never asks for the normalised package. Make that one call lazy. If
 * meow's build changes shape, the build fails here rather than quietly losing the saving.
 */
const lazyMeowNormalize: Plugin = {
	name: 'lazy-meow-normalize',
	setup(context) {
		context.onLoad({filter: /meow[/\\]build[/\\]dependencies\.js$/}, async arguments_ => {
			const source = await readFile(arguments_.path, 'utf8');
			const eager = 'var normalizeExports = requireNormalize();\nconst normalizePackageData = getDefaultExportFromCjs(normalizeExports);';
			if (!source.includes(eager)) {
				throw new Error(`${arguments_.path} no longer has the eager normalize-package-data call; update scripts/build.ts.`);
			}

			return {contents: source.replace(eager, 'const normalizePackageData = (...parameters) => getDefaultExportFromCjs(requireNormalize())(...parameters);'), loader: 'js'};
		});
	},
};

/** `undici` resolves to scripts/undici-slim.cjs in the bundle (see there why). */
const slimUndici: Plugin = {
	name: 'slim-undici',
	setup(context) {
		context.onResolve({filter: /^undici$/}, () => ({path: resolve(import.meta.dirname, 'undici-slim.cjs')}));
	},
};

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
	define: {'process.env.NODE_ENV': '"production"'},
	// Ink imports React's devtools only when DEV=true; it is not a dependency.
	external: ['react-devtools-core'],
	// Bundled CommonJS (undici, meow's parts) calls require() for Node's own modules.
	banner: {js: 'import {createRequire as __updockCreateRequire} from "node:module"; const require = __updockCreateRequire(import.meta.url);'},
	logLevel: 'warning',
	plugins: [slimUndici, lazyMeowNormalize],
});
await chmod('dist/updock.js', 0o755);

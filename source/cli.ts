#!/usr/bin/env node
import meow from 'meow';
import packageJson from '../package.json' with {type: 'json'};
import {parseConfig, type Config} from './config.ts';
import {ConfigError, DockerUnavailableError, InvalidReferenceError, RegistryError, StoreError} from './core/errors.ts';
import {runCommand} from './commands.ts';
import {safeTerminalText} from './core/terminal-text.ts';
import {isRegularFile, OutputError, writeChunks, writeChunksToFile} from './report/write-chunks.ts';

const help = `
  Which of my containers run an image that is no longer the newest for its tag?

  Usage
    $ updock                                 the live view (on a terminal; otherwise like --once)
    $ updock --once [--json] [--exit-code]   scan every container once and print the result
    $ updock dry-run [--json]                what a scan would check, without contacting any registry
    $ updock pin <container>                 never check this container (by name; survives re-creation)
    $ updock unpin <container>
    $ updock pins [--json]
    $ updock exclude add <pattern>           never check images matching a glob, e.g. "ghcr.io/acme/*"
    $ updock exclude list [--json]
    $ updock exclude rm <id|pattern>
    $ updock host add NAME ADDRESS [--tls-verify --cert-path DIR]   save an engine to scan
    $ updock host list [--json]
    $ updock host rm NAME
    $ updock serve [--listen ADDR] [--notify URL]...   a service: scans on the interval, an HTTP API, notifications

  Options
    --once             Scan once and exit (what updock does when its output is not a terminal)
    --json             Print JSON instead of a table
    --exit-code        With --once: exit 2 when an update is available;
                       --exit-code=newer also when a newer version is
    --tags on|off      Look for newer versions of version tags [$UPDOCK_TAGS, default: on]
    --tags-interval <d> How long the live view and serve reuse a tag listing [default: 6h]
    --vulns on|off     Known vulnerabilities from OSV; sends package names and versions to
                       $UPDOCK_OSV_URL (default https://api.osv.dev) [$UPDOCK_VULNS, default: off]
    --db <file>        updock's JSON file (pins, exclusions, last results)   [$UPDOCK_DB]
                       default: $XDG_CONFIG_HOME/updock/updock.json
    --concurrency <n>  Registry requests in flight per registry (1-64)        [default: 8]
    --timeout <d>      Timeout of one request, as a Go duration               [default: 15s]
    --interval <d>     Time between scans of the live view, as a Go duration  [$UPDOCK_UPDATE_INTERVAL, default: 6h]
    --certs-dir <dir>  Registry CAs and client certificates, laid out as Docker's [$UPDOCK_CERTS_DIR]
                       default: /etc/docker/certs.d (<host[:port]>/ca.crt, client.cert, client.key)
    --host NAME=ADDR   An engine to scan (repeatable): unix:///path, tcp://host:port, ssh://user@host
    --context NAME     A docker context to scan (repeatable)
                       Without --host/--context: the saved hosts, else DOCKER_HOST or the current context
    --listen <addr>    serve: host:port or unix:///path            [$UPDOCK_LISTEN, default: 127.0.0.1:8080]
                       any address but loopback needs $UPDOCK_API_TOKEN or --api-token-file
    --notify <url>     serve: https://... webhook or ntfy://[user:pass@]host/topic (repeatable) [$UPDOCK_NOTIFY]
    --api-token-file <file>  serve: file holding the API's bearer token   [$UPDOCK_API_TOKEN]
    --log-level <l>    serve: fatal, error, warn, info, debug or trace  [default: info]

  Environment
    DOCKER_HOST        The engine: unix:///var/run/docker.sock (default), tcp://host:port, ssh://user@host
    DOCKER_TLS_VERIFY, DOCKER_CERT_PATH   TLS for a tcp:// engine (ca.pem, cert.pem, key.pem)
    DOCKER_CONTEXT     A docker context to use instead of the current one
    DOCKER_CONFIG      Directory of config.json with registry credentials (default: ~/.docker)
    DOCKER_AUTH_CONFIG A Docker config as JSON, looked at before config.json
    NO_COLOR           Plain text, no colour
    UPDOCK_WEBHOOK_SECRET  serve: sign webhook bodies (X-Updock-Signature: sha256=<HMAC>)

  Exit status
    0  scan done, nothing wrong          2  --exit-code given and an update is available
    1  the scan could not run, or a container's check failed
    64 usage error (unknown flag, bad value)
`;

const knownFlags = new Set(['once', 'json', 'exitCode', 'exit-code', 'db', 'concurrency', 'timeout', 'interval', 'certsDir', 'certs-dir', 'host', 'context', 'tlsVerify', 'tls-verify', 'certPath', 'cert-path', 'tags', 'tagsInterval', 'tags-interval', 'vulns', 'listen', 'notify', 'logLevel', 'log-level', 'apiTokenFile', 'api-token-file', 'help', 'version']);

async function main(): Promise<number> {
	const cli = meow(help, {
		importMeta: import.meta,
		// Given, so meow neither searches for package.json nor normalises it (its license check alone costs ~15 ms).
		pkg: {name: packageJson.name, version: packageJson.version},
		allowUnknownFlags: true,
		flags: {
			once: {type: 'boolean', default: false},
			json: {type: 'boolean', default: false},
			// A string, so that --exit-code=newer can be told from --exit-code.
			exitCode: {type: 'string'},
			db: {type: 'string'},
			concurrency: {type: 'string'},
			timeout: {type: 'string'},
			interval: {type: 'string'},
			certsDir: {type: 'string'},
			host: {type: 'string', isMultiple: true},
			context: {type: 'string', isMultiple: true},
			tlsVerify: {type: 'boolean'},
			certPath: {type: 'string'},
			tags: {type: 'string'},
			tagsInterval: {type: 'string'},
			vulns: {type: 'string'},
			listen: {type: 'string'},
			notify: {type: 'string', isMultiple: true},
			logLevel: {type: 'string'},
			apiTokenFile: {type: 'string'},
		},
	});

	let config: Config;
	try {
		config = parseConfig({
			input: cli.input,
			flags: {...cli.flags, exitCode: cli.flags.exitCode ?? false},
			unknownFlags: Object.keys(cli.unnormalizedFlags).filter(flag => !knownFlags.has(flag)).map(flag => `--${flag}`),
		}, process.env, process.stdout.isTTY === true);
	} catch (error) {
		if (error instanceof ConfigError) {
			process.stderr.write(`updock: ${safeTerminalText(error.message)}\n`);
			return 64;
		}

		throw error;
	}

	try {
		if (config.command.kind === 'serve') {
			// Loaded only here: the headless path never loads Fastify, pino or prom-client.
			const {runServe} = await import('./serve.ts');
			return await runServe(config);
		}

		if (config.command.kind === 'scan' && config.command.live && process.stdout.isTTY && process.stdin.isTTY) {
			// Loaded only here: the headless path never pays for Ink and React.
			const {runTui} = await import('./tui.tsx');
			return await runTui(config);
		}

		return await runCommand(config, {
			out: text => process.stdout.write(`${text}\n`),
			// Into a file (`> scan.json`), strings go to the file as they are; into a pipe or terminal, through the stream.
			outChunks: async chunks => isRegularFile(1) ? writeChunksToFile(1, chunks) : writeChunks(process.stdout, chunks),
			err: text => process.stderr.write(`${safeTerminalText(text)}\n`),
			width: process.stdout.isTTY ? process.stdout.columns : undefined,
		});
	} catch (error) {
		if (error instanceof ConfigError || error instanceof InvalidReferenceError) {
			process.stderr.write(`updock: ${safeTerminalText(error.message)}\n`);
			return 64;
		}

		if (error instanceof DockerUnavailableError || error instanceof StoreError || error instanceof RegistryError || error instanceof OutputError) {
			process.stderr.write(`updock: ${safeTerminalText(error.message)}\n`);
			return 1;
		}

		process.stderr.write(`updock: internal error, please report it: ${(error instanceof Error ? error.stack ?? error.message : String(error)).split('\n').map(line => safeTerminalText(line)).join('\n')}\n`);
		return 1;
	}
}

process.exitCode = await main();

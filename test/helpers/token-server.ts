import {createSign, randomUUID, X509Certificate} from 'node:crypto';
import {once} from 'node:events';
import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';

export interface TokenRequest {
	readonly method: string;
	readonly scopes: readonly string[];
	readonly service: string | null;
	/** The user that authenticated, null for anonymous, `!invalid` for wrong credentials. */
	readonly user: string | null;
	readonly granted: boolean;
}

export interface TokenServer {
	readonly url: string;
	readonly service: string;
	readonly issuer: string;
	close(): Promise<void>;
}

/**
 * A Docker-style token server (the Docker Hub / GHCR flow) for a distribution registry configured with
 * `auth.token`: Basic credentials in, a JWT signed with the test's key (certificate in `x5c`) out.
 * Anonymous callers get a token with no access, as Docker Hub does for private repositories.
 * `GET /_requests` returns what it was asked, for tests to count.
 */
export async function startTokenServer(options: {keyPem: string; certPem: string; users: Record<string, string>; expiresIn?: number}): Promise<TokenServer> {
	const service = 'updock-sandbox';
	const issuer = 'updock-sandbox-issuer';
	const certificate = new X509Certificate(options.certPem);
	const x5c = certificate.raw.toString('base64');
	const requests: TokenRequest[] = [];
	const base64url = (value: Buffer | string): string => Buffer.from(value).toString('base64url');

	const server: Server = createServer((request, response) => {
		const url = new URL(request.url ?? '/', 'http://localhost');
		if (url.pathname === '/_requests') {
			response.setHeader('content-type', 'application/json');
			response.end(JSON.stringify(requests));
			return;
		}

		if (url.pathname !== '/token') {
			response.statusCode = 404;
			response.end();
			return;
		}

		let user: string | null = null;
		const authorization = request.headers.authorization;
		if (authorization?.startsWith('Basic ')) {
			const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
			const colon = decoded.indexOf(':');
			const name = decoded.slice(0, colon);
			user = colon > 0 && options.users[name] === decoded.slice(colon + 1) ? name : '!invalid';
		}

		const scopes = url.searchParams.getAll('scope');
		if (user === '!invalid') {
			requests.push({method: request.method ?? 'GET', scopes, service: url.searchParams.get('service'), user, granted: false});
			response.statusCode = 401;
			response.setHeader('content-type', 'application/json');
			response.end(JSON.stringify({details: 'incorrect username or password'}));
			return;
		}

		const access = user === null ? [] : scopes.flatMap(scope => {
			const [type, name, actions] = scope.split(':');
			return type === 'repository' && name !== undefined && actions !== undefined ? [{type, name, actions: actions.split(',')}] : [];
		});
		const now = Math.floor(Date.now() / 1000);
		const expiresIn = options.expiresIn ?? 300;
		const header = base64url(JSON.stringify({typ: 'JWT', alg: 'RS256', x5c: [x5c]}));
		const claims = base64url(JSON.stringify({iss: issuer, sub: user ?? '', aud: url.searchParams.get('service') ?? service, exp: now + expiresIn, nbf: now - 10, iat: now, jti: randomUUID(), access}));
		const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(options.keyPem);
		const token = `${header}.${claims}.${base64url(signature)}`;
		requests.push({method: request.method ?? 'GET', scopes, service: url.searchParams.get('service'), user, granted: access.length > 0});
		response.setHeader('content-type', 'application/json');
		response.end(JSON.stringify({token, access_token: token, expires_in: expiresIn, issued_at: new Date(now * 1000).toISOString()}));
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const {port} = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		service,
		issuer,
		async close() {
			server.closeAllConnections();
			server.close();
			await once(server, 'close');
		},
	};
}

